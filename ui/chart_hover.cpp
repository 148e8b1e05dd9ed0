#include "ui/chart_hover.h"

#include <QChart>
#include <QChartView>
#include <QMouseEvent>
#include <QToolTip>
#include <algorithm>

namespace moe::ui {

ChartHover::ChartHover(QChartView* view, QAbstractSeries* series, Readout readout)
    : QObject(view), view_(view), series_(series), readout_(std::move(readout)) {
  view_->viewport()->setMouseTracking(true);  // moves without a button pressed
  view_->viewport()->installEventFilter(this);
}

bool ChartHover::eventFilter(QObject* watched, QEvent* event) {
  if (event->type() == QEvent::MouseMove) {
    const QPoint pos = static_cast<QMouseEvent*>(event)->position().toPoint();
    const QPointF scene = view_->mapToScene(pos);
    QChart* chart = view_->chart();
    QString text;
    if (chart->plotArea().contains(scene))
      text = readout_(chart->mapToValue(chart->mapFromScene(scene), series_));
    if (text != text_) {
      text_ = text;
      if (text_.isEmpty())
        QToolTip::hideText();
      else
        QToolTip::showText(view_->viewport()->mapToGlobal(pos), text_, view_->viewport());
    }
  } else if (event->type() == QEvent::Leave) {
    text_.clear();
    QToolTip::hideText();
  }
  return QObject::eventFilter(watched, event);
}

const QPointF* nearest_by_x(const QList<QPointF>& points, double x) {
  if (points.isEmpty()) return nullptr;
  auto it = std::lower_bound(points.begin(), points.end(), x,
                             [](const QPointF& p, double v) { return p.x() < v; });
  if (it == points.end()) return &points.back();
  if (it != points.begin() && x - std::prev(it)->x() < it->x() - x) --it;
  return &*it;
}

}  // namespace moe::ui
