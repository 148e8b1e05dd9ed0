#pragma once
// Perplexity as llama.cpp's `llama-perplexity` computes it, the figure people compare models by
// (the window method, every token scored, is score_tokens() in scoring.h).
//
// Our reading of llama.cpp tools/perplexity/perplexity.cpp, perplexity():
//   * the whole text is tokenized once, with BOS when the vocabulary adds it;
//   * it is cut into back-to-back chunks of n_ctx tokens, n_chunk = min(--chunks, n_tokens /
//     n_ctx); a tail shorter than a chunk is not used;
//   * each chunk runs from an empty KV cache, its first token replaced by BOS when the
//     vocabulary adds BOS (the original token is not scored anyway);
//   * only the second half is scored: the logits at positions first = n_ctx/2 .. n_ctx-2 predict
//     the tokens at first+1 .. n_ctx-1, so every scored token sees at least n_ctx/2 tokens of
//     context and a chunk scores n_ctx - first - 1 tokens;
//   * PPL = exp(mean NLL) over all scored tokens; its uncertainty by the delta method,
//     σ_PPL = PPL · sqrt(Var(NLL) / (N - 1)), Var(NLL) = mean(NLL²) - mean(NLL)²;
//   * a text of fewer than 2·n_ctx tokens is refused (llama.cpp's rule, though one chunk
//     needs only n_ctx).
#include <atomic>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "core/engine/session.h"
#include "core/util/status.h"

namespace moe {

/// Σ NLL and Σ NLL² over scored tokens, and the figures derived from them.
struct NllStats {
  int n = 0;          ///< tokens scored
  double sum = 0;     ///< Σ -ln p(token | context)
  double sum_sq = 0;  ///< Σ (-ln p)²
  void add(double nll);
  double mean() const;        ///< mean NLL (0 when n = 0)
  double perplexity() const;  ///< exp(mean NLL)
  /// ± of perplexity(): PPL · sqrt(Var(NLL) / (n - 1)); 0 when n < 2 or the variance is not
  /// positive (llama.cpp then prints no estimate).
  double perplexity_error() const;
};

struct ChunkPerplexityOptions {
  int n_ctx = 512;      ///< tokens per chunk: 4 (one scored token) .. the session's context
  int max_chunks = 0;   ///< score at most this many chunks (<= 0: as many as the text fills)
  int32_t bos_id = -1;  ///< first token of every chunk (-1: keep the text's own token)
};

struct ChunkPerplexity {
  int n_ctx = 0;
  int n_tokens = 0;             ///< tokens of the text
  int n_chunks = 0;             ///< chunks scored
  NllStats nll;                 ///< over every scored token
  std::vector<double> running;  ///< PPL after chunk 1, 2, ... (llama.cpp's "[1]x,[2]y," line)
  double seconds = 0;
};

/// Tokens a text needs for chunks of n_ctx: 2·n_ctx, as llama.cpp requires.
int chunk_perplexity_min_tokens(int n_ctx);

/// Scores `tokens` with llama.cpp's chunk method (header comment). `progress` runs after each
/// chunk with the figures so far; `stop` (optional) ends early after a whole chunk. The
/// session's routing settings apply. Errors: n_ctx outside [4, session.n_ctx()], a text shorter
/// than chunk_perplexity_min_tokens(n_ctx) (the message says how many tokens are needed and how
/// many there are), a failed forward pass, or a scored token whose NLL is not finite
/// (non_finite_error(), scoring.h).
Result<ChunkPerplexity> chunk_perplexity(
    Session& session, std::span<const int32_t> tokens, const ChunkPerplexityOptions& options,
    const std::function<void(const ChunkPerplexity&)>& progress = {},
    const std::atomic<bool>* stop = nullptr);

}  // namespace moe
