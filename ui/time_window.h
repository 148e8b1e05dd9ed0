#pragma once
// The span the dashboard's time charts and its CSV export show, as in Grafana's time picker:
// the last 10 s, 60 s or 10 min, or the whole latest answer.
#include <QString>
#include <QStringList>
#include <deque>
#include <utility>

#include "ui/dashboard_state.h"

namespace moe::ui {

enum class WindowKind { kLast10s, kLast60s, kLast10min, kWholeAnswer };

struct TimeWindow {
  double t0 = 0, t1 = 0;  ///< dashboard-clock seconds shown
  double origin = 0;      ///< charts plot x = t - origin (t1 for the rolling windows: 0 = now)
  QString axis_title;     ///< with the unit

  double x_min() const { return t0 - origin; }
  double x_max() const { return t1 - origin; }
};

/// The combo box entries, in WindowKind order.
QStringList window_kind_names();
/// The window ending at `now_s`; for the whole answer, [answer_start_s, answer_end_s] (the end
/// is `now_s` while the answer runs, i.e. answer_end_s < answer_start_s).
TimeWindow make_window(WindowKind kind, double now_s, double answer_start_s, double answer_end_s);

/// Indices [first, last) of the samples (sorted by time) inside `w`.
std::pair<size_t, size_t> samples_in(const std::deque<TelemetrySample>& samples,
                                     const TimeWindow& w);
/// Every n-th sample so that a chart gets at most `max_points` (10 min at 10 Hz is 6000).
size_t thinning_stride(size_t n, size_t max_points = 600);

}  // namespace moe::ui
