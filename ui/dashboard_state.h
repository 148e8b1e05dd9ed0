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

class DashboardState {
 public:
  static constexpr int kWindowTokens = 64;  ///< heatmap rolling window
  static constexpr double kHistorySeconds = 60;
  static constexpr int kKappaPoints = 400;

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

  // Expert cache (tiered store) and LAN devices.
  const CacheState& cache() const { return cache_; }
  const LanState& lan() const { return lan_; }

 private:
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
  uint64_t last_key_ = UINT64_MAX;
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
};

}  // namespace moe::ui
