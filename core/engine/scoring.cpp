#include "core/engine/scoring.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>

namespace moe {

double TokenScores::perplexity() const {
  return n_scored > 0 ? std::exp(nll_sum / n_scored) : 0.0;
}

Error non_finite_error(int token, double nll) {
  return make_error("the model produced non-finite values at token ", std::to_string(token),
                    " of the text (its negative log-likelihood is ",
                    std::isnan(nll) ? "NaN" : "Inf",
                    "; the weights or settings overflow, or the model gives the token ",
                    "probability 0): no perplexity");
}

double negative_log_likelihood(std::span<const float> logits, int32_t target) {
  float mx = logits[0];
  for (float v : logits) mx = std::max(mx, v);
  double sum = 0;
  for (float v : logits) sum += std::exp(static_cast<double>(v - mx));
  return std::log(sum) - static_cast<double>(logits[static_cast<size_t>(target)] - mx);
}

Result<TokenScores> score_tokens(Session& session, std::span<const int32_t> tokens, int window,
                                 const std::function<void(int, int)>& progress,
                                 const std::atomic<bool>* stop) {
  const auto t0 = std::chrono::steady_clock::now();
  const int n = static_cast<int>(tokens.size());
  window = std::clamp(window <= 0 ? session.n_ctx() : window, 2, session.n_ctx());
  const size_t n_vocab = static_cast<size_t>(session.model().hparams().n_vocab);
  TokenScores scores;
  for (int w0 = 0; w0 + 1 < n; w0 += window) {
    const int w_len = std::min(window, n - w0);
    session.reset();
    for (int b = 0; b < w_len; b += session.max_batch()) {
      if (stop != nullptr && stop->load()) break;
      const int len = std::min(session.max_batch(), w_len - b);
      MOE_TRY(session.eval(tokens.subspan(static_cast<size_t>(w0 + b), static_cast<size_t>(len)),
                           /*all_logits=*/true));
      const std::span<const float> all = session.logits();
      for (int t = 0; t < len; ++t) {
        const int next = b + t + 1;  // index within the window of the token being predicted
        if (next >= w_len) break;
        const double nll =
            negative_log_likelihood(all.subspan(static_cast<size_t>(t) * n_vocab, n_vocab),
                                    tokens[static_cast<size_t>(w0 + next)]);
        if (!std::isfinite(nll)) return non_finite_error(w0 + next, nll);
        scores.nll_sum += nll;
        ++scores.n_scored;
      }
      if (progress) progress(w0 + b + len, n);
    }
  }
  scores.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return scores;
}

}  // namespace moe
