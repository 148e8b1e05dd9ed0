#pragma once
// Time per layer of the latest decode steps (TimingEvent::layer_ms), as bars, with a hover
// read-out per bar.
#include <QChartView>
#include <vector>

class QBarSeries;
class QBarSet;
class QBarCategoryAxis;
class QValueAxis;

namespace moe::ui {

class ChartHover;

class LayerTimeChart : public QChartView {
  Q_OBJECT
 public:
  explicit LayerTimeChart(QWidget* parent = nullptr);
  void set_layers(const std::vector<float>& layer_ms);
  double total_ms() const;
  QValueAxis* y_axis() const { return y_; }
  ChartHover* hover() const { return hover_; }

 private:
  QBarSeries* series_;
  QBarSet* set_;
  QBarCategoryAxis* x_;
  QValueAxis* y_;
  ChartHover* hover_;
};

}  // namespace moe::ui
