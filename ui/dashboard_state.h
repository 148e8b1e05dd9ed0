#pragma once
// What the operator dashboard shows, aggregated from the engine's event stream. Plain data on
// the UI thread: the dashboard drains the EventQueue into consume() on its timer and the panels
// read from here, so charts update at a steady rate however fast tokens arrive.
#include <QPointF>
#include <QString>
#include <QVector>
#include <cstdint>
#include <deque>
#include <map>
#include <vector>

#include "core/engine_api/events.h"
#include "ui/cache_state.h"
#include "ui/lan_state.h"

namespace moe::ui {

/// One timer tick of the telemetry that the time charts and the CSV export show.
struct TelemetrySample {
  double t_s = 0;
  double tokens_per_s = 0;
  int selections = 0;            ///< θ-rule decisions (token × layer) in this tick
  double kept = 0, dropped = 0;  ///< mean experts kept / dropped per decision (0 when none)
  double latency_ms = 0;         ///< mean modelled layer latency (WDMoE eq. 7) over the tick
  double cache_hit_rate = -1;    ///< -1: no cache lookups in this tick
};

/// A θ, k or channel-scenario change: the per-setting statistics restart here.
struct SettingMarker {
  double t_s = 0;
  QString label;  ///< the new setting, e.g. "θ = 0.20 · k = 2 · paper_8_devices"
};

/// θ-rule statistics since the last setting change (what the WDMoE summary and the
/// per-device table show, so a θ change is never averaged with what came before).
struct SelectionSegment {
  double since_s = 0;
  QString label;
  uint64_t selections = 0, kept = 0, dropped = 0;
  double latency_sum_ms = 0;  ///< sum over selections of the modelled layer latency (eq. 7)
  std::vector<uint64_t> kept_per_device, dropped_per_device;
};

class DashboardState {
 public:
  static constexpr int kWindowTokens = 64;       ///< heatmap rolling window
  static constexpr double kHistorySeconds = 60;  ///< the time charts' default window
  static constexpr int kKappaPoints = 400;
  static constexpr double kMaxHistorySeconds = 3600;  ///< telemetry kept (longest time window)

  /// A new model; `residency`: its tiered store's snapshot at load (empty: no expert cache).
  void reset(int n_layer, int n_expert, const std::vector<ExpertResidency>& residency = {});
  void consume(const std::vector<Event>& events);
  /// Advances the time series to `now_s` (called once per timer tick).
  void tick(double now_s);

  int n_layer() const { return n_layer_; }
  int n_expert() const { return n_expert_; }

  // Routing.
  /// [n_layer * n_expert]: fraction of the window's tokens that used expert e at layer l.
  const std::vector<float>& heat() const { return heat_; }
  /// [n_layer * n_expert]: gate weight of the last token's route (0 = not chosen).
  const std::vector<float>& last_route() const { return last_route_; }
  int window_tokens() const { return static_cast<int>(window_keys_.size()); }
  uint64_t routing_events() const { return routing_events_; }

  // Throughput.
  const QVector<QPointF>& tokens_per_s() const { return tps_series_; }
  double current_tokens_per_s() const { return current_tps_; }
  const std::vector<float>& layer_ms() const { return layer_ms_; }
  double last_step_ms() const { return last_step_ms_; }
  double now() const { return now_s_; }

  // WDMoE selection (θ rule).
  const QVector<QPointF>& kappa() const { return kappa_series_; }
  uint64_t selection_events() const { return selection_events_; }
  uint64_t kept_total() const { return kept_total_; }
  uint64_t dropped_total() const { return dropped_total_; }
  const std::vector<uint64_t>& dropped_per_expert() const { return dropped_per_expert_; }
  double last_token_latency_ms() const { return last_token_latency_ms_; }
  float last_theta() const { return last_theta_; }

  // Telemetry over time and per-setting statistics.
  const std::deque<TelemetrySample>& telemetry() const { return telemetry_; }
  /// Starts a new statistics segment at `now_s` (the caller drains the events of the old
  /// setting first). A change with no selection since the previous one replaces it, so that
  /// dragging the θ slider leaves one marker.
  void mark_setting_change(double now_s, const QString& label);
  const std::vector<SettingMarker>& markers() const { return markers_; }
  const SelectionSegment& segment() const { return segment_; }
  /// Which device holds each expert ([n_expert], -1: none), for per-device kept/dropped.
  void set_expert_devices(std::vector<int> device_of_expert, int n_devices);

  // Expert cache (tiered store) and LAN devices.
  const CacheState& cache() const { return cache_; }
  const LanState& lan() const { return lan_; }

 private:
  /// Appends the telemetry row for the selections and cache lookups since the last one.
  void close_sample(double now_s);
  void on_routing(const RoutingEvent& e);
  void on_selection(const SelectionEvent& e);
  void on_timing(const TimingEvent& e);
  void add_route(int layer, const RoutingEvent& e, int sign);

  int n_layer_ = 0, n_expert_ = 0;
  std::vector<float> heat_, last_route_;
  std::vector<int> counts_;
  /// Routing events of the window's tokens (token key = step<<20 | pos), oldest first, and
  /// the tokens in the order they were first seen (a prefill batch interleaves them by layer).
  std::deque<RoutingEvent> window_;
  std::deque<uint64_t> window_keys_;
  std::map<uint64_t, int> key_events_;
  /// [n_layer]: the token whose route last_route_ shows at each layer. Per layer, because a
  /// prefill batch arrives layer by layer for all its tokens and a tick can end mid-token.
  std::vector<uint64_t> last_route_key_;
  uint64_t routing_events_ = 0;

  struct Timed {
    double t;
    int tokens;
    double seconds;
  };
  std::deque<Timed> decode_;  ///< decode steps seen in the last second (arrival time)
  QVector<QPointF> tps_series_;
  double current_tps_ = 0, last_step_ms_ = 0, now_s_ = 0;
  std::vector<float> layer_ms_;
  std::vector<TimingEvent> pending_timing_;

  QVector<QPointF> kappa_series_;
  uint64_t selection_events_ = 0, kept_total_ = 0, dropped_total_ = 0;
  std::vector<uint64_t> dropped_per_expert_;
  double last_token_latency_ms_ = 0;
  float last_theta_ = 0;

  CacheState cache_;
  LanState lan_;
  uint64_t tick_hits_ = 0, tick_lookups_ = 0;  // the cache's counters at the last tick
  std::deque<TelemetrySample> telemetry_;
  int tick_selections_ = 0;
  uint64_t tick_kept_ = 0, tick_dropped_ = 0;
  double tick_latency_ms_ = 0;
  std::vector<SettingMarker> markers_;
  SelectionSegment segment_;
  std::vector<int> device_of_expert_;
  int n_devices_ = 0;
};

}  // namespace moe::ui
