// moe-cli wdmoe-sim: the WDMoE study of WDMoE [P2] §IV on this machine. For each θ the model
// reads a text (teacher forcing) with the WLR selector on the simulated wireless channel of a
// scenario, and we report experts per token, perplexity and the modelled latency per token
// (Σ over layers of eq. 7), mean and p95, with the reduction against θ = 0. The channel is the
// same for every θ (same seed, one fading slot per token position), so θ alone differs.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/cli/command.h"
#include "app/cli/engine_options.h"
#include "core/deploy/assemble.h"
#include "core/engine/scoring.h"
#include "core/engine/text_tokens.h"
#include "core/util/percentile.h"
#include "core/wdmoe/latency_source.h"
#include "core/wdmoe/selection_recorder.h"
#include "core/wdmoe/wlr_selector.h"

namespace moe::cli {
namespace {

struct SimOptions {
  Deployment deployment;
  std::string scenario, text_file;
  std::vector<double> thetas{0, 0.1, 0.2, 0.3};
  int max_tokens = 512;
  bool json = false;
};

struct SimRow {
  double theta = 0;
  double experts_per_token = 0, dropped_per_token = 0, perplexity = 0;
  double mean_latency_s = 0, p95_latency_s = 0, reduction = std::nan("");
};

// A fresh selection (and channel) per θ from the same spec: the same fading for every θ.
Result<SimRow> run_theta(Backend& b, const std::vector<int32_t>& tokens, double theta) {
  Session& session = *b.session;
  auto sel = build_selection(b.deployment.selection, &b.model->hparams());
  if (!sel.ok()) return sel.error();
  RecordingSelector rec(*sel->selector, session.n_ctx());
  RoutingControl rc = b.routing(LiveSettings{b.deployment.selection.experts_per_token,
                                             static_cast<float>(theta), nullptr});
  rc.selector = &rec;
  session.set_routing(rc);
  const int n = static_cast<int>(tokens.size());
  // One window over the whole text: every position's latency is recorded once.
  auto scores = score_tokens(session, tokens, n);
  if (!scores.ok()) {
    session.set_routing(RoutingControl{});  // `rec` dies with this frame
    return scores.error();
  }
  session.set_routing(RoutingControl{});
  SimRow row;
  row.theta = theta;
  row.experts_per_token = rec.mean_experts();
  row.dropped_per_token =
      rec.selections() ? static_cast<double>(rec.experts_dropped()) / rec.selections() : 0;
  row.perplexity = scores->perplexity();
  std::vector<double> lat(static_cast<size_t>(n));
  for (int p = 0; p < n; ++p) lat[static_cast<size_t>(p)] = rec.token_latency_s(p);
  double sum = 0;
  for (double v : lat) sum += v;
  row.mean_latency_s = sum / std::max(n, 1);
  row.p95_latency_s = percentile(lat, 0.95);
  return row;
}

int run(const SimOptions& o) {
  Result<wdmoe::Scenario> scenario = o.scenario.empty()
                                         ? Result<wdmoe::Scenario>(wdmoe::default_scenario())
                                         : wdmoe::load_scenario_file(o.scenario);
  if (!scenario.ok()) {
    std::fprintf(stderr, "error: %s\n", scenario.message().c_str());
    return 1;
  }
  Deployment d = o.deployment;
  d.n_ctx = o.max_tokens;
  d.selection.selector = SelectorKind::kWlr;
  d.selection.latency = LatencyKind::kSimulated;
  d.selection.scenario = *scenario;
  auto assembled = assemble(d);
  if (!assembled.ok()) {
    std::fprintf(stderr, "error: %s\n", assembled.message().c_str());
    return 1;
  }
  Backend& b = **assembled;
  const Model& m = *b.model;
  if (!m.hparams().moe || m.hparams().n_expert < 2) {
    std::fprintf(stderr, "error: %s: not a mixture-of-experts model (WDMoE needs experts)\n",
                 d.model_path.c_str());
    return 1;
  }
  if (d.selection.scenario_uses_model_dims) {  // the dims the latency model used (eqs. 4-5)
    scenario->model.hidden = m.hparams().n_embd;
    scenario->model.expert_hidden =
        m.hparams().n_expert_ff > 0 ? m.hparams().n_expert_ff : m.hparams().n_ff;
  }
  if (!o.json) std::fprintf(stderr, "backend: %s\n", b.describe().c_str());
  TextTokensOptions to;
  to.max_tokens = std::min(o.max_tokens, b.session->n_ctx());
  auto read = read_text_tokens(o.text_file, *b.tokenizer, to);
  if (!read.ok()) {
    std::fprintf(stderr, "error: %s\n", read.message().c_str());
    return 1;
  }
  const std::vector<int32_t>& tokens = *read;

  std::vector<SimRow> rows;
  for (double theta : o.thetas) {
    auto row = run_theta(b, tokens, theta);
    if (!row.ok()) {
      std::fprintf(stderr, "error: θ = %g: %s\n", theta, row.message().c_str());
      return 1;
    }
    rows.push_back(*row);
  }
  const SimRow* base = nullptr;
  for (const SimRow& r : rows)
    if (r.theta == 0) base = &r;
  for (SimRow& r : rows)
    if (base && base->mean_latency_s > 0) r.reduction = 1 - r.mean_latency_s / base->mean_latency_s;

  const auto rw = m.file().get_bool("moe.random_weights");
  const bool random = rw.ok() && *rw;
  if (o.json) {
    nlohmann::json j;
    j["model"] = d.model_path;
    j["backend"] = b.describe();
    j["scenario"] = scenario->name;
    j["model_dims"] = {{"hidden", scenario->model.hidden},
                       {"expert_hidden", scenario->model.expert_hidden}};
    j["tokens"] = tokens.size();
    j["n_layer"] = m.n_layer();
    j["n_expert"] = m.hparams().n_expert;
    j["k"] = b.routing(LiveSettings{d.selection.experts_per_token, 0, nullptr}).k;
    j["random_weights"] = random;
    j["results"] = nlohmann::json::array();
    for (const SimRow& r : rows) {
      nlohmann::json e{{"theta", r.theta},
                       {"experts_per_token", r.experts_per_token},
                       {"dropped_per_token", r.dropped_per_token},
                       {"perplexity", r.perplexity},
                       {"mean_latency_s", r.mean_latency_s},
                       {"p95_latency_s", r.p95_latency_s}};
      e["latency_reduction"] =
          std::isnan(r.reduction) ? nlohmann::json(nullptr) : nlohmann::json(r.reduction);
      j["results"].push_back(e);
    }
    std::printf("%s\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return 0;
  }
  std::printf("WDMoE simulation: %s, scenario %s, %zu tokens, %d layers, k = %d of %d experts\n",
              d.model_path.c_str(), scenario->name.c_str(), tokens.size(), m.n_layer(),
              b.routing(LiveSettings{d.selection.experts_per_token, 0, nullptr}).k, m.hparams().n_expert);
  std::printf("%6s  %14s  %12s  %16s  %15s  %10s\n", "theta", "experts/token", "perplexity",
              "mean latency ms", "p95 latency ms", "reduction");
  for (const SimRow& r : rows) {
    char red[32] = "n/a";
    if (!std::isnan(r.reduction)) std::snprintf(red, sizeof red, "%.1f%%", 100 * r.reduction);
    std::printf("%6.2f  %14.3f  %12.3f  %16.3f  %15.3f  %10s\n", r.theta, r.experts_per_token,
                r.perplexity, r.mean_latency_s * 1e3, r.p95_latency_s * 1e3, red);
  }
  std::printf(
      "latency: modelled per token, Σ over layers of max over kept experts of t_q (eq. 6-7)\n");
  if (random)
    std::printf("note: this model has random weights; perplexity here does not measure quality\n");
  return 0;
}

const CommandRegistration kWdmoeSim{
    70, "wdmoe-sim", "WDMoE study: latency and perplexity vs θ on a simulated wireless channel",
    [](CLI::App& app) {
      auto o = std::make_shared<SimOptions>();
      add_deployment_options(app, o->deployment, /*ctx=*/false);
      app.add_option("--scenario", o->scenario,
                     "Scenario JSON, at most 1 MiB (default: the paper's 8 devices, "
                     "resources/scenarios/)")
          ->check(regular_file());
      app.add_option("--theta", o->thetas, "θ values, comma separated")
          ->delimiter(',')
          ->check(finite_range(0.0, 1.0))
          ->capture_default_str();
      app.add_option("-f,--file", o->text_file,
                     "Text to read (teacher forcing); only the beginning that gives -n tokens "
                     "is read")
          ->required()
          ->check(regular_file());
      app.add_flag("--json", o->json, "Print the results as JSON");
      app.add_flag("--use-model-dims", o->deployment.selection.scenario_uses_model_dims,
                   "Latency model with this model's m, m_h (default: the scenario's, Mixtral)");
      app.add_option("-n,--max-tokens", o->max_tokens, "Most tokens of the text to read")
          ->check(CLI::Range(2, 1 << 20))
          ->capture_default_str();
      return [o] { return run(*o); };
    }};

}  // namespace
}  // namespace moe::cli
