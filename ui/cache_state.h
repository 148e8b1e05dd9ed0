#pragma once
// What the "Expert cache" panel shows, aggregated on the UI thread from the tiered store's
// CacheEvents and the engine's TimingEvents (core/engine_api/events.h): where each expert is
// (seeded from the store's snapshot at load, then kept current by loaded / evict events), which
// were hit in the last moments, per-layer hit rate per second, disk read rate, prefetch
// accuracy, and the latency model's predicted vs measured expert-load wait per decoded token.
#include <QPointF>
#include <QVector>
#include <cstdint>
#include <deque>
#include <vector>

#include "core/engine_api/events.h"
#include "core/store/tiered_store_stats.h"

namespace moe::ui {

class CacheState {
 public:
  static constexpr int kHistoryColumns = 60;  ///< per-layer hit rate: one column per second
  static constexpr double kFlashSeconds = 0.4;
  static constexpr int kLatencyPoints = 200;  ///< decoded tokens in the latency chart

  /// A new model: `residency` from the store's snapshot at load (empty: no tiered store).
  void reset(int n_layer, int n_expert, const std::vector<ExpertResidency>& residency);
  void on_cache(const CacheEvent& e);
  void on_timing(const TimingEvent& e);
  /// Once per dashboard tick, after the tick's events.
  void tick(double now_s);

  /// A tiered store is loaded or has published.
  bool active() const { return !residency_.empty() || events_ > 0; }
  int n_layer() const { return n_layer_; }
  int n_expert() const { return n_expert_; }
  /// [layer * n_expert + expert]
  const std::vector<ExpertResidency>& residency() const { return residency_; }
  /// [layer * n_expert + expert]: hit within the last kFlashSeconds.
  std::vector<bool> flashing() const;
  int count(ExpertResidency r) const;
  /// Oldest first; each column [n_layer] hit rates in [0, 1], < 0 where a layer had no lookups.
  const std::deque<std::vector<float>>& layer_hit_history() const { return history_; }

  uint64_t hits() const { return hits_; }
  uint64_t misses() const { return misses_; }
  uint64_t prefetch_issued() const { return issued_; }
  uint64_t prefetch_used() const { return used_; }
  uint64_t prefetch_wasted() const { return wasted_; }
  uint64_t evictions() const { return evictions_; }
  uint64_t bytes_read() const { return bytes_read_; }
  /// Disk -> RAM reads over the last second.
  double disk_mb_per_s() const { return disk_mb_s_; }
  /// Per decoded token (x = decode step count): the load wait the latency model predicted
  /// before the loads, and the wait measured in the store's acquire, in ms.
  const QVector<QPointF>& predicted_ms() const { return predicted_ms_; }
  const QVector<QPointF>& measured_ms() const { return measured_ms_; }
  uint64_t decode_steps() const { return decode_steps_; }

 private:
  size_t index(const CacheEvent& e) const;

  int n_layer_ = 0, n_expert_ = 0;
  double now_s_ = 0, column_start_s_ = -1;
  uint64_t events_ = 0;
  std::vector<ExpertResidency> residency_;
  std::vector<double> last_hit_s_;
  std::vector<uint64_t> col_hits_, col_lookups_;  ///< [layer] in the current second
  std::deque<std::vector<float>> history_;
  uint64_t hits_ = 0, misses_ = 0, issued_ = 0, used_ = 0, wasted_ = 0, evictions_ = 0;
  uint64_t bytes_read_ = 0, tick_bytes_ = 0;
  std::deque<std::pair<double, uint64_t>> reads_;  ///< (tick time, bytes) in the last second
  double disk_mb_s_ = 0;
  QVector<QPointF> predicted_ms_, measured_ms_;
  uint64_t decode_steps_ = 0;
};

}  // namespace moe::ui
