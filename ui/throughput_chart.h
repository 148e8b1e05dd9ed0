#pragma once
// Tokens per second over the selected time window (a Qt Charts line, replaced once per timer
// tick), with a hover read-out.
#include <QChartView>
#include <deque>

#include "ui/dashboard_state.h"

class QLineSeries;
class QValueAxis;

namespace moe::ui {

class ChartHover;
struct TimeWindow;

class ThroughputChart : public QChartView {
  Q_OBJECT
 public:
  explicit ThroughputChart(QWidget* parent = nullptr);
  void set_window(const std::deque<TelemetrySample>& samples, const TimeWindow& w);
  int point_count() const;
  QValueAxis* x_axis() const { return x_; }
  QValueAxis* y_axis() const { return y_; }
  ChartHover* hover() const { return hover_; }

 private:
  QLineSeries* series_;
  QValueAxis *x_, *y_;
  ChartHover* hover_;
};

}  // namespace moe::ui
