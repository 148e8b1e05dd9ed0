#pragma once
// The CUDA device memory manager (CUDA builds only; host code over the runtime API): one
// device with a compute stream and a copy stream, device buffers charged to an explicit budget
// by category (resident weights, expert cache, KV, scratch: the VramPlan), pinned host staging
// buffers, and events to order the streams. Every failing runtime call throws CudaError; the
// owners catch it at the library boundary.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/cuda/kernels.h"

struct CUevent_st;

namespace moe::cuda {

enum class VramUse : uint8_t { kResident, kExperts, kKv, kScratch };

/// Owns cudaMalloc'd bytes; freed on destruction.
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  DeviceBuffer(DeviceBuffer&& o) noexcept;
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept;
  ~DeviceBuffer();
  void* get() const { return p_; }
  template <class T>
  T* as() const {
    return static_cast<T*>(p_);
  }
  size_t bytes() const { return bytes_; }

 private:
  friend class Device;
  void* p_ = nullptr;
  size_t bytes_ = 0;
};

/// Page-locked host memory (cudaMallocHost): the source of asynchronous uploads.
class PinnedBuffer {
 public:
  explicit PinnedBuffer(size_t bytes);
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;
  ~PinnedBuffer();
  uint8_t* data() const { return p_; }
  size_t bytes() const { return bytes_; }

 private:
  uint8_t* p_ = nullptr;
  size_t bytes_ = 0;
};

/// A cudaEvent (timing enabled: uploads and layers are timed with them).
class Event {
 public:
  Event();
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  ~Event();
  void record(Stream s);
  void wait_on(Stream s) const;  ///< s waits for this event (cudaStreamWaitEvent)
  void synchronize() const;
  /// Milliseconds from `start` to this event (both recorded and complete).
  float ms_since(const Event& start) const;

 private:
  CUevent_st* e_ = nullptr;
};

class Device {
 public:
  /// Selects device `index`, creates the two streams; `budget` bytes may be allocated.
  Device(int index, uint64_t budget);
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;
  ~Device();

  /// cudaMalloc of `bytes` charged to `use`; throws CudaError past the budget.
  DeviceBuffer alloc(VramUse use, size_t bytes);
  uint64_t used(VramUse use) const { return used_[static_cast<int>(use)]; }
  uint64_t used_total() const;
  uint64_t budget() const { return budget_; }

  Stream compute() const { return compute_; }
  Stream copy() const { return copy_; }
  const std::string& name() const { return name_; }
  int index() const { return index_; }

 private:
  int index_;
  uint64_t budget_;
  uint64_t used_[4] = {};
  std::string name_;
  Stream compute_ = nullptr, copy_ = nullptr;
};

}  // namespace moe::cuda
