#pragma once
// Hover read-out for a dashboard chart (as Grafana's and PlotJuggler's tooltips): as the mouse
// moves over the plot area, the value under the cursor is formatted by the chart and shown in
// a tooltip. Installed on the view's viewport, so the chart classes only supply the text.
#include <QList>
#include <QObject>
#include <QPointF>
#include <QString>
#include <functional>

class QAbstractSeries;
class QChartView;

namespace moe::ui {

class ChartHover : public QObject {
  Q_OBJECT
 public:
  /// `readout(value)`: the text for the chart coordinates under the cursor (in `series`' axes),
  /// empty when there is nothing there.
  using Readout = std::function<QString(QPointF value)>;
  ChartHover(QChartView* view, QAbstractSeries* series, Readout readout);

  /// The read-out shown now (empty when the cursor is off the plot).
  const QString& text() const { return text_; }

 protected:
  bool eventFilter(QObject* watched, QEvent* event) override;

 private:
  QChartView* view_;
  QAbstractSeries* series_;
  Readout readout_;
  QString text_;
};

/// The point of `points` (sorted by x) nearest to x; nullptr when empty.
const QPointF* nearest_by_x(const QList<QPointF>& points, double x);

}  // namespace moe::ui
