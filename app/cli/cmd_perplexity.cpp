// moe-cli perplexity: how well the model predicts a text (teacher forcing), in windows of the
// context length. exp(mean negative log-likelihood per token); lower is better.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "app/cli/command.h"
#include "app/cli/engine_options.h"
#include "app/cli/text_tokens.h"
#include "core/deploy/assemble.h"
#include "core/engine/scoring.h"

namespace moe::cli {
namespace {

struct PerplexityOptions {
  Deployment deployment;
  std::string text_file;
  int window = 512, max_tokens = 0;
  bool json = false;
};

int perplexity(const PerplexityOptions& o) {
  Deployment d = o.deployment;
  d.n_ctx = o.window;
  auto rt = assemble(d);
  if (!rt.ok()) {
    std::fprintf(stderr, "error: %s\n", rt.message().c_str());
    return 1;
  }
  if (!o.json) std::fprintf(stderr, "backend: %s\n", (*rt)->describe().c_str());
  auto read = read_text_tokens(o.text_file, *(*rt)->tokenizer, o.max_tokens);
  if (!read.ok()) {
    std::fprintf(stderr, "error: %s\n", read.message().c_str());
    return 1;
  }
  const std::vector<int32_t>& tokens = *read;
  auto scores = score_tokens(*(*rt)->session, tokens, o.window, [&](int done, int total) {
    if (!o.json) std::fprintf(stderr, "\r%d / %d tokens", done, total);
  });
  if (!o.json) std::fprintf(stderr, "\n");
  if (!scores.ok()) {
    std::fprintf(stderr, "error: %s\n", scores.message().c_str());
    return 1;
  }
  const double tps = scores->seconds > 0 ? tokens.size() / scores->seconds : 0;
  if (o.json) {
    nlohmann::json j = {{"model", d.model_path},
                        {"backend", (*rt)->describe()},
                        {"text", o.text_file},
                        {"tokens", tokens.size()},
                        {"scored", scores->n_scored},
                        {"window", o.window},
                        {"perplexity", scores->perplexity()},
                        {"mean_nll", scores->nll_sum / scores->n_scored},
                        {"seconds", scores->seconds},
                        {"tok_per_s", tps}};
    std::printf("%s\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    std::printf("perplexity %.4f over %d scored tokens (%zu in %d-token windows), %.1f tok/s\n",
                scores->perplexity(), scores->n_scored, tokens.size(), o.window, tps);
  }
  return 0;
}

const CommandRegistration kPerplexity{
    40, "perplexity", "Perplexity of the model on a text file", [](CLI::App& app) {
      auto o = std::make_shared<PerplexityOptions>();
      add_deployment_options(app, o->deployment, /*ctx=*/false);
      app.add_option("-f,--file", o->text_file, "UTF-8 text file")
          ->required()
          ->check(CLI::ExistingFile);
      app.add_option("-w,--window", o->window, "Tokens per window (each from an empty cache)")
          ->check(CLI::Range(2, 1 << 20))
          ->capture_default_str();
      app.add_option("-n,--max-tokens", o->max_tokens, "Score at most this many tokens (0: all)");
      app.add_flag("--json", o->json, "Print the figures as JSON");
      return [o] { return perplexity(*o); };
    }};

}  // namespace
}  // namespace moe::cli
