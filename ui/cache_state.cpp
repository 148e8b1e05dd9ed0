#include "ui/cache_state.h"

#include <algorithm>

namespace moe::ui {

void CacheState::reset(int n_layer, int n_expert, const std::vector<ExpertResidency>& residency) {
  *this = CacheState();
  n_layer_ = std::max(n_layer, 0);
  n_expert_ = std::max(n_expert, 0);
  const size_t n = static_cast<size_t>(n_layer_) * static_cast<size_t>(n_expert_);
  if (residency.size() == n) residency_ = residency;
  last_hit_s_.assign(n, -1e9);
  col_hits_.assign(static_cast<size_t>(n_layer_), 0);
  col_lookups_ = col_hits_;
}

size_t CacheState::index(const CacheEvent& e) const {
  if (e.layer < 0 || e.layer >= n_layer_ || e.expert < 0 || e.expert >= n_expert_) {
    return SIZE_MAX;
  }
  return static_cast<size_t>(e.layer) * static_cast<size_t>(n_expert_) +
         static_cast<size_t>(e.expert);
}

void CacheState::on_cache(const CacheEvent& e) {
  const size_t i = index(e);
  if (i == SIZE_MAX) return;
  ++events_;
  if (residency_.empty()) residency_.assign(last_hit_s_.size(), ExpertResidency::kDisk);
  const auto layer = static_cast<size_t>(e.layer);
  const ExpertResidency in_ram =
      (e.flags & CacheEvent::kPinned) != 0 ? ExpertResidency::kPinned : ExpertResidency::kRam;
  switch (e.kind) {
    case CacheEvent::Kind::kHit:
      ++hits_, ++col_hits_[layer], ++col_lookups_[layer];
      last_hit_s_[i] = now_s_;
      residency_[i] = in_ram;
      break;
    case CacheEvent::Kind::kMiss:
      ++misses_, ++col_lookups_[layer];
      break;
    case CacheEvent::Kind::kPrefetchIssued:
      ++issued_;
      if (residency_[i] == ExpertResidency::kDisk) residency_[i] = ExpertResidency::kLoading;
      break;
    case CacheEvent::Kind::kPrefetchUsed:
      ++used_;
      break;
    case CacheEvent::Kind::kPrefetchWasted:
      ++wasted_;
      if (residency_[i] == ExpertResidency::kLoading) residency_[i] = ExpertResidency::kDisk;
      break;
    case CacheEvent::Kind::kLoaded:
      bytes_read_ += e.bytes;
      tick_bytes_ += e.bytes;
      if ((e.flags & CacheEvent::kTransient) == 0) residency_[i] = in_ram;
      break;
    case CacheEvent::Kind::kEvict:
      ++evictions_;
      residency_[i] = ExpertResidency::kDisk;
      break;
  }
}

void CacheState::on_timing(const TimingEvent& e) {
  if (e.phase != StepPhase::kDecode) return;
  ++decode_steps_;
  const double x = static_cast<double>(decode_steps_);
  predicted_ms_.push_back(QPointF(x, e.predicted_load_s * 1e3));
  measured_ms_.push_back(QPointF(x, e.measured_load_s * 1e3));
  for (QVector<QPointF>* v : {&predicted_ms_, &measured_ms_}) {
    if (v->size() > kLatencyPoints) v->remove(0, v->size() - kLatencyPoints);
  }
}

void CacheState::tick(double now_s) {
  now_s_ = now_s;
  reads_.emplace_back(now_s, tick_bytes_);
  tick_bytes_ = 0;
  while (!reads_.empty() && reads_.front().first <= now_s - 1.0) reads_.pop_front();
  uint64_t bytes = 0;
  for (const auto& r : reads_) bytes += r.second;
  disk_mb_s_ = static_cast<double>(bytes) / 1e6;  // bytes of the last second
  if (column_start_s_ < 0) column_start_s_ = now_s;
  if (now_s - column_start_s_ < 1.0) return;
  // A column per second in which the model looked anything up.
  column_start_s_ = now_s;
  const bool any =
      std::any_of(col_lookups_.begin(), col_lookups_.end(), [](uint64_t n) { return n > 0; });
  if (any) {
    std::vector<float> col(col_lookups_.size(), -1.0f);
    for (size_t l = 0; l < col.size(); ++l) {
      if (col_lookups_[l] > 0) {
        col[l] = static_cast<float>(col_hits_[l]) / static_cast<float>(col_lookups_[l]);
      }
    }
    history_.push_back(std::move(col));
    while (static_cast<int>(history_.size()) > kHistoryColumns) history_.pop_front();
  }
  std::fill(col_hits_.begin(), col_hits_.end(), 0);
  std::fill(col_lookups_.begin(), col_lookups_.end(), 0);
}

std::vector<bool> CacheState::flashing() const {
  std::vector<bool> out(last_hit_s_.size());
  for (size_t i = 0; i < out.size(); ++i) out[i] = now_s_ - last_hit_s_[i] <= kFlashSeconds;
  return out;
}

int CacheState::count(ExpertResidency r) const {
  return static_cast<int>(std::count(residency_.begin(), residency_.end(), r));
}

}  // namespace moe::ui
