#include "ui/throughput_chart.h"

#include <QChart>
#include <QLineSeries>
#include <QValueAxis>
#include <algorithm>

#include "ui/chart_style.h"

namespace moe::ui {

ThroughputChart::ThroughputChart(QWidget* parent) : QChartView(parent) {
  setObjectName("throughputChart");
  auto* chart = new QChart;
  style_chart(chart, tr("Tokens per second (decode)"));
  series_ = new QLineSeries;
  series_->setPen(QPen(QColor(46, 134, 193), 2));
  chart->addSeries(series_);
  x_ = new QValueAxis;
  x_->setTitleText(tr("seconds"));
  x_->setLabelFormat("%.0f");
  y_ = new QValueAxis;
  y_->setTitleText(tr("tokens/s"));
  y_->setLabelFormat("%.0f");
  chart->addAxis(x_, Qt::AlignBottom);
  chart->addAxis(y_, Qt::AlignLeft);
  series_->attachAxis(x_);
  series_->attachAxis(y_);
  x_->setRange(-60, 0);
  y_->setRange(0, 10);
  setChart(chart);
  setRenderHint(QPainter::Antialiasing);
  setMinimumHeight(170);
}

void ThroughputChart::set_series(const QVector<QPointF>& points, double now_s) {
  QList<QPointF> shifted;  // x relative to now: the right edge is always "now"
  shifted.reserve(points.size());
  double ymax = 1;
  for (const QPointF& p : points) {
    shifted.append(QPointF(p.x() - now_s, p.y()));
    ymax = std::max(ymax, p.y());
  }
  series_->replace(shifted);  // one replace per tick, never a point per signal
  y_->setRange(0, nice_ceiling(ymax * 1.15));
}

int ThroughputChart::point_count() const {
  return static_cast<int>(series_->count());
}

}  // namespace moe::ui
