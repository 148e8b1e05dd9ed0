// moe-cli inspect FILE.gguf [--json]: architecture, hyperparameters, experts, tokenizer and
// where the bytes go (per type; expert vs non-expert per layer).
#include <cstdio>
#include <nlohmann/json.hpp>

#include "app/cli/command.h"
#include "core/gguf/gguf_file.h"
#include "core/model/inspect.h"

namespace moe::cli {
namespace {

struct InspectArgs {
  std::string path;
  bool json = false;
};

int run_inspect(const InspectArgs& a) {
  auto file = GgufFile::open(a.path);
  if (!file) {
    std::fprintf(stderr, "moe-cli inspect: %s\n", file.message().c_str());
    return 1;
  }
  auto summary = summarize_model(**file);
  if (!summary) {
    std::fprintf(stderr, "moe-cli inspect: %s\n", summary.message().c_str());
    return 1;
  }
  if (a.json) {
    std::printf("%s\n", summary_to_json(*summary)
                            .dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
                            .c_str());
  } else {
    std::fputs(summary_to_text(*summary).c_str(), stdout);
  }
  return 0;
}

const CommandRegistration kInspect{
    10, "inspect", "Describe a GGUF model: hyperparameters, experts, tensor types and sizes",
    [](CLI::App& sub) -> CommandAction {
      auto args = std::make_shared<InspectArgs>();
      sub.add_option("file", args->path, "GGUF model file")->required();
      sub.add_flag("--json", args->json, "Machine-readable JSON output");
      return [args] { return run_inspect(*args); };
    }};

}  // namespace
}  // namespace moe::cli
