#pragma once
// Teacher-forced scoring of a token sequence on a Session (perplexity, the WDMoE study).
#include <atomic>
#include <functional>
#include <span>

#include "core/engine/session.h"
#include "core/util/status.h"

namespace moe {

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
/// scored so far. The session's routing settings apply (plain top-k unless set). A token whose
/// NLL is not finite (NaN/Inf logits) ends it with non_finite_error().
Result<TokenScores> score_tokens(Session& session, std::span<const int32_t> tokens, int window,
                                 const std::function<void(int, int)>& progress = {},
                                 const std::atomic<bool>* stop = nullptr);

/// -ln softmax(logits)[target], computed stably in double. NaN when a logit is NaN or +Inf;
/// +Inf when the target's logit is -Inf.
double negative_log_likelihood(std::span<const float> logits, int32_t target);

/// The error score_tokens() and chunk_perplexity() return when a token's NLL is not finite
/// (`token`: its index in the text): a perplexity of NaN or Inf would say nothing.
Error non_finite_error(int token, double nll);

}  // namespace moe
