#include "ui/time_window.h"

#include <QCoreApplication>
#include <algorithm>

namespace moe::ui {

QStringList window_kind_names() {
  return {QCoreApplication::translate("TimeWindow", "Last 10 s"),
          QCoreApplication::translate("TimeWindow", "Last 60 s"),
          QCoreApplication::translate("TimeWindow", "Last 10 min"),
          QCoreApplication::translate("TimeWindow", "Whole answer")};
}

TimeWindow make_window(WindowKind kind, double now_s, double answer_start_s, double answer_end_s) {
  TimeWindow w;
  w.t1 = now_s;
  w.origin = now_s;
  w.axis_title = QCoreApplication::translate("TimeWindow", "seconds (0 = now)");
  switch (kind) {
    case WindowKind::kLast10s:
      w.t0 = now_s - 10;
      break;
    case WindowKind::kLast60s:
      w.t0 = now_s - 60;
      break;
    case WindowKind::kLast10min:
      w.t0 = now_s - 600;
      break;
    case WindowKind::kWholeAnswer:
      w.t0 = std::min(answer_start_s, now_s);
      if (answer_end_s >= answer_start_s) w.t1 = std::min(answer_end_s, now_s);
      w.t1 = std::max(w.t1, w.t0 + 1);  // a chart needs a non-empty range
      w.origin = w.t0;
      w.axis_title = QCoreApplication::translate("TimeWindow", "seconds since the answer began");
      break;
  }
  return w;
}

std::pair<size_t, size_t> samples_in(const std::deque<TelemetrySample>& samples,
                                     const TimeWindow& w) {
  auto before = [](const TelemetrySample& s, double t) { return s.t_s < t; };
  const auto first = std::lower_bound(samples.begin(), samples.end(), w.t0, before);
  const auto last = std::upper_bound(samples.begin(), samples.end(), w.t1,
                                     [](double t, const TelemetrySample& s) { return t < s.t_s; });
  return {static_cast<size_t>(first - samples.begin()),
          static_cast<size_t>(last - samples.begin())};
}

size_t thinning_stride(size_t n, size_t max_points) {
  return std::max<size_t>(1, (n + max_points - 1) / max_points);
}

}  // namespace moe::ui
