#pragma once
// What CUDA devices this process can use. Built with the CUDA backend (MOE_HAVE_CUDA) it asks
// the runtime; without it the list is empty and the reason says so. GPU tests skip themselves
// when the list is empty.
#include <cstdint>
#include <string>
#include <vector>

namespace moe {

struct CudaDevice {
  int index = 0;
  std::string name;
  int compute_major = 0, compute_minor = 0;
  uint64_t total_bytes = 0, free_bytes = 0;
  int multiprocessors = 0;
};

struct CudaInventory {
  bool compiled_in = false;  ///< the binary was built with the CUDA backend
  std::vector<CudaDevice> devices;
  std::string note;          ///< why the list is empty, when it is
};

CudaInventory cuda_inventory();

}  // namespace moe
