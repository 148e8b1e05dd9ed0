#pragma once
// The operator dashboard. A 10 Hz QTimer drains the engine's EventQueue into a DashboardState
// and refreshes every panel at once (CONVENTIONS "Qt": charts redrawn on a timer from buffered
// events, never per event), however fast tokens arrive.
#include <QElapsedTimer>
#include <QTimer>
#include <QWidget>
#include <vector>

#include "core/engine_api/events.h"
#include "ui/dashboard_state.h"

class QLabel;

namespace moe::ui {

class CachePanel;
class ControlPanel;
class EngineController;
class LanDevicesPanel;
class LayerTimeChart;
class RoutingHeatmap;
class ThroughputChart;
class WdmoePanel;

class DashboardWidget : public QWidget {
  Q_OBJECT
 public:
  static constexpr int kRefreshMs = 100;

  explicit DashboardWidget(EngineController* controller, QWidget* parent = nullptr);
  /// One timer tick: drain, aggregate, redraw (tests call it to avoid waiting).
  void refresh();

  const DashboardState& state() const { return state_; }
  ControlPanel* controls() const { return controls_; }
  RoutingHeatmap* heatmap() const { return heatmap_; }
  ThroughputChart* throughput() const { return throughput_; }
  LayerTimeChart* layer_time() const { return layer_time_; }
  WdmoePanel* wdmoe() const { return wdmoe_; }
  CachePanel* cache() const { return cache_; }
  LanDevicesPanel* devices() const { return devices_; }
  uint64_t events_seen() const { return events_seen_; }

 private:
  void on_model_loaded();
  void refresh_scenario();

  EngineController* controller_;
  DashboardState state_;
  QTimer timer_;
  QElapsedTimer clock_;
  std::vector<Event> buffer_;  ///< reused every tick
  uint64_t events_seen_ = 0;

  ControlPanel* controls_;
  RoutingHeatmap* heatmap_;
  ThroughputChart* throughput_;
  LayerTimeChart* layer_time_;
  WdmoePanel* wdmoe_;
  CachePanel* cache_;
  LanDevicesPanel* devices_;
  QLabel* headline_;
};

}  // namespace moe::ui
