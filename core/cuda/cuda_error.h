#pragma once
// Errors of CUDA runtime calls as exceptions (never an abort): check() throws CudaError naming
// the call and the runtime's message. The CUDA executor catches them at its boundary (run(),
// create()) and returns a Status, so no exception leaves the library (CONVENTIONS.md).
#include <stdexcept>
#include <string>

namespace moe::cuda {

class CudaError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Throws CudaError("CUDA <what>: <message>") when `code` (a cudaError_t) is not cudaSuccess.
void check(int code, const char* what);
/// check(cudaGetLastError(), what): after a kernel launch.
void check_launch(const char* what);

}  // namespace moe::cuda
