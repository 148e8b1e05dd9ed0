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
  if (key != last_key_) {
    std::fill(last_route_.begin(), last_route_.end(), 0.0f);
    last_key_ = key;
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
  const int max_points = static_cast<int>(kHistorySeconds * 10) + 1;
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
}

}  // namespace moe::ui
