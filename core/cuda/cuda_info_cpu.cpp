// The CPU-only build's answer: no CUDA backend compiled in.
#include "core/cuda/cuda_info.h"

#ifndef MOE_HAVE_CUDA
namespace moe {

CudaInventory cuda_inventory() {
  CudaInventory inv;
  inv.note = "built without the CUDA backend (MOE_CUDA=OFF or nvcc not found)";
  return inv;
}

}  // namespace moe
#endif
