#include "core/store/expert_store.h"

#include <unistd.h>

namespace moe {

StoreCounters AtomicStoreCounters::load() const {
  constexpr auto r = std::memory_order_relaxed;
  return {acquires.load(r), releases.load(r),       hits.load(r),
          misses.load(r),   prefetch_hints.load(r), bytes_loaded.load(r)};
}

Status ExpertStore::acquire_many(int layer, std::span<const int32_t> experts,
                                 std::span<ExpertView> out) {
  for (size_t i = 0; i < experts.size(); ++i) {
    if (Status s = acquire(layer, experts[i], out[i]); !s.ok()) {
      for (size_t j = 0; j < i; ++j) release(layer, experts[j]);
      return s;
    }
  }
  return {};
}

bool touch_pages(const uint8_t* data, uint64_t bytes, uint64_t& done,
                 const WarmProgress& progress) {
  const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  constexpr uint64_t kReportEvery = 64u << 20;
  volatile uint8_t sink = 0;
  uint64_t since_report = 0;
  for (uint64_t off = 0; off < bytes; off += page) {
    sink = static_cast<uint8_t>(sink + data[off]);
    since_report += page;
    if (since_report >= kReportEvery) {
      done += since_report;
      since_report = 0;
      if (progress && !progress(done)) return false;
    }
  }
  (void)sink;
  done += since_report;
  return !progress || progress(done);
}

}  // namespace moe
