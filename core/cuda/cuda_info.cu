#include <cuda_runtime.h>

#include "core/cuda/cuda_info.h"

namespace moe {

CudaInventory cuda_inventory() {
  CudaInventory inv;
  inv.compiled_in = true;
  int n = 0;
  const cudaError_t err = cudaGetDeviceCount(&n);
  if (err != cudaSuccess) {
    inv.note = std::string("CUDA runtime: ") + cudaGetErrorString(err);
    return inv;
  }
  for (int i = 0; i < n; ++i) {
    cudaDeviceProp p{};
    if (cudaGetDeviceProperties(&p, i) != cudaSuccess) continue;
    CudaDevice d;
    d.index = i;
    d.name = p.name;
    d.compute_major = p.major;
    d.compute_minor = p.minor;
    d.total_bytes = p.totalGlobalMem;
    d.multiprocessors = p.multiProcessorCount;
    size_t free_b = 0, total_b = 0;
    if (cudaSetDevice(i) == cudaSuccess && cudaMemGetInfo(&free_b, &total_b) == cudaSuccess) {
      d.free_bytes = free_b;
    }
    inv.devices.push_back(d);
  }
  if (inv.devices.empty()) inv.note = "no CUDA device found";
  return inv;
}

}  // namespace moe
