#pragma once
// The UI's handle on a WDMoE channel scenario (core/wdmoe): which scenario is active, the
// selector built from it for a model, and the per-device figures the dashboard shows
// (SNR, link rates, modelled per-expert latency, WDMoE eqs. 2-6).
#include <QString>
#include <QVector>
#include <memory>

#include "core/engine_api/expert_selection.h"
#include "core/util/status.h"
#include "ui/studio_types.h"

namespace moe::wdmoe {
struct Scenario;
}

namespace moe::ui {

struct DeviceLinkRow {
  QString name;
  double distance_m = 0, flops = 0;
  double snr_down_db = 0, snr_up_db = 0;      ///< mean SNR (no fading)
  double rate_down_bps = 0, rate_up_bps = 0;  ///< eqs. 2-3 at the mean channel gain
  QVector<int> experts;                       ///< experts it holds (placement)
  double expert_latency_s = 0;                ///< eq. 6 for one token through one expert
};

class ChannelScenario {
 public:
  /// The paper's simulated 8-device setup (wdmoe::default_scenario()).
  static ChannelScenario paper_default();
  /// Reads a scenario JSON file; the error names the file and the bad field.
  static Result<ChannelScenario> load_file(const QString& path);

  QString name() const;
  QString source() const { return source_; }  ///< "built-in" or the file path
  int n_devices() const;

  /// The WLR/θ selector (WDMoE Algorithm 1) with the simulated latency of this scenario, sized
  /// for `model` (hidden and expert sizes of the model replace the scenario's defaults).
  std::shared_ptr<ExpertSelector> make_selector(const ModelInfo& model) const;
  /// Per-device link figures for the dashboard.
  QVector<DeviceLinkRow> devices(const ModelInfo& model) const;

 private:
  std::shared_ptr<const wdmoe::Scenario> s_;
  QString source_;
};

}  // namespace moe::ui
