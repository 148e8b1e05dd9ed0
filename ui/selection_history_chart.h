#pragma once
// The θ rule over time: experts kept per token-layer and the modelled layer latency (WDMoE
// eq. 7) per timer tick, with a dashed marker and label at each θ / k / scenario change, so a
// setting change shows as a step instead of vanishing into a running average.
#include <QChartView>
#include <deque>
#include <vector>

#include "ui/dashboard_state.h"

class QLineSeries;
class QValueAxis;

namespace moe::ui {

class ChartHover;
struct TimeWindow;

class SelectionHistoryChart : public QChartView {
  Q_OBJECT
 public:
  explicit SelectionHistoryChart(QWidget* parent = nullptr);
  void set_window(const std::deque<TelemetrySample>& samples,
                  const std::vector<SettingMarker>& markers, const TimeWindow& w);

  /// Chart points (x = time on the chart's axis, y = experts kept per token-layer).
  QList<QPointF> kept_points() const;
  /// The setting changes drawn in the current window (x on the chart's axis).
  const std::vector<SettingMarker>& visible_markers() const { return markers_; }
  ChartHover* hover() const { return hover_; }

 protected:
  void drawForeground(QPainter* painter, const QRectF& rect) override;

 private:
  QLineSeries *kept_, *latency_;
  QValueAxis *x_, *y_kept_, *y_ms_;
  std::vector<SettingMarker> markers_;
  ChartHover* hover_;
};

}  // namespace moe::ui
