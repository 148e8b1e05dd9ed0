#pragma once
// Prefetch depth chosen by measured accuracy (offloading issue, "a wrong guess costs a disk
// read, so prefetch depth is chosen by measured accuracy"). Each prefetch settles as used (the
// expert was acquired while it was loading or resident) or wasted (evicted unused, or its read
// failed). A wasted guess is a whole expert read on a disk that demand misses need, and a slot
// taken from a resident that may be wanted again; on the project's machine guesses that were
// right 51-66 % of the time lost against no prefetch (mixtral-mini at 25-50 % budgets and the
// 26 GB Mixtral-8x7B shape: hit rate down, disk bytes per token doubled; docs/offloading.md).
// So after every window of settled prefetches the depth steps down when fewer than 3 in 4 were
// used and up (to the configured maximum) when at least 9 in 10 were; at depth 0 it probes
// depth 1 again after a while, because routing (and so accuracy) changes with the text; each
// probe that fails doubles the wait before the next (up to 16x), since a probe costs a window
// of guesses at the accuracy that switched prefetch off.
#include <algorithm>
#include <cstdint>

namespace moe {

class PrefetchDepth {
 public:
  static constexpr int kWindow = 32;             ///< settled prefetches per decision
  static constexpr double kLowerBelow = 0.75;    ///< accuracy below: one step shallower
  static constexpr double kRaiseFrom = 0.90;     ///< accuracy from: one step deeper
  static constexpr int kProbeAfterCalls = 1024;  ///< prefetch() calls at depth 0 before a probe
  static constexpr int kMaxProbeBackoff = 16;    ///< the wait grows to at most this many times

  explicit PrefetchDepth(int max_depth = 2) : max_(max_depth < 0 ? 0 : max_depth), depth_(max_) {}
  /// Queue at most this many guesses now.
  int depth() const { return depth_; }
  int max_depth() const { return max_; }
  /// Accuracy of the last full window (-1 before the first).
  double last_accuracy() const { return last_accuracy_; }
  /// Times the depth changed.
  int changes() const { return changes_; }
  /// prefetch() calls at depth 0 before the next probe.
  int probe_after() const { return probe_after_; }
  /// One prefetch() call (counts toward a probe while the depth is 0).
  void on_call() {
    if (depth_ > 0 || max_ == 0) return;
    if (++idle_calls_ >= probe_after_) {
      set(1);
      probing_ = true;
    }
  }
  /// One prefetch settled: used (a good guess) or wasted.
  void settled(bool used) {
    (used ? used_ : wasted_) += 1;
    if (used_ + wasted_ < kWindow) return;
    last_accuracy_ = static_cast<double>(used_) / static_cast<double>(used_ + wasted_);
    used_ = wasted_ = 0;
    if (last_accuracy_ < kLowerBelow && depth_ > 0) {
      if (probing_ && depth_ == 1) {
        probe_after_ = std::min(2 * probe_after_, kMaxProbeBackoff * kProbeAfterCalls);
      }
      set(depth_ - 1);
    } else if (last_accuracy_ >= kRaiseFrom && depth_ < max_) {
      set(depth_ + 1);
    }
    // A window that did not switch prefetch off ends the probe: guesses pay again.
    if (depth_ > 0) {
      probing_ = false;
      probe_after_ = kProbeAfterCalls;
    }
  }

 private:
  void set(int d) {
    if (d != depth_) ++changes_;
    depth_ = d;
    idle_calls_ = 0;
  }
  int max_, depth_;
  int used_ = 0, wasted_ = 0, idle_calls_ = 0, changes_ = 0;
  int probe_after_ = kProbeAfterCalls;
  bool probing_ = false;
  double last_accuracy_ = -1;
};

}  // namespace moe
