#pragma once
// The CUDA backend as the assembly place sees it (built in every configuration): which
// backend a deployment runs on (`--backend cpu|cuda|auto`) and the factory of the CUDA expert
// executor. Without the CUDA backend compiled in, the factory returns an error that says so
// and `auto` resolves to the CPU.
#include <memory>
#include <optional>
#include <string>

#include "core/engine_api/expert_executor.h"
#include "core/model/model.h"
#include "core/store/expert_store.h"
#include "core/store/ram_budget.h"
#include "core/util/status.h"

namespace moe {

enum class ComputeBackend : uint8_t {
  kCpu,   ///< experts on this process' CPU (or remote devices)
  kCuda,  ///< experts on a CUDA GPU (an error when none is present)
  kAuto,  ///< CUDA when a device is present, else the CPU
};
const char* compute_backend_name(ComputeBackend b);
/// "cpu" / "cuda" / "auto" -> backend; an error lists the accepted names.
Result<ComputeBackend> parse_compute_backend(const std::string& name);

/// kAuto -> kCuda or kCpu (kCpu / kCuda unchanged); `why` gets one line for the log:
/// "auto: CUDA (NVIDIA H200)" or "auto: CPU (no CUDA device: ...)".
ComputeBackend resolve_backend(ComputeBackend requested, std::string* why);

struct CudaExecutorOptions {
  int device = 0;
  int max_tokens = 1;                    ///< tokens per run() call (the deployment's max batch)
  std::optional<RamBudget> vram_budget;  ///< none: every expert, capped by free VRAM
  /// An expert group of at least this many tokens (prefill) runs as cuBLAS GEMMs over f16
  /// tiles instead of one mat-vec per token (a first guess: to be measured on a GPU).
  int gemm_min_tokens = 16;
};

/// The CUDA expert executor (core/cuda/cuda_expert_executor_cuda.cpp): experts computed on the
/// GPU from a VRAM expert cache filled from `store`. Errors: no device, a weight type without
/// a kernel, a budget too small; all name the cause.
Result<std::unique_ptr<ExpertExecutor>> make_cuda_expert_executor(const Model& model,
                                                                  ExpertStore& store,
                                                                  const CudaExecutorOptions& o);

}  // namespace moe
