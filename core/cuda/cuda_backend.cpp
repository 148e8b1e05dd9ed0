#include "core/cuda/cuda_backend.h"

#include "core/cuda/cuda_info.h"

namespace moe {

const char* compute_backend_name(ComputeBackend b) {
  switch (b) {
    case ComputeBackend::kCpu:
      return "cpu";
    case ComputeBackend::kCuda:
      return "cuda";
    case ComputeBackend::kAuto:
      return "auto";
  }
  return "?";
}

Result<ComputeBackend> parse_compute_backend(const std::string& name) {
  for (ComputeBackend b : {ComputeBackend::kCpu, ComputeBackend::kCuda, ComputeBackend::kAuto}) {
    if (name == compute_backend_name(b)) return b;
  }
  return make_error("backend '", name, "': cpu, cuda or auto");
}

ComputeBackend resolve_backend(ComputeBackend requested, std::string* why) {
  if (requested != ComputeBackend::kAuto) return requested;
  const CudaInventory inv = cuda_inventory();
  if (inv.devices.empty()) {
    if (why) *why = "auto: CPU (no CUDA device: " + inv.note + ")";
    return ComputeBackend::kCpu;
  }
  if (why) *why = "auto: CUDA (" + inv.devices[0].name + ")";
  return ComputeBackend::kCuda;
}

#ifndef MOE_HAVE_CUDA
Result<std::unique_ptr<ExpertExecutor>> make_cuda_expert_executor(const Model&, ExpertStore&,
                                                                  const CudaExecutorOptions&) {
  return make_error(
      "this build has no CUDA backend (configure with MOE_CUDA=ON where nvcc "
      "is installed)");
}
#endif

}  // namespace moe
