#include "core/engine/perplexity.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>

#include "core/engine/scoring.h"

namespace moe {

void NllStats::add(double nll) {
  ++n;
  sum += nll;
  sum_sq += nll * nll;
}

double NllStats::mean() const {
  return n > 0 ? sum / n : 0.0;
}

double NllStats::perplexity() const {
  return n > 0 ? std::exp(mean()) : 0.0;
}

double NllStats::perplexity_error() const {
  if (n < 2) return 0.0;
  const double m = mean();
  const double var = sum_sq / n - m * m;  // population variance of the per-token NLL
  if (!(var > 0)) return 0.0;
  return perplexity() * std::sqrt(var / (n - 1));
}

int chunk_perplexity_min_tokens(int n_ctx) {
  return 2 * n_ctx;
}

Result<ChunkPerplexity> chunk_perplexity(
    Session& session, std::span<const int32_t> tokens, const ChunkPerplexityOptions& options,
    const std::function<void(const ChunkPerplexity&)>& progress, const std::atomic<bool>* stop) {
  const auto t0 = std::chrono::steady_clock::now();
  const int n_ctx = options.n_ctx;
  if (n_ctx < 4 || n_ctx > session.n_ctx()) {
    return make_error("perplexity: a chunk of ", std::to_string(n_ctx),
                      " tokens does not fit: it must be 4 .. ", std::to_string(session.n_ctx()),
                      " (the context)");
  }
  const int n_tokens = static_cast<int>(tokens.size());
  const int needed = chunk_perplexity_min_tokens(n_ctx);
  if (n_tokens < needed) {
    return make_error("perplexity: you need at least ", std::to_string(needed),
                      " tokens to evaluate perplexity with a context of ", std::to_string(n_ctx),
                      " (2 x the context); the text has only ", std::to_string(n_tokens),
                      " tokens");
  }
  int n_chunk = n_tokens / n_ctx;
  if (options.max_chunks > 0) n_chunk = std::min(n_chunk, options.max_chunks);

  const size_t n_vocab = static_cast<size_t>(session.model().hparams().n_vocab);
  const int first = n_ctx / 2;
  ChunkPerplexity r;
  r.n_ctx = n_ctx;
  r.n_tokens = n_tokens;
  std::vector<int32_t> chunk(static_cast<size_t>(n_ctx));
  for (int c = 0; c < n_chunk; ++c) {
    if (stop != nullptr && stop->load()) break;
    const auto src = tokens.subspan(static_cast<size_t>(c) * n_ctx, static_cast<size_t>(n_ctx));
    std::copy(src.begin(), src.end(), chunk.begin());
    if (options.bos_id >= 0) chunk[0] = options.bos_id;
    session.reset();
    for (int b = 0; b < n_ctx; b += session.max_batch()) {
      const int len = std::min(session.max_batch(), n_ctx - b);
      // Batches wholly before `first` need no logits (the LM head is skipped).
      const bool scored = b + len - 1 >= first;
      MOE_TRY(session.eval(
          std::span<const int32_t>(chunk).subspan(static_cast<size_t>(b), static_cast<size_t>(len)),
          scored ? Session::LogitsWanted::kAll : Session::LogitsWanted::kNone));
      if (!scored) continue;
      const std::span<const float> logits = session.logits();  // [len, n_vocab]
      for (int t = std::max(0, first - b); t < len; ++t) {
        const int pos = b + t;  // logits at pos predict the token at pos + 1
        if (pos + 1 >= n_ctx) break;
        const double nll =
            negative_log_likelihood(logits.subspan(static_cast<size_t>(t) * n_vocab, n_vocab),
                                    chunk[static_cast<size_t>(pos + 1)]);
        if (!std::isfinite(nll)) {
          return non_finite_error(c * n_ctx + pos + 1, nll);
        }
        r.nll.add(nll);
      }
    }
    ++r.n_chunks;
    r.running.push_back(r.nll.perplexity());
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (progress) progress(r);
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace moe
