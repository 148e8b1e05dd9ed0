#pragma once
// Expert-cache hit rate per layer over time: one column per second (newest on the right), one
// row per layer, coloured by the colour scale of the routing heatmap; grey where a layer looked
// nothing up that second. Painted from a small QImage scaled up.
#include <QImage>
#include <QWidget>
#include <deque>
#include <vector>

namespace moe::ui {

class LayerHitChart : public QWidget {
  Q_OBJECT
 public:
  explicit LayerHitChart(QWidget* parent = nullptr);
  /// Columns oldest first, each [n_layer] in [0, 1] or < 0 (no lookups); `capacity` columns wide.
  void set_history(int n_layer, const std::deque<std::vector<float>>& columns, int capacity);
  const QImage& image() const { return image_; }
  int columns() const { return columns_; }
  QSize minimumSizeHint() const override { return {200, 150}; }

 protected:
  void paintEvent(QPaintEvent* event) override;

 private:
  QImage image_;  ///< capacity × n_layer
  int n_layer_ = 0, columns_ = 0;
};

}  // namespace moe::ui
