#pragma once
// One axis helper for every dashboard chart: ranges on whole 1-2-5 × 10^n steps and a label
// format with exactly the decimals the step needs, so every label reads as its tick's value
// (a 0…2 axis never reads "0, 1, 1, 2, 2"; 0.125 is never labelled "0.1"). The same choice
// Grafana and matplotlib's MaxNLocator make.
#include <QString>
#include <QStringList>

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
/// Range, tick count (fixed, one per step) and label format of `axis` from `a`.
void apply_axis(QValueAxis* axis, const NiceAxis& a);

}  // namespace moe::ui
