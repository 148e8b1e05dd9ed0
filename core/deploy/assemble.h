#pragma once
// The one assembly place (design §6): from a Deployment it opens the model and tokenizer, makes
// the thread pool, the expert store, the local CPU executor (and any executor the deployment
// wraps it in), the expert selector with its latency source, and the Session, and hands them
// the event bus, the pool and the latency sink. The Engine front end, every moe-cli command and
// the app build their backend here; nothing else constructs these parts.
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/deploy/deployment.h"
#include "core/engine/cpu_expert_executor.h"
#include "core/engine/session.h"
#include "core/engine/thread_pool.h"
#include "core/engine_api/events.h"
#include "core/engine_api/latency_sink.h"
#include "core/engine_api/live_settings.h"
#include "core/model/model.h"
#include "core/offload/offload_calibration.h"
#include "core/store/expert_store.h"
#include "core/tokenizer/tokenizer.h"
#include "core/wdmoe/latency_source.h"

namespace moe {

/// What an ExecutorFactory gets to build with.
struct AssemblyContext {
  const Model& model;
  ExpertStore& store;
  ExpertExecutor& local;  ///< the CPU executor: the fallback of any other
  ThreadPool& pool;
  EventBus& bus;
  LatencySink* latency_sink;  ///< null unless the deployment measures latencies
};

/// The selector and the latency source it reads (null selector: plain top-k).
struct Selection {
  std::shared_ptr<LatencySource> latency;
  std::shared_ptr<ExpertSelector> selector;
  LatencySink* sink = nullptr;  ///< the measured source, when latencies are measured
};
/// Builds the selection a spec describes for a model of `hp` (null: model dims unknown).
/// Tier-aware latencies (LatencyKind::kTier) read where experts live from `store` and need
/// `model` for expert sizes; without them that kind is an error.
/// Tier-aware latencies take s_dc and the compute time of an expert from `calibration`
/// (`moe-cli calibrate`) when given, else priors (and the store's measured read rate).
Result<Selection> build_selection(const SelectionSpec& spec, const HParams* hp = nullptr,
                                  const ExpertStore* store = nullptr, const Model* model = nullptr,
                                  const OffloadCalibration* calibration = nullptr);

/// Load progress in [0, 1]; return false to cancel.
using LoadProgress = std::function<bool(float fraction)>;

/// The assembled backend. Members are declared in construction order; they are destroyed in
/// reverse (session first, bus last). Not movable: parts point at each other.
struct Backend {
  EventBus bus;
  Deployment deployment;
  std::unique_ptr<Model> model;
  std::unique_ptr<Tokenizer> tokenizer;
  std::unique_ptr<ThreadPool> pool;
  std::unique_ptr<ExpertStore> store;
  std::unique_ptr<CpuExpertExecutor> local_executor;
  std::unique_ptr<ExpertExecutor> wrapped_executor;  ///< from Deployment::executor, if any
  Selection selection;
  /// This machine's offload calibration for the model (tiered store or tier-aware selection),
  /// loaded from the cache `moe-cli calibrate` fills; empty when there is none.
  std::optional<OffloadCalibration> calibration;
  /// "calibrated (cache …)", or why the latency model runs on the store's measured reads.
  std::string latency_note;
  /// How --backend auto resolved ("auto: CUDA (NVIDIA H200)"); empty for cpu / cuda.
  std::string backend_note;
  std::unique_ptr<Session> session;
  MemoryPlan plan;

  Backend() = default;
  Backend(const Backend&) = delete;
  Backend& operator=(const Backend&) = delete;
  /// The executor the session runs (the wrapped one, else the local CPU one).
  ExpertExecutor& executor() const;
  /// Routing of the next eval from live settings (k clamped to the model; null selector: the
  /// deployment's, else top-k).
  RoutingControl routing(const LiveSettings& s) const;
  /// One line for logs and --help-free checks: "store mapped, executor local CPU, selector
  /// top-k, 2 threads, ctx 512, KV F16".
  std::string describe() const;
};

/// Builds everything `d` describes. Errors name the file (loader, tokenizer) or the setting.
/// Pages weights in per the store's policy, reporting progress; cancellable.
Result<std::unique_ptr<Backend>> assemble(const Deployment& d, const LoadProgress& progress = {});

}  // namespace moe
