#pragma once
// Time per layer of the latest decode steps (TimingEvent::layer_ms), as bars.
#include <QChartView>
#include <vector>

class QBarSeries;
class QBarSet;
class QBarCategoryAxis;
class QValueAxis;

namespace moe::ui {

class LayerTimeChart : public QChartView {
  Q_OBJECT
 public:
  explicit LayerTimeChart(QWidget* parent = nullptr);
  void set_layers(const std::vector<float>& layer_ms);
  double total_ms() const;

 private:
  QBarSeries* series_;
  QBarSet* set_;
  QBarCategoryAxis* x_;
  QValueAxis* y_;
};

}  // namespace moe::ui
