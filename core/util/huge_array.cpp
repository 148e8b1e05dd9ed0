#include "core/util/huge_array.h"

#include <sys/mman.h>

#include <cstdint>
#include <new>

namespace moe {

namespace {
constexpr size_t kHuge = size_t{2} << 20;
}

HugeBytes::HugeBytes(size_t bytes) {
  if (bytes == 0) return;
  // Slack of one huge page so that a 2 MiB-aligned start exists inside the mapping.
  const size_t map_bytes = bytes + kHuge;
  void* m = ::mmap(nullptr, map_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) throw std::bad_alloc();
  const auto start = (reinterpret_cast<uintptr_t>(m) + kHuge - 1) & ~uintptr_t{kHuge - 1};
  map_ = m;
  map_bytes_ = map_bytes;
  data_ = reinterpret_cast<void*>(start);
  bytes_ = bytes;
  // Advice only: fails harmlessly on kernels without THP.
  (void)::madvise(data_, bytes_, MADV_HUGEPAGE);
}

HugeBytes::~HugeBytes() {
  if (map_ != nullptr) ::munmap(map_, map_bytes_);
}

}  // namespace moe
