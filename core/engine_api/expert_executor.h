#pragma once
// Expert execution (design §6): *who computes*. For one MoE layer, given the FFN inputs of a
// batch of tokens and the (token, expert, weight) assignments chosen by the ExpertSelector, add
// the weighted expert outputs. Weights come from an ExpertStore (core/store: *where they
// live*). Implementations: local CPU (core/engine/cpu_expert_executor.h) now; CUDA and remote
// LAN devices later, composed by the assembly place (core/deploy). The forward pass knows only
// this interface.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "core/engine_api/events.h"
#include "core/util/status.h"

namespace moe {

struct ExpertAssignment {
  int32_t token = 0;   ///< row in the batch
  int32_t expert = 0;
  float weight = 0;    ///< gate weight w_q (WDMoE eq. 1)
};

struct ExpertBatch {
  uint64_t step = 0;
  int layer = 0;
  int n_tokens = 0;
  int n_embd = 0;
  const float* x = nullptr;   ///< [n_tokens, n_embd] normalised FFN input
  float* out = nullptr;       ///< [n_tokens, n_embd] out[t] += Σ w · expert(x[t]) (eq. 1)
  std::span<const ExpertAssignment> assignments;  ///< grouped by expert, any order
};

/// Where one expert evaluation ran, for the "computed on" line in the chat and the dashboard.
struct ExecutionPlace {
  static constexpr uint32_t kLocal = 0;  ///< this process' CPU
  uint32_t device = kLocal;              ///< LAN device id when remote
};

/// Expert-load waits of an executor so far (cumulative): per call, the store's prediction made
/// before the acquire (design §3.1 latency model) and the time the acquire then took.
struct LoadWait {
  double predicted_s = 0, measured_s = 0;
  uint64_t calls = 0;
};

class ExpertExecutor {
 public:
  virtual ~ExpertExecutor() = default;
  /// Runs every assignment of the batch. Errors (a lost device with no fallback) come back as
  /// a Status; the generation reports them rather than crashing.
  virtual Status run(const ExpertBatch& batch) = 0;
  /// Hint: these experts of `layer` are likely next (speculative prefetch); passed on to the
  /// store that holds them. Never blocks.
  virtual void prefetch(int layer, std::span<const int32_t> experts) {
    (void)layer;
    (void)experts;
  }
  /// Whether the forward pass should predict the next layer's experts and call prefetch()
  /// for this executor's own sake (a VRAM tier smaller than the experts), besides the store's.
  virtual bool wants_prefetch() const { return false; }
  virtual std::string_view name() const = 0;
  /// Where the experts of the last generation ran, for the "computed on" line (engine thread).
  /// Default: name(). A remote executor names its devices.
  virtual std::string computed_on() const { return std::string(name()); }
  /// Predicted and measured expert-load waits so far (engine thread). Executors that do not
  /// load experts: zeros.
  virtual LoadWait load_wait() const { return {}; }
  /// Where DeviceEvents (remote executors) go; set by the assembly place. Null: nowhere.
  void set_event_bus(EventBus* bus) { bus_ = bus; }

 protected:
  EventBus* bus_ = nullptr;
};

}  // namespace moe
