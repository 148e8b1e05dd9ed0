#include "ui/throughput_chart.h"

#include <QChart>
#include <QLineSeries>
#include <QValueAxis>
#include <algorithm>

#include "ui/chart_hover.h"
#include "ui/chart_style.h"
#include "ui/nice_axis.h"
#include "ui/time_window.h"

namespace moe::ui {

ThroughputChart::ThroughputChart(QWidget* parent) : QChartView(parent) {
  setObjectName("throughputChart");
  auto* chart = new QChart;
  style_chart(chart, tr("Tokens per second (decode)"));
  series_ = new QLineSeries;
  series_->setPen(QPen(QColor(46, 134, 193), 2));
  chart->addSeries(series_);
  x_ = new QValueAxis;
  y_ = new QValueAxis;
  y_->setTitleText(tr("tokens/s"));
  chart->addAxis(x_, Qt::AlignBottom);
  chart->addAxis(y_, Qt::AlignLeft);
  series_->attachAxis(x_);
  series_->attachAxis(y_);
  apply_axis(y_, nice_axis(0, 10));
  setChart(chart);
  setRenderHint(QPainter::Antialiasing);
  setMinimumHeight(kChartMinHeight);
  hover_ = new ChartHover(this, series_, [this](QPointF v) {
    const QPointF* p = nearest_by_x(series_->points(), v.x());
    return p ? tr("%1 s: %2 tokens/s").arg(p->x(), 0, 'f', 1).arg(p->y(), 0, 'f', 1) : QString();
  });
}

void ThroughputChart::set_window(const std::deque<TelemetrySample>& samples, const TimeWindow& w) {
  const auto [first, last] = samples_in(samples, w);
  const size_t stride = thinning_stride(last - first);
  QList<QPointF> points;
  points.reserve(static_cast<qsizetype>((last - first) / stride + 1));
  double ymax = 1;
  for (size_t i = first; i < last; i += stride) {
    const TelemetrySample& s = samples[i];
    points.append(QPointF(s.t_s - w.origin, s.tokens_per_s));
    ymax = std::max(ymax, s.tokens_per_s);
  }
  series_->replace(points);  // one replace per tick, never a point per signal
  x_->setTitleText(w.axis_title);
  apply_axis(x_, fitted_axis(chart(), x_, w.x_min(), w.x_max(), 7));
  apply_axis(y_, fitted_axis(chart(), y_, 0, ymax * 1.1));
}

int ThroughputChart::point_count() const {
  return static_cast<int>(series_->count());
}

}  // namespace moe::ui
