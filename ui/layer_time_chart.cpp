#include "ui/layer_time_chart.h"

#include <QBarCategoryAxis>
#include <QBarSeries>
#include <QBarSet>
#include <QChart>
#include <QValueAxis>
#include <algorithm>

#include "ui/chart_style.h"

namespace moe::ui {

LayerTimeChart::LayerTimeChart(QWidget* parent) : QChartView(parent) {
  setObjectName("layerTimeChart");
  auto* chart = new QChart;
  style_chart(chart, tr("Time per layer (ms, last decode steps)"));
  series_ = new QBarSeries;
  set_ = new QBarSet(tr("ms"));
  set_->setColor(QColor(118, 68, 138));
  series_->append(set_);
  chart->addSeries(series_);
  x_ = new QBarCategoryAxis;
  y_ = new QValueAxis;
  y_->setLabelFormat("%.2g");
  chart->addAxis(x_, Qt::AlignBottom);
  chart->addAxis(y_, Qt::AlignLeft);
  series_->attachAxis(x_);
  series_->attachAxis(y_);
  y_->setRange(0, 1);
  setChart(chart);
  setRenderHint(QPainter::Antialiasing);
  setMinimumHeight(170);
}

void LayerTimeChart::set_layers(const std::vector<float>& layer_ms) {
  const int n = static_cast<int>(layer_ms.size());
  if (set_->count() != n) {  // new model: new categories
    set_->remove(0, set_->count());
    QStringList cats;
    for (int l = 0; l < n; ++l) {
      set_->append(0.0);
      cats << QString::number(l);
    }
    x_->clear();
    x_->append(cats);
  }
  double ymax = 0;
  for (int l = 0; l < n; ++l) {
    set_->replace(l, layer_ms[static_cast<size_t>(l)]);
    ymax = std::max<double>(ymax, layer_ms[static_cast<size_t>(l)]);
  }
  y_->setRange(0, nice_ceiling(std::max(ymax * 1.15, 1e-3)));
}

double LayerTimeChart::total_ms() const {
  double s = 0;
  for (int i = 0; i < set_->count(); ++i) s += set_->at(i);
  return s;
}

}  // namespace moe::ui
