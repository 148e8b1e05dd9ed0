#include "core/deploy/deployment.h"

#include <cmath>
#include <string>

#include "core/engine_api/expert_selection.h"
#include "core/util/limits.h"

namespace moe {

const char* store_kind_name(StoreKind k) {
  switch (k) {
    case StoreKind::kMapped:
      return "mapped";
    case StoreKind::kRamCopy:
      return "ram-copy";
    case StoreKind::kTiered:
      return "tiered";
  }
  return "?";
}

Result<StoreKind> parse_store_kind(const std::string& name) {
  if (name == "mapped") return StoreKind::kMapped;
  if (name == "ram-copy") return StoreKind::kRamCopy;
  if (name == "tiered") return StoreKind::kTiered;
  return make_error("expert store '", name, "' is not one of: mapped, ram-copy, tiered");
}

Status validate(const Deployment& d) {
  if (d.model_path.empty()) return make_error("no model file given");
  if (d.n_threads < 0 || d.n_threads > kMaxThreads) {
    return make_error("threads: ", std::to_string(d.n_threads), " is outside [0, ",
                      std::to_string(kMaxThreads), "] (0: all hardware threads)");
  }
  if (d.n_ctx < 1 || d.n_ctx > (1 << 20)) {
    return make_error("context size: ", std::to_string(d.n_ctx), " is outside [1, 1048576]");
  }
  if (d.max_batch < 1 || d.max_batch > 4096) {
    return make_error("batch size: ", std::to_string(d.max_batch), " is outside [1, 4096]");
  }
  if (d.backend == ComputeBackend::kCuda && d.executor) {
    return make_error("backend cuda: the experts already run on LAN devices (--devices); "
                      "choose one");
  }
  if (d.vram_budget && d.backend == ComputeBackend::kCpu) {
    return make_error("a VRAM budget needs --backend cuda or auto");
  }
  if (d.ram_budget && d.store != StoreKind::kTiered) {
    return make_error("a RAM budget needs the tiered expert store (not '", store_kind_name(d.store),
                      "')");
  }
  if ((!d.profile_path.empty() || d.adaptive_slots) && d.store != StoreKind::kTiered) {
    return make_error(d.adaptive_slots ? "adaptive slots need" : "a routing profile needs",
                      " the tiered expert store (give --ram-budget)");
  }
  if (d.prefetch_depth < 0 || d.prefetch_depth > kMaxExpertsUsed) {
    return make_error("prefetch depth: ", std::to_string(d.prefetch_depth), " is outside [0, ",
                      std::to_string(kMaxExpertsUsed), "]");
  }
  if (d.io_threads < 1 || d.io_threads > 64) {
    return make_error("I/O threads: ", std::to_string(d.io_threads), " is outside [1, 64]");
  }
  const SelectionSpec& s = d.selection;
  if (s.experts_per_token < 0 || s.experts_per_token > kMaxExpertsUsed) {
    return make_error("experts per token: ", std::to_string(s.experts_per_token),
                      " is outside [0, ", std::to_string(kMaxExpertsUsed), "]");
  }
  if (!std::isfinite(s.theta) || s.theta < 0 || s.theta > 1) {
    return make_error("theta: ", std::to_string(s.theta), " is outside [0, 1]");
  }
  // The device count comes from the spec, or from an executor that places experts on devices
  // and tells the latency sink (netlink's remote executor).
  if (s.latency == LatencyKind::kMeasured && s.n_devices < 1 && !d.executor) {
    return make_error("measured latencies need at least one device");
  }
  if (s.selector == SelectorKind::kWlr && s.latency == LatencyKind::kTier &&
      d.store != StoreKind::kTiered) {
    return make_error("tier-aware selection needs the tiered store (give --ram-budget)");
  }
  return {};
}

}  // namespace moe
