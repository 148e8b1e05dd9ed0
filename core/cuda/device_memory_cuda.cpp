#include <cuda_runtime.h>

#include "core/cuda/cuda_error.h"
#include "core/cuda/device_memory.h"
#include "core/util/regular_file.h"

namespace moe::cuda {

DeviceBuffer::DeviceBuffer(DeviceBuffer&& o) noexcept : p_(o.p_), bytes_(o.bytes_) {
  o.p_ = nullptr;
  o.bytes_ = 0;
}

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& o) noexcept {
  if (this != &o) {
    if (p_) cudaFree(p_);
    p_ = o.p_;
    bytes_ = o.bytes_;
    o.p_ = nullptr;
    o.bytes_ = 0;
  }
  return *this;
}

DeviceBuffer::~DeviceBuffer() {
  if (p_) cudaFree(p_);  // errors at teardown have no one left to report to
}

PinnedBuffer::PinnedBuffer(size_t bytes) : bytes_(bytes) {
  void* p = nullptr;
  check(cudaMallocHost(&p, bytes), "cudaMallocHost (pinned staging)");
  p_ = static_cast<uint8_t*>(p);
}

PinnedBuffer::~PinnedBuffer() {
  if (p_) cudaFreeHost(p_);
}

Event::Event() {
  cudaEvent_t e = nullptr;
  check(cudaEventCreate(&e), "cudaEventCreate");
  e_ = e;
}

Event::~Event() {
  if (e_) cudaEventDestroy(e_);
}

void Event::record(Stream s) {
  check(cudaEventRecord(e_, s), "cudaEventRecord");
}

void Event::wait_on(Stream s) const {
  check(cudaStreamWaitEvent(s, e_, 0), "cudaStreamWaitEvent");
}

void Event::synchronize() const {
  check(cudaEventSynchronize(e_), "cudaEventSynchronize");
}

float Event::ms_since(const Event& start) const {
  float ms = 0;
  check(cudaEventElapsedTime(&ms, start.e_, e_), "cudaEventElapsedTime");
  return ms;
}

Device::Device(int index, uint64_t budget) : index_(index), budget_(budget) {
  check(cudaSetDevice(index), "cudaSetDevice");
  cudaDeviceProp p{};
  check(cudaGetDeviceProperties(&p, index), "cudaGetDeviceProperties");
  name_ = p.name;
  cudaStream_t c = nullptr, k = nullptr;
  check(cudaStreamCreateWithFlags(&c, cudaStreamNonBlocking), "cudaStreamCreate (compute)");
  compute_ = c;
  check(cudaStreamCreateWithFlags(&k, cudaStreamNonBlocking), "cudaStreamCreate (copy)");
  copy_ = k;
}

Device::~Device() {
  if (compute_) cudaStreamDestroy(compute_);
  if (copy_) cudaStreamDestroy(copy_);
}

uint64_t Device::used_total() const {
  return used_[0] + used_[1] + used_[2] + used_[3];
}

DeviceBuffer Device::alloc(VramUse use, size_t bytes) {
  if (used_total() + bytes > budget_) {
    throw CudaError("CUDA: allocating " + format_bytes(bytes) + " would exceed the VRAM budget " +
                    format_bytes(budget_) + " (" + format_bytes(used_total()) + " in use)");
  }
  DeviceBuffer b;
  check(cudaMalloc(&b.p_, bytes), "cudaMalloc");
  b.bytes_ = bytes;
  used_[static_cast<int>(use)] += bytes;
  return b;
}

}  // namespace moe::cuda
