// moe-cli chat: an interactive conversation in the terminal. Ctrl-C stops the answer being
// written (not the program); Ctrl-C or Ctrl-D at the prompt quits. /reset starts over.
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "app/cli/engine_options.h"
#include "app/cli/stop_signal.h"

namespace moe::cli {
namespace {

struct ChatOptions {
  EngineOptions engine;
  std::string system;
  int max_tokens = 512;
};

int chat(const ChatOptions& o) {
  LoadedEngine le = load_engine(o.engine);
  if (!le.engine) return 1;
  StopOnSigint stop(*le.engine);
  const bool tty = isatty(STDIN_FILENO) != 0;
  std::vector<ChatMessage> history;
  if (!o.system.empty()) history.push_back({"system", o.system});
  if (tty)
    std::fprintf(stderr, "Type a message; Ctrl-C stops an answer, Ctrl-D quits, /reset clears.\n");
  for (;;) {
    if (tty) std::fprintf(stderr, "\n> ");
    std::string line;
    if (!std::getline(std::cin, line) || stop.take_interrupt()) break;
    if (line.empty()) continue;
    if (line == "/reset") {
      history.resize(o.system.empty() ? 0 : 1);
      continue;
    }
    history.push_back({"user", line});
    GenerateRequest req;
    req.messages = history;
    req.max_new_tokens = o.max_tokens;
    req.sampler = effective_sampler(o.engine);
    std::string answer;
    auto stats = le.engine->generate(req, [&](std::string_view text) {
      answer += text;
      std::fwrite(text.data(), 1, text.size(), stdout);
      std::fflush(stdout);
    });
    std::fputc('\n', stdout);
    stop.take_interrupt();  // a Ctrl-C that stopped this answer must not also quit
    if (!stats.ok()) {
      std::fprintf(stderr, "error: %s\n", stats.message().c_str());
      history.pop_back();
      continue;
    }
    history.push_back({"assistant", answer});
    if (stats->dropped_messages > 0) {
      std::fprintf(stderr, "[context full: the %d oldest messages were left out]\n",
                   stats->dropped_messages);
    }
    std::fprintf(stderr, "[%d tokens, %.2f tok/s, %s%s]\n", stats->generated_tokens,
                 stats->decode_tok_per_s(), stats->computed_on.c_str(),
                 stats->stop_reason == "stopped" ? ", stopped" : "");
  }
  return 0;
}

const CommandRegistration kChat{
    30, "chat", "Interactive chat with streaming answers (Ctrl-C stops an answer)",
    [](CLI::App& app) {
      auto o = std::make_shared<ChatOptions>();
      add_engine_options(app, o->engine);
      add_sampler_options(app, o->engine);
      app.add_option("-s,--system", o->system, "System prompt");
      app.add_option("-n,--max-tokens", o->max_tokens, "Most tokens per answer")
          ->check(CLI::Range(1, 1 << 20))
          ->capture_default_str();
      return [o] { return chat(*o); };
    }};

}  // namespace
}  // namespace moe::cli
