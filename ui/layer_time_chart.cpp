#include "ui/layer_time_chart.h"

#include <QBarCategoryAxis>
#include <QBarSeries>
#include <QBarSet>
#include <QChart>
#include <QValueAxis>
#include <algorithm>
#include <cmath>

#include "ui/chart_hover.h"
#include "ui/chart_style.h"
#include "ui/nice_axis.h"

namespace moe::ui {

LayerTimeChart::LayerTimeChart(QWidget* parent) : QChartView(parent) {
  setObjectName("layerTimeChart");
  auto* chart = new QChart;
  style_chart(chart, tr("Time per layer (last decode steps)"));
  series_ = new QBarSeries;
  set_ = new QBarSet(tr("ms"));
  set_->setColor(QColor(118, 68, 138));
  series_->append(set_);
  chart->addSeries(series_);
  x_ = new QBarCategoryAxis;
  x_->setTitleText(tr("layer"));
  y_ = new QValueAxis;
  y_->setTitleText(tr("ms"));
  chart->addAxis(x_, Qt::AlignBottom);
  chart->addAxis(y_, Qt::AlignLeft);
  series_->attachAxis(x_);
  series_->attachAxis(y_);
  apply_axis(y_, nice_axis(0, 1));
  setChart(chart);
  setRenderHint(QPainter::Antialiasing);
  setMinimumHeight(kChartMinHeight);
  // Categories sit at x = 0, 1, …: the bar under the cursor is the nearest integer.
  hover_ = new ChartHover(this, series_, [this](QPointF v) {
    const int l = static_cast<int>(std::lround(v.x()));
    if (l < 0 || l >= set_->count()) return QString();
    return tr("Layer %1: %2 ms").arg(l).arg(set_->at(l), 0, 'f', 3);
  });
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
  apply_axis(y_, fitted_axis(chart(), y_, 0, std::max(ymax * 1.1, 1e-3)));
}

double LayerTimeChart::total_ms() const {
  double s = 0;
  for (int i = 0; i < set_->count(); ++i) s += set_->at(i);
  return s;
}

}  // namespace moe::ui
