#include <cuda_runtime.h>

#include "core/cuda/cuda_error.h"

namespace moe::cuda {

void check(int code, const char* what) {
  if (code == cudaSuccess) return;
  throw CudaError(std::string("CUDA ") + what + ": " +
                  cudaGetErrorString(static_cast<cudaError_t>(code)));
}

void check_launch(const char* what) {
  check(cudaGetLastError(), what);
}

}  // namespace moe::cuda
