#include "ui/channel_scenario.h"

#include <cmath>

#include "core/deploy/assemble.h"
#include "core/wdmoe/channel_model.h"
#include "core/wdmoe/latency_model.h"
#include "core/wdmoe/scenario.h"

namespace moe::ui {

ChannelScenario ChannelScenario::paper_default() {
  ChannelScenario c;
  wdmoe::Scenario s = wdmoe::default_scenario();
  Status st = wdmoe::validate_and_resolve(s);  // fills the equal bandwidth split
  MOE_CHECK(st.ok(), "the built-in WDMoE scenario is invalid: " + st.message());
  c.s_ = std::make_shared<const wdmoe::Scenario>(std::move(s));
  c.source_ = QStringLiteral("built-in (paper §IV-A)");
  return c;
}

Result<ChannelScenario> ChannelScenario::load_file(const QString& path) {
  auto s = wdmoe::load_scenario_file(path.toStdString());
  if (!s.ok()) return s.error();
  ChannelScenario c;
  c.s_ = std::make_shared<const wdmoe::Scenario>(std::move(s).value());
  c.source_ = path;
  return c;
}

QString ChannelScenario::name() const {
  return QString::fromStdString(s_->name);
}
int ChannelScenario::n_devices() const {
  return s_->n_devices();
}

std::shared_ptr<ExpertSelector> ChannelScenario::make_selector(const ModelInfo&) const {
  // The scenario's own model dimensions set t_q (eqs. 4-6): it describes the deployment being
  // simulated (Mixtral 8x7B in the paper), whatever model computes the tokens here. Built by
  // the assembly place, as every front end's selection is.
  SelectionSpec spec;
  spec.selector = SelectorKind::kWlr;
  spec.latency = LatencyKind::kSimulated;
  spec.scenario = *s_;
  auto sel = build_selection(spec);
  MOE_CHECK(sel.ok(), "a validated scenario must build a selector: " + sel.message());
  return sel->selector;
}

QVector<DeviceLinkRow> ChannelScenario::devices(const ModelInfo& model) const {
  wdmoe::ChannelModel channel(*s_);
  wdmoe::LatencyModel latency(*s_);
  std::vector<wdmoe::LinkState> links;
  channel.mean_links(links);
  std::vector<double> t;
  latency.device_latencies(links, t);
  const int n_expert = model.n_expert > 0 ? model.n_expert : s_->n_devices();
  const Placement placement = s_->expert_placement();
  QVector<DeviceLinkRow> rows;
  for (int q = 0; q < s_->n_devices(); ++q) {
    const wdmoe::DeviceSpec& d = s_->devices[static_cast<size_t>(q)];
    DeviceLinkRow r;
    r.name = QString::fromStdString(d.name);
    r.distance_m = d.distance_m;
    r.flops = d.flops;
    if (q < static_cast<int>(links.size())) {
      r.snr_down_db = 10.0 * std::log10(std::max(links[q].snr_down, 1e-30));
      r.snr_up_db = 10.0 * std::log10(std::max(links[q].snr_up, 1e-30));
      r.rate_down_bps = links[q].rate_down;
      r.rate_up_bps = links[q].rate_up;
    }
    if (q < static_cast<int>(t.size())) r.expert_latency_s = t[q];
    for (int e : placement.experts_on(q, /*layer=*/0, n_expert)) r.experts.push_back(e);
    rows.push_back(r);
  }
  return rows;
}

}  // namespace moe::ui
