#include "core/wdmoe/selection_recorder.h"

#include <algorithm>

namespace moe {

RecordingSelector::RecordingSelector(ExpertSelector& inner, int n_ctx)
    : inner_(inner), latency_(static_cast<size_t>(std::max(n_ctx, 1)), 0.0) {}

bool RecordingSelector::select(const SelectionInput& in, ExpertSelection& out,
                               SelectionEvent* event) {
  SelectionEvent local;
  SelectionEvent* ev = event ? event : &local;
  const bool described = inner_.select(in, out, ev);
  ++selections_;
  experts_used_ += static_cast<uint64_t>(std::max(out.n, 0));
  if (described) {
    experts_dropped_ += static_cast<uint64_t>(std::max<int16_t>(ev->n_dropped, 0));
    if (in.pos >= 0 && in.pos < static_cast<int32_t>(latency_.size()))
      latency_[static_cast<size_t>(in.pos)] += ev->token_latency_s;
  }
  return event != nullptr && described;
}

void RecordingSelector::clear() {
  std::fill(latency_.begin(), latency_.end(), 0.0);
  selections_ = experts_used_ = experts_dropped_ = 0;
}

double RecordingSelector::token_latency_s(int pos) const {
  return pos >= 0 && pos < static_cast<int>(latency_.size()) ? latency_[static_cast<size_t>(pos)]
                                                             : 0.0;
}

double RecordingSelector::mean_experts() const {
  return selections_ > 0 ? static_cast<double>(experts_used_) / selections_ : 0.0;
}

}  // namespace moe
