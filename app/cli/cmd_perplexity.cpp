// moe-cli perplexity: how well the model predicts a text (teacher forcing), exp(mean negative
// log-likelihood per token); lower is better. By default llama.cpp's method, flags and output
// (core/engine/perplexity.h), so the figure compares with llama-perplexity's; -w selects the
// window method (every token scored, in windows of -w tokens).
#include <cstdio>
#include <nlohmann/json.hpp>

#include "app/cli/command.h"
#include "app/cli/engine_options.h"
#include "core/deploy/assemble.h"
#include "core/engine/perplexity.h"
#include "core/engine/scoring.h"
#include "core/engine/text_tokens.h"

namespace moe::cli {
namespace {

constexpr int kDefaultCtx = 512;  // llama-perplexity's default -c

struct PerplexityOptions {
  Deployment deployment;  // model, threads, KV type, store, experts per token
  std::string text_file;
  int ctx = kDefaultCtx, chunks = -1, window = 0, max_tokens = 0;
  bool json = false;
  const CLI::Option* ctx_option = nullptr;  // to tell an explicit -c from the default
};

void print_json(const nlohmann::json& j) {
  std::printf("%s\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
}

int run_windows(const PerplexityOptions& o, Backend& rt, const std::vector<int32_t>& tokens) {
  auto scores = score_tokens(*rt.session, tokens, o.window, [&](int done, int total) {
    if (!o.json) std::fprintf(stderr, "\r%d / %d tokens", done, total);
  });
  if (!o.json) std::fprintf(stderr, "\n");
  if (!scores.ok()) {
    std::fprintf(stderr, "error: %s\n", scores.message().c_str());
    return 1;
  }
  const double tps = scores->seconds > 0 ? tokens.size() / scores->seconds : 0;
  if (o.json) {
    print_json({{"model", o.deployment.model_path},
                {"backend", rt.describe()},
                {"text", o.text_file},
                {"method", "windows"},
                {"tokens", tokens.size()},
                {"scored", scores->n_scored},
                {"window", o.window},
                {"perplexity", scores->perplexity()},
                {"mean_nll", scores->nll_sum / scores->n_scored},
                {"seconds", scores->seconds},
                {"tok_per_s", tps}});
  } else {
    std::printf("perplexity %.4f over %d scored tokens (%zu in %d-token windows), %.1f tok/s\n",
                scores->perplexity(), scores->n_scored, tokens.size(), o.window, tps);
  }
  return 0;
}

int run_chunks(const PerplexityOptions& o, int n_ctx, Backend& rt,
               const std::vector<int32_t>& tokens) {
  ChunkPerplexityOptions co;
  co.n_ctx = n_ctx;
  co.max_chunks = o.chunks;
  co.bos_id = rt.tokenizer->data().add_bos ? rt.tokenizer->bos() : -1;
  const int n_chunk_all = static_cast<int>(tokens.size()) / n_ctx;
  const int n_chunk = o.chunks > 0 ? std::min(o.chunks, n_chunk_all) : n_chunk_all;
  if (!o.json && static_cast<int>(tokens.size()) >= chunk_perplexity_min_tokens(n_ctx)) {
    std::fprintf(stderr,
                 "perplexity: %zu tokens; %d chunks of %d, the last %d tokens of each scored "
                 "(llama.cpp's method)\n",
                 tokens.size(), n_chunk, n_ctx, n_ctx - n_ctx / 2 - 1);
  }
  auto r = chunk_perplexity(*rt.session, tokens, co, [&](const ChunkPerplexity& so_far) {
    if (o.json) return;
    if (so_far.n_chunks == 1) {
      std::fprintf(stderr, "perplexity: %.2f seconds per pass - ETA %.2f minutes\n", so_far.seconds,
                   so_far.seconds * n_chunk / 60.0);
    }
    std::printf("[%d]%.4f,", so_far.n_chunks, so_far.running.back());
    std::fflush(stdout);
  });
  if (!r.ok()) {
    std::fprintf(stderr, "error: %s\n", r.message().c_str());
    return 1;
  }
  const double evaluated = static_cast<double>(r->n_chunks) * n_ctx;
  const double tps = r->seconds > 0 ? evaluated / r->seconds : 0;
  if (o.json) {
    print_json({{"model", o.deployment.model_path},
                {"backend", rt.describe()},
                {"text", o.text_file},
                {"method", "chunks"},
                {"tokens", tokens.size()},
                {"n_ctx", n_ctx},
                {"chunks", r->n_chunks},
                {"scored", r->nll.n},
                {"perplexity", r->nll.perplexity()},
                {"perplexity_error", r->nll.perplexity_error()},
                {"mean_nll", r->nll.mean()},
                {"chunk_perplexity", r->running},
                {"seconds", r->seconds},
                {"tok_per_s", tps}});
  } else {
    std::printf("\nFinal estimate: PPL = %.4f +/- %.5f\n", r->nll.perplexity(),
                r->nll.perplexity_error());
    std::fprintf(stderr, "perplexity: %d tokens scored, %.0f evaluated in %.2f s (%.1f tok/s)\n",
                 r->nll.n, evaluated, r->seconds, tps);
  }
  return 0;
}

int perplexity(const PerplexityOptions& o) {
  const bool windows = o.window > 0;
  Deployment d = o.deployment;
  d.n_ctx = windows ? o.window : o.ctx;
  auto assembled = assemble(d);
  if (!assembled.ok()) {
    std::fprintf(stderr, "error: %s\n", assembled.message().c_str());
    return 1;
  }
  Backend& rt = **assembled;
  if (!o.json) std::fprintf(stderr, "backend: %s\n", rt.describe().c_str());
  int n_ctx = o.ctx;
  const int model_ctx = rt.session->n_ctx();  // the session clamps to the training context
  if (!windows && n_ctx > model_ctx) {
    if (o.ctx_option != nullptr && o.ctx_option->count() > 0) {
      std::fprintf(stderr, "error: -c %d is more than the model's context of %d tokens\n", n_ctx,
                   model_ctx);
      return 1;
    }
    std::fprintf(stderr, "perplexity: -c %d (the default) reduced to the model's context, %d\n",
                 n_ctx, model_ctx);
    n_ctx = model_ctx;
  }
  TextTokensOptions to;
  to.max_tokens = o.max_tokens;
  to.too_large_hint = "-n N scores only the first N tokens and reads only those";
  auto read = read_text_tokens(o.text_file, *rt.tokenizer, to);
  if (!read.ok()) {
    std::fprintf(stderr, "error: %s\n", read.message().c_str());
    return 1;
  }
  return windows ? run_windows(o, rt, *read) : run_chunks(o, n_ctx, rt, *read);
}

const CommandRegistration kPerplexity{
    40, "perplexity", "Perplexity of the model on a text file (llama.cpp's method)",
    [](CLI::App& app) {
      auto o = std::make_shared<PerplexityOptions>();
      app.footer(
          "Default: llama-perplexity's method. The text, tokenized with BOS, is cut into chunks "
          "of -c tokens (each begun with BOS); the second half of every chunk is scored. It "
          "needs at least 2 x c tokens. Prints [1]ppl,[2]ppl,... after each chunk and "
          "'Final estimate: PPL = X +/- Y'.\n"
          "-w N instead scores every token, in back-to-back windows of N tokens (the older "
          "figure; not comparable with llama.cpp's).");
      add_deployment_options(app, o->deployment, /*ctx=*/false);
      app.add_option("-f,--file", o->text_file, "UTF-8 text file (a regular file, at most 64 MiB)")
          ->required()
          ->check(regular_file());
      CLI::Option* c =
          app.add_option("-c,--ctx-size", o->ctx,
                         "Tokens per chunk (at most the model's context; the default is reduced "
                         "to it)")
              ->check(CLI::Range(4, 1 << 20))
              ->capture_default_str();
      o->ctx_option = c;
      CLI::Option* chunks =
          app.add_option("--chunks", o->chunks, "Score at most this many chunks (default: all)")
              ->check(CLI::Range(1, 1 << 30));
      app.add_option("-w,--window", o->window,
                     "Window method instead: every token scored, in windows of N tokens each "
                     "from an empty cache")
          ->check(CLI::Range(2, 1 << 20))
          ->excludes(c)
          ->excludes(chunks);
      app.add_option("-n,--max-tokens", o->max_tokens,
                     "Use only the first N tokens of the text (0: all); only the beginning of "
                     "the file that gives them is read")
          ->check(CLI::Range(0, 1 << 30));
      app.add_flag("--json", o->json, "Print the figures as JSON");
      return [o] { return perplexity(*o); };
    }};

}  // namespace
}  // namespace moe::cli
