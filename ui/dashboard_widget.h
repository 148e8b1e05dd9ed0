#pragma once
// The operator dashboard. A 10 Hz QTimer drains the engine's EventQueue into a DashboardState
// and refreshes every panel at once (CONVENTIONS "Qt": charts redrawn on a timer from buffered
// events, never per event), however fast tokens arrive. Pause freezes the drawing (events are
// still counted), the time window picks what the time charts and the CSV export cover, and a
// θ / k / scenario change starts a new statistics segment with a marker on the charts.
#include <QElapsedTimer>
#include <QTimer>
#include <QWidget>
#include <vector>

#include "core/engine_api/events.h"
#include "ui/dashboard_state.h"
#include "ui/time_window.h"

class QComboBox;
class QLabel;
class QPushButton;
class QScrollArea;

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
  /// Writes the telemetry of the shown window as CSV; false (and a message box) on failure.
  bool export_csv(const QString& path);
  /// The time span the charts show now (frozen while paused).
  TimeWindow current_window() const;

  const DashboardState& state() const { return state_; }
  ControlPanel* controls() const { return controls_; }
  RoutingHeatmap* heatmap() const { return heatmap_; }
  ThroughputChart* throughput() const { return throughput_; }
  LayerTimeChart* layer_time() const { return layer_time_; }
  WdmoePanel* wdmoe() const { return wdmoe_; }
  CachePanel* cache() const { return cache_; }
  LanDevicesPanel* devices() const { return devices_; }
  uint64_t events_seen() const { return events_seen_; }
  QPushButton* pause_button() const { return pause_; }
  QPushButton* export_button() const { return export_; }
  QComboBox* window_box() const { return window_box_; }
  QScrollArea* panels_scroll() const { return panels_scroll_; }
  bool paused() const;

 private:
  void on_model_loaded();
  void refresh_scenario();
  void drain();
  void redraw();
  double now_s() const { return clock_.elapsed() / 1000.0; }
  /// Drains what the old setting produced, then starts a new statistics segment.
  void on_settings_changed();
  QString settings_label() const;

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
  QComboBox* window_box_;
  QPushButton *pause_, *export_;
  QLabel* export_status_;
  QScrollArea* panels_scroll_;
  QString settings_label_;
  double answer_start_s_ = 0, answer_end_s_ = -1;  ///< end < start: the answer is running
  TimeWindow frozen_;                               ///< the window shown when paused
};

}  // namespace moe::ui
