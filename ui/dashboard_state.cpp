#include "ui/dashboard_state.h"

#include <algorithm>

namespace moe::ui {

namespace {
uint64_t token_key(uint64_t step, int32_t pos) {
  return (step << 20) | (static_cast<uint64_t>(pos) & 0xFFFFF);
}
template <class T>
void trim_front(QVector<T>& v, int max) {
  if (v.size() > max) v.remove(0, v.size() - max);
}
}  // namespace

void DashboardState::reset(int n_layer, int n_expert,
                           const std::vector<ExpertResidency>& residency) {
  *this = DashboardState();
  n_layer_ = std::clamp(n_layer, 0, 64);
  n_expert_ = std::clamp(n_expert, 0, kMaxEventExperts);
  heat_.assign(static_cast<size_t>(n_layer_ * n_expert_), 0.0f);
  last_route_ = heat_;
  counts_.assign(heat_.size(), 0);
  dropped_per_expert_.assign(static_cast<size_t>(n_expert_), 0);
  layer_ms_.assign(static_cast<size_t>(n_layer_), 0.0f);
  cache_.reset(n_layer_, n_expert_, residency);
  last_route_key_.assign(static_cast<size_t>(n_layer_), UINT64_MAX);
}

void DashboardState::set_expert_devices(std::vector<int> device_of_expert, int n_devices) {
  device_of_expert_ = std::move(device_of_expert);
  n_devices_ = std::max(n_devices, 0);
  segment_.kept_per_device.assign(static_cast<size_t>(n_devices_), 0);
  segment_.dropped_per_device.assign(static_cast<size_t>(n_devices_), 0);
}

void DashboardState::mark_setting_change(double now_s, const QString& label) {
  // The selections since the last tick belong to the old setting: they get a row of their own,
  // or the next tick's row would average both settings (two answers within one 100 ms tick).
  if (tick_selections_ > 0) close_sample(now_s);
  if (!markers_.empty() && segment_.selections == 0) markers_.pop_back();
  markers_.push_back({now_s, label});
  segment_ = SelectionSegment();
  segment_.since_s = now_s;
  segment_.label = label;
  segment_.kept_per_device.assign(static_cast<size_t>(n_devices_), 0);
  segment_.dropped_per_device.assign(static_cast<size_t>(n_devices_), 0);
}

void DashboardState::consume(const std::vector<Event>& events) {
  for (const Event& ev : events) {
    std::visit(
        [this](const auto& e) {
          using T = std::decay_t<decltype(e)>;
          if constexpr (std::is_same_v<T, RoutingEvent>)
            on_routing(e);
          else if constexpr (std::is_same_v<T, SelectionEvent>)
            on_selection(e);
          else if constexpr (std::is_same_v<T, TimingEvent>)
            on_timing(e), cache_.on_timing(e);
          else if constexpr (std::is_same_v<T, CacheEvent>)
            cache_.on_cache(e);
          else if constexpr (std::is_same_v<T, DeviceEvent>)
            lan_.on_device(e);
        },
        ev);
  }
  for (int i = 0; i < static_cast<int>(heat_.size()); ++i)
    heat_[i] = window_keys_.empty() ? 0.0f : static_cast<float>(counts_[i]) / window_keys_.size();
}

void DashboardState::add_route(int layer, const RoutingEvent& e, int sign) {
  for (int j = 0; j < std::min<int>(e.n_chosen, kMaxEventK); ++j) {
    const int x = e.chosen[j];
    if (x >= 0 && x < n_expert_) counts_[layer * n_expert_ + x] += sign;
  }
}

void DashboardState::on_routing(const RoutingEvent& e) {
  ++routing_events_;
  if (e.layer < 0 || e.layer >= n_layer_) return;
  const uint64_t key = token_key(e.step, e.pos);
  if (key != last_route_key_[static_cast<size_t>(e.layer)]) {
    const auto row = last_route_.begin() + e.layer * n_expert_;
    std::fill(row, row + n_expert_, 0.0f);
    last_route_key_[static_cast<size_t>(e.layer)] = key;
  }
  for (int j = 0; j < std::min<int>(e.n_chosen, kMaxEventK); ++j) {
    const int x = e.chosen[j];
    if (x >= 0 && x < n_expert_) last_route_[e.layer * n_expert_ + x] = e.weights[j];
  }
  if (key_events_[key]++ == 0) window_keys_.push_back(key);
  window_.push_back(e);
  add_route(e.layer, e, +1);
  while (static_cast<int>(window_keys_.size()) > kWindowTokens) {
    const uint64_t old = window_keys_.front();
    window_keys_.pop_front();
    key_events_.erase(old);
    auto it = std::remove_if(window_.begin(), window_.end(), [&](const RoutingEvent& r) {
      if (token_key(r.step, r.pos) != old) return false;
      add_route(r.layer, r, -1);
      return true;
    });
    window_.erase(it, window_.end());
  }
}

void DashboardState::on_selection(const SelectionEvent& e) {
  ++selection_events_;
  kept_total_ += static_cast<uint64_t>(std::max<int>(e.n_kept, 0));
  dropped_total_ += static_cast<uint64_t>(std::max<int>(e.n_dropped, 0));
  for (int j = 0; j < std::min<int>(e.n_dropped, kMaxEventK); ++j) {
    const int x = e.dropped[j];
    if (x >= 0 && x < n_expert_) ++dropped_per_expert_[x];
  }
  last_token_latency_ms_ = e.token_latency_s * 1e3;
  last_theta_ = e.theta;
  const int kept = std::clamp<int>(e.n_kept, 0, kMaxEventK);
  const int dropped = std::clamp<int>(e.n_dropped, 0, kMaxEventK);
  ++tick_selections_;
  tick_kept_ += static_cast<uint64_t>(kept);
  tick_dropped_ += static_cast<uint64_t>(dropped);
  tick_latency_ms_ += last_token_latency_ms_;
  ++segment_.selections;
  segment_.kept += static_cast<uint64_t>(kept);
  segment_.dropped += static_cast<uint64_t>(dropped);
  segment_.latency_sum_ms += last_token_latency_ms_;
  // Per device: an expert counts on the device that holds it in the scenario's placement.
  auto count = [this](int expert, std::vector<uint64_t>& per_device) {
    if (expert < 0 || expert >= static_cast<int>(device_of_expert_.size())) return;
    const int q = device_of_expert_[static_cast<size_t>(expert)];
    if (q >= 0 && q < static_cast<int>(per_device.size())) ++per_device[static_cast<size_t>(q)];
  };
  for (int j = 0; j < kept; ++j) count(e.kept[j], segment_.kept_per_device);
  for (int j = 0; j < dropped; ++j) count(e.dropped[j], segment_.dropped_per_device);
  kappa_series_.push_back(QPointF(static_cast<double>(selection_events_), e.kappa));
  trim_front(kappa_series_, kKappaPoints);
}

void DashboardState::on_timing(const TimingEvent& e) {
  if (e.phase == StepPhase::kDecode) {
    decode_.push_back({now_s_, e.n_tokens, e.total_s});
    last_step_ms_ = e.total_s * 1e3;
  }
  pending_timing_.push_back(e);
}

void DashboardState::tick(double now_s) {
  now_s_ = now_s;
  // tokens/s over the last second of decode steps: the engine's own rate (tokens ÷ step time).
  while (!decode_.empty() && decode_.front().t < now_s - 1.0) decode_.pop_front();
  int tokens = 0;
  double seconds = 0;
  for (const Timed& d : decode_) tokens += d.tokens, seconds += d.seconds;
  current_tps_ = seconds > 0 ? tokens / seconds : 0;
  tps_series_.push_back(QPointF(now_s, current_tps_));
  const int max_points = static_cast<int>(kMaxHistorySeconds * 10) + 1;  // 10 Hz ticks
  trim_front(tps_series_, max_points);

  // Per-layer time: mean over this tick's decode steps (prefill when there is no decode).
  int n = 0;
  std::vector<float> sum(layer_ms_.size(), 0.0f);
  for (const TimingEvent& e : pending_timing_) {
    if (e.phase != StepPhase::kDecode) continue;
    ++n;
    for (int l = 0; l < std::min<int>(e.n_layer, n_layer_); ++l) sum[l] += e.layer_ms[l];
  }
  if (n == 0 && !pending_timing_.empty()) {
    const TimingEvent& e = pending_timing_.back();
    n = 1;
    for (int l = 0; l < std::min<int>(e.n_layer, n_layer_); ++l) sum[l] = e.layer_ms[l];
  }
  if (n > 0)
    for (size_t l = 0; l < sum.size(); ++l) layer_ms_[l] = sum[l] / n;
  pending_timing_.clear();

  cache_.tick(now_s);
  lan_.tick(now_s);
  close_sample(now_s);
}

void DashboardState::close_sample(double now_s) {
  TelemetrySample sample;
  sample.t_s = now_s;
  sample.tokens_per_s = current_tps_;
  sample.selections = tick_selections_;
  if (tick_selections_ > 0) {
    sample.kept = static_cast<double>(tick_kept_) / tick_selections_;
    sample.dropped = static_cast<double>(tick_dropped_) / tick_selections_;
    sample.latency_ms = tick_latency_ms_ / tick_selections_;
  }
  // The cache's hit rate over this tick: its counters' growth since the last one.
  const uint64_t hits = cache_.hits(), lookups = cache_.hits() + cache_.misses();
  if (lookups > tick_lookups_) {
    sample.cache_hit_rate = static_cast<double>(hits - tick_hits_) / (lookups - tick_lookups_);
  }
  tick_hits_ = hits;
  tick_lookups_ = lookups;
  telemetry_.push_back(sample);
  while (!telemetry_.empty() && telemetry_.front().t_s < now_s - kMaxHistorySeconds)
    telemetry_.pop_front();
  tick_selections_ = 0;
  tick_kept_ = tick_dropped_ = 0;
  tick_latency_ms_ = 0;
}

}  // namespace moe::ui
