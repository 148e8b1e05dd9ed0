#pragma once
// Tokens per second over the last minute (a Qt Charts line, replaced once per timer tick).
#include <QChartView>
#include <QPointF>
#include <QVector>

class QLineSeries;
class QValueAxis;

namespace moe::ui {

class ThroughputChart : public QChartView {
  Q_OBJECT
 public:
  explicit ThroughputChart(QWidget* parent = nullptr);
  void set_series(const QVector<QPointF>& points, double now_s);
  int point_count() const;

 private:
  QLineSeries* series_;
  QValueAxis *x_, *y_;
};

}  // namespace moe::ui
