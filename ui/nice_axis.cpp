#include "ui/nice_axis.h"

#include <QChart>
#include <QFontMetricsF>
#include <QValueAxis>
#include <algorithm>
#include <cmath>

namespace moe::ui {

namespace {
// Tolerance for "this value is on a step": ranges come from floating-point data.
constexpr double kEps = 1e-9;

// The smallest of 1, 2, 5 × 10^n that is >= x (x > 0).
double nice_step_at_least(double x) {
  const double p = std::pow(10.0, std::floor(std::log10(x)));
  for (double m : {1.0, 2.0, 5.0})
    if (m * p >= x * (1 - kEps)) return m * p;
  return 10 * p;
}
}  // namespace

int NiceAxis::tick_count() const {
  return static_cast<int>(std::lround((max - min) / step)) + 1;
}

QString NiceAxis::label_format() const {
  return QString("%.%1f").arg(decimals);
}

QString NiceAxis::label(double value) const {
  // Same formatting as QValueAxis with label_format(); "-0" would read as a different value.
  const QString s = QString::asprintf(label_format().toLatin1().constData(), value);
  return s.startsWith('-') && s.mid(1).toDouble() == 0 ? s.mid(1) : s;
}

QStringList NiceAxis::labels() const {
  QStringList out;
  for (int i = 0; i < tick_count(); ++i) out << label(min + i * step);
  return out;
}

NiceAxis nice_axis(double lo, double hi, int max_ticks) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) lo = 0, hi = 1;
  if (hi < lo) std::swap(lo, hi);
  if (hi - lo < 1e-12) hi = lo + (lo == 0 ? 1 : std::abs(lo) * 0.1);
  max_ticks = std::max(max_ticks, 2);
  NiceAxis a;
  a.step = nice_step_at_least((hi - lo) / (max_ticks - 1));
  for (;;) {
    a.min = std::floor(lo / a.step + kEps) * a.step;
    a.max = std::ceil(hi / a.step - kEps) * a.step;
    if (a.tick_count() <= max_ticks) break;
    a.step = nice_step_at_least(a.step * 1.5);  // the next 1-2-5 step
  }
  a.decimals = std::max(0, static_cast<int>(-std::floor(std::log10(a.step) + kEps)));
  return a;
}

NiceAxis fitted_axis(const QChart* chart, const QValueAxis* axis, double lo, double hi,
                     int max_ticks) {
  const QRectF plot = chart->plotArea();
  const bool vertical = axis->orientation() == Qt::Vertical;
  const double length = vertical ? plot.height() : plot.width();
  if (length <= 0) return nice_axis(lo, hi, max_ticks);
  // Qt Charts (HorizontalAxis / VerticalAxis::updateGeometry) gives each label the axis length
  // divided by the tick count, less 4 px of padding on either side; 3 px more cover its text
  // item's margins.
  constexpr double kPadding = 2 * 4 + 3;
  const QFontMetricsF fm(axis->labelsFont());
  for (int n = max_ticks; n > 2; --n) {
    const NiceAxis a = nice_axis(lo, hi, n);
    double need = fm.height();
    if (!vertical)
      for (const QString& label : a.labels()) need = std::max(need, fm.horizontalAdvance(label));
    if (length / a.tick_count() >= need + kPadding) return a;
  }
  return nice_axis(lo, hi, 2);
}

void apply_axis(QValueAxis* axis, const NiceAxis& a) {
  axis->setTickType(QValueAxis::TicksFixed);
  axis->setRange(a.min, a.max);
  axis->setTickCount(a.tick_count());
  axis->setLabelFormat(a.label_format());
}

}  // namespace moe::ui
