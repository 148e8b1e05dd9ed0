#pragma once
// A zero-initialised array of trivially copyable T in anonymous memory that asks the kernel for
// transparent huge pages (madvise MADV_HUGEPAGE on a 2 MiB-aligned range). For large buffers
// walked with a stride, such as the KV cache (one row of a head every n_kv_dim values): in 4 KiB
// pages every fourth row of a walk is a TLB miss that software prefetches do not hide.
// Where huge pages are unavailable the memory is ordinary pages; nothing else changes.
#include <cstddef>
#include <type_traits>
#include <utility>

namespace moe {

class HugeBytes {
 public:
  HugeBytes() = default;
  explicit HugeBytes(size_t bytes);  ///< throws std::bad_alloc when the memory is not there
  ~HugeBytes();
  HugeBytes(HugeBytes&& o) noexcept { swap(o); }
  HugeBytes& operator=(HugeBytes&& o) noexcept {
    HugeBytes tmp(std::move(o));
    swap(tmp);
    return *this;
  }
  HugeBytes(const HugeBytes&) = delete;
  HugeBytes& operator=(const HugeBytes&) = delete;

  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }

 private:
  void swap(HugeBytes& o) noexcept {
    std::swap(map_, o.map_);
    std::swap(map_bytes_, o.map_bytes_);
    std::swap(data_, o.data_);
    std::swap(bytes_, o.bytes_);
  }
  void* map_ = nullptr;  // the whole mapping (with alignment slack)
  size_t map_bytes_ = 0;
  void* data_ = nullptr;  // 2 MiB-aligned start
  size_t bytes_ = 0;
};

template <class T>
class HugeArray {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  HugeArray() = default;
  explicit HugeArray(size_t n) : mem_(n * sizeof(T)), n_(n) {}
  HugeArray(HugeArray&& o) noexcept : mem_(std::move(o.mem_)), n_(std::exchange(o.n_, 0)) {}
  HugeArray& operator=(HugeArray&& o) noexcept {
    mem_ = std::move(o.mem_);
    n_ = std::exchange(o.n_, 0);
    return *this;
  }
  T* data() { return static_cast<T*>(mem_.data()); }
  const T* data() const { return static_cast<const T*>(mem_.data()); }
  size_t size() const { return n_; }

 private:
  HugeBytes mem_;
  size_t n_ = 0;
};

}  // namespace moe
