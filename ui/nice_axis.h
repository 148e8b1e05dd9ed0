#pragma once
// One axis helper for every dashboard chart: ranges on whole 1-2-5 × 10^n steps and a label
// format with exactly the decimals the step needs, so every label reads as its tick's value
// (a 0…2 axis never reads "0, 1, 1, 2, 2"; 0.125 is never labelled "0.1"). The same choice
// Grafana and matplotlib's MaxNLocator make.
#include <QString>
#include <QStringList>

class QChart;
class QValueAxis;

namespace moe::ui {

struct NiceAxis {
  double min = 0, max = 1, step = 0.2;
  int decimals = 1;  ///< digits after the point: enough for `step`, no more

  int tick_count() const;
  QString label_format() const;  ///< printf format for QValueAxis::setLabelFormat
  QString label(double value) const;
  QStringList labels() const;  ///< the label of every tick, min to max
};

/// The tightest range on 1-2-5 steps that covers [lo, hi] with at most `max_ticks` ticks.
NiceAxis nice_axis(double lo, double hi, int max_ticks = 6);
/// As nice_axis(), with no more ticks than Qt Charts can label whole along `axis` in `chart`'s
/// current plot area: it cuts a label to "..." when the label is longer than the axis length per
/// tick less its padding, so a small chart gets fewer, whole labels. Before the first layout
/// (empty plot area) it is nice_axis(lo, hi, max_ticks).
NiceAxis fitted_axis(const QChart* chart, const QValueAxis* axis, double lo, double hi,
                     int max_ticks = 6);
/// Range, tick count (fixed, one per step) and label format of `axis` from `a`.
void apply_axis(QValueAxis* axis, const NiceAxis& a);

}  // namespace moe::ui
