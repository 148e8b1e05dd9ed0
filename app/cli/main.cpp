// moe-cli: headless tools for MoE Studio. Subcommands live in app/cli/cmd_*.cpp.
#include <algorithm>
#include <cstdio>
#include <exception>
#include <utility>

#include "app/cli/command.h"

namespace moe::cli {

std::vector<RegisteredCommand>& command_registry() {
  static std::vector<RegisteredCommand> registry;
  return registry;
}

}  // namespace moe::cli

int main(int argc, char** argv) {
  CLI::App app{"moe-cli: inspect, run and study Mixture-of-Experts models (GGUF) on this machine",
               "moe-cli"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "moe-cli 0.1.0");
  auto& reg = moe::cli::command_registry();
  std::sort(reg.begin(), reg.end(), [](auto& a, auto& b) { return a.order < b.order; });
  std::vector<std::pair<CLI::App*, moe::cli::CommandAction>> actions;
  for (auto& r : reg) {
    CLI::App* sub = app.add_subcommand(r.name, r.description);
    actions.emplace_back(sub, r.setup(*sub));
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help / --version exit 0; every usage error exits 2 (command.h), whatever CLI11's code.
    return app.exit(e) == 0 ? 0 : 2;
  }
  for (auto& [sub, action] : actions) {
    if (!sub->parsed()) continue;
    try {
      return action();
    } catch (const std::exception& e) {  // actions should not throw; never let it escape
      std::fprintf(stderr, "moe-cli %s: %s\n", sub->get_name().c_str(), e.what());
      return 1;
    }
  }
  return 2;
}
