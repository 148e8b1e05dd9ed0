#pragma once
// The parts that run a model on this machine, opened together: the mapped model, its
// tokenizer, a thread pool, the local CPU expert executor and a Session over them. The Engine
// front end, `moe-cli perplexity` and `moe-cli wdmoe-sim` all start from this.
#include <atomic>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "core/engine/cpu_expert_executor.h"
#include "core/engine/session.h"
#include "core/engine/thread_pool.h"
#include "core/model/model.h"
#include "core/tokenizer/tokenizer.h"
#include "core/util/status.h"

namespace moe {

struct LocalRuntimeOptions {
  int n_threads = 0;   ///< 0: all hardware threads
  int n_ctx = 4096;    ///< clamped by the session to the model's training context
  int max_batch = 64;  ///< tokens per forward call
  KvType kv_type = KvType::kF32;  ///< KV cache precision (F16: half the memory)
};

struct LocalRuntime {
  // Declaration order = construction order; destruction runs backwards (session first).
  std::unique_ptr<Model> model;
  std::unique_ptr<Tokenizer> tokenizer;
  std::unique_ptr<ThreadPool> pool;
  std::unique_ptr<CpuExpertExecutor> executor;
  std::unique_ptr<Session> session;
};

/// Opens `path`. Errors carry the GGUF reader's / loader's message (naming the file).
Result<LocalRuntime> open_local_runtime(const std::string& path, const LocalRuntimeOptions& o);

/// Teacher-forced scores of a token sequence.
struct TokenScores {
  int n_scored = 0;      ///< tokens whose probability was measured
  double nll_sum = 0;    ///< Σ -ln p(token | everything before it in its window)
  double seconds = 0;
  double perplexity() const;
};

/// Scores `tokens` in consecutive windows of `window` tokens, each from an empty KV cache:
/// every token after a window's first is predicted from the ones before it in that window.
/// `progress(done, total)` after each forward call; `stop` (optional) ends early with what was
/// scored so far. The session's routing settings apply (plain top-k unless set).
Result<TokenScores> score_tokens(Session& session, std::span<const int32_t> tokens, int window,
                                 const std::function<void(int, int)>& progress = {},
                                 const std::atomic<bool>* stop = nullptr);

/// -ln softmax(logits)[target], computed stably in double.
double negative_log_likelihood(std::span<const float> logits, int32_t target);

}  // namespace moe
