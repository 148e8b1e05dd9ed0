#pragma once
// Expert cache (offloading) panel, fed by the tiered store's CacheEvents and the engine's
// TimingEvents through DashboardState::cache(): the residency map (layer × expert by tier, hits
// flashing), hit rate per layer over time, disk read rate, prefetch accuracy, predicted vs
// measured expert-load latency per token, the policy in use, and the live RAM budget control.
// Without a tiered store it says plainly that every expert is resident.
#include <QWidget>

class QLabel;
class QLineSeries;
class QPushButton;
class QSpinBox;
class QStackedLayout;
class QValueAxis;

namespace moe::ui {

class DashboardState;
class EngineController;
class LayerHitChart;
class ResidencyMap;

class CachePanel : public QWidget {
  Q_OBJECT
 public:
  explicit CachePanel(EngineController* controller, QWidget* parent = nullptr);
  void update_from(const DashboardState& state);
  bool showing_placeholder() const;
  QString placeholder_text() const;

  ResidencyMap* residency_map() const { return map_; }
  LayerHitChart* layer_hits() const { return layer_hits_; }
  /// RAM budget in % of the expert bytes, applied live by the Apply button.
  QSpinBox* budget_percent() const { return budget_; }
  QPushButton* apply_budget_button() const { return apply_; }
  QLabel* figures() const { return figures_; }
  QLabel* budget_status() const { return status_; }
  int latency_points() const;

 private:
  void on_model_loaded();
  void apply_budget();

  EngineController* controller_;
  QStackedLayout* stack_;
  QLabel *placeholder_, *policy_, *figures_, *status_;
  QSpinBox* budget_;
  QPushButton* apply_;
  ResidencyMap* map_;
  LayerHitChart* layer_hits_;
  QLineSeries *predicted_, *measured_;
  QValueAxis *x_, *y_;
};

}  // namespace moe::ui
