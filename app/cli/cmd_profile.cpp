// moe-cli profile: turns a recorded routing trace (`moe-cli run|bench ... --trace FILE`) into a
// routing profile (counts per layer and expert, and the trace itself for the planner) keyed by
// the model file, saved under $XDG_CACHE_HOME/moe-studio/profiles/ (or -o FILE). The store's
// auto (the planner), pinned, hybrid and LFU policies load it from there (or from any path).
#include <cmath>
#include <cstdio>

#include "app/cli/command.h"
#include "app/cli/validators.h"
#include "core/gguf/gguf_file.h"
#include "core/model/inspect.h"
#include "core/store/routing_profile.h"

namespace moe::cli {
namespace {

struct ProfileArgs {
  std::string trace, model, out;
};

int run_profile(const ProfileArgs& a) {
  auto fail = [](const std::string& m) {
    std::fprintf(stderr, "moe-cli profile: %s\n", m.c_str());
    return 1;
  };
  auto trace = load_routing_trace(a.trace);
  if (!trace.ok()) return fail(trace.message());
  auto file = GgufFile::open(a.model);
  if (!file.ok()) return fail(file.message());
  auto summary = summarize_model(**file);
  if (!summary.ok()) return fail(summary.message());
  const auto n_layer = static_cast<int>(summary->experts_per_layer.size());
  if (trace->n_layer() != n_layer || trace->n_expert > summary->expert_count) {
    return fail(a.trace + " routes " + std::to_string(trace->n_layer()) + " layers of " +
                std::to_string(trace->n_expert) + " experts; " + a.model + " has " +
                std::to_string(n_layer) + " of " + std::to_string(summary->expert_count) +
                ": a trace of another model?");
  }
  trace->n_expert = static_cast<int>(summary->expert_count);
  RoutingProfile p = profile_from_trace(*trace, model_identity(**file));
  std::string out = a.out;
  if (out.empty()) {
    auto path = default_profile_path(p.model);
    if (!path.ok()) return fail(path.message());
    out = *path;
  }
  if (auto st = save_profile(p, out); !st.ok()) return fail(st.message());
  std::printf(
      "wrote %s: %d layers x %d experts, %llu tokens (kept for --policy auto), routing entropy "
      "%.3f bits (uniform %.3f)%s\n",
      out.c_str(), p.n_layer(), p.n_expert, static_cast<unsigned long long>(p.n_tokens),
      mean_routing_entropy_bits(p), std::log2(std::max(p.n_expert, 1)),
      trace->dropped ? "; the trace writer dropped events" : "");
  return 0;
}

const CommandRegistration kProfile{
    76, "profile", "Save a routing profile of a model from a recorded trace",
    [](CLI::App& app) -> CommandAction {
      auto a = std::make_shared<ProfileArgs>();
      app.footer(
          "Record the trace with `moe-cli run -m MODEL -f text.txt --trace t.jsonl` (or bench), "
          "then `moe-cli profile --trace t.jsonl -m MODEL`. The profile is keyed by the model "
          "file (size and a hash of its header) and refused for another model.");
      app.add_option("--trace", a->trace, "JSONL event trace with routing events")
          ->required()
          ->check(regular_file());
      app.add_option("-m,--model", a->model, "The GGUF model the trace was recorded on")
          ->required()
          ->check(regular_file());
      app.add_option("-o,--output", a->out,
                     "Profile file (default: $XDG_CACHE_HOME/moe-studio/profiles/"
                     "<model>-<hash>.json)");
      return [a] { return run_profile(*a); };
    }};

}  // namespace
}  // namespace moe::cli
