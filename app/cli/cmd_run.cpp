// moe-cli run: one prompt, the answer streamed to stdout, statistics to stderr.
#include <cstdio>

#include "app/cli/engine_options.h"
#include "app/cli/stop_signal.h"

namespace moe::cli {
namespace {

struct RunOptions {
  EngineOptions engine;
  std::string prompt, system;
  int max_tokens = 256;
  bool raw = false, ignore_eos = false;
};

int run(const RunOptions& o) {
  LoadedEngine le = load_engine(o.engine);
  if (!le.engine) return 1;
  GenerateRequest req;
  if (o.raw) {
    req.raw_prompt = o.prompt;
  } else {
    if (!o.system.empty()) req.messages.push_back({"system", o.system});
    req.messages.push_back({"user", o.prompt});
  }
  req.max_new_tokens = o.max_tokens;
  req.ignore_eos = o.ignore_eos;
  req.sampler = effective_sampler(o.engine);
  StopOnSigint stop(*le.engine);
  auto stats = le.engine->generate(req, [](std::string_view text) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
  });
  std::fputc('\n', stdout);
  std::fflush(stdout);
  if (!stats.ok()) {
    std::fprintf(stderr, "error: %s\n", stats.message().c_str());
    return 1;
  }
  std::fprintf(stderr,
               "[%d prompt tokens %.1f tok/s | %d generated %.2f tok/s | first token %.0f ms | "
               "stop: %s | %s]\n",
               stats->prompt_tokens, stats->prompt_tok_per_s(), stats->generated_tokens,
               stats->decode_tok_per_s(), stats->time_to_first_token_s * 1e3,
               stats->stop_reason.c_str(), stats->computed_on.c_str());
  return 0;
}

const CommandRegistration kRun{
    20, "run", "Answer one prompt, streaming the text", [](CLI::App& app) {
      auto o = std::make_shared<RunOptions>();
      add_engine_options(app, o->engine);
      add_sampler_options(app, o->engine);
      app.add_option("-p,--prompt", o->prompt, "The question / prompt")->required();
      app.add_option("-s,--system", o->system, "System prompt");
      app.add_option("-n,--max-tokens", o->max_tokens, "Most tokens to generate")
          ->check(CLI::Range(1, 1 << 20))
          ->capture_default_str();
      app.add_flag("--raw", o->raw, "Use the prompt as is, without the chat template");
      app.add_flag("--ignore-eos", o->ignore_eos, "Keep generating past end-of-answer tokens");
      return [o] { return run(*o); };
    }};

}  // namespace
}  // namespace moe::cli
