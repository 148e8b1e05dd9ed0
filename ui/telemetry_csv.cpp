#include "ui/telemetry_csv.h"

#include "ui/time_window.h"

namespace moe::ui {

namespace {
// RFC 4180: quote a field that holds a comma, quote or line break; double the quotes.
QString csv_field(const QString& s) {
  if (!s.contains(',') && !s.contains('"') && !s.contains('\n')) return s;
  return '"' + QString(s).replace('"', "\"\"") + '"';
}
}  // namespace

QString telemetry_csv_header() {
  return QStringLiteral(
      "time_s,tokens_per_s,decisions,experts_kept_per_decision,experts_dropped_per_decision,"
      "modelled_layer_latency_ms,cache_hit_rate,setting_change");
}

QString telemetry_csv(const std::deque<TelemetrySample>& samples,
                      const std::vector<SettingMarker>& markers, const TimeWindow& w) {
  QString out = telemetry_csv_header() + '\n';
  const auto [first, last] = samples_in(samples, w);
  size_t m = 0;  // next marker to name
  while (m < markers.size() && first < last && markers[m].t_s <= samples[first].t_s - 0.1) ++m;
  for (size_t i = first; i < last; ++i) {
    const TelemetrySample& s = samples[i];
    QString change;
    // A change is named in the first row after it: the row ending at the change holds the old
    // setting's selections (DashboardState::mark_setting_change closes it there).
    for (; m < markers.size() && markers[m].t_s < s.t_s; ++m)
      change += (change.isEmpty() ? "" : "; ") + markers[m].label;
    const bool sel = s.selections > 0;
    out += QString("%1,%2,%3,%4,%5,%6,%7,%8\n")
               .arg(s.t_s, 0, 'f', 2)
               .arg(s.tokens_per_s, 0, 'f', 2)
               .arg(s.selections)
               .arg(sel ? QString::number(s.kept, 'f', 4) : QString())
               .arg(sel ? QString::number(s.dropped, 'f', 4) : QString())
               .arg(sel ? QString::number(s.latency_ms, 'f', 4) : QString())
               .arg(s.cache_hit_rate >= 0 ? QString::number(s.cache_hit_rate, 'f', 4) : QString())
               .arg(csv_field(change));
  }
  return out;
}

}  // namespace moe::ui
