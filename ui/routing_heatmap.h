#pragma once
// Live routing heatmap (layer × expert): how often each expert was chosen at each layer over the
// rolling window, painted from a small QImage (one pixel per cell) scaled up, with the last
// token's route outlined and a colour legend.
#include <QImage>
#include <QWidget>
#include <vector>

namespace moe::ui {

class RoutingHeatmap : public QWidget {
  Q_OBJECT
 public:
  explicit RoutingHeatmap(QWidget* parent = nullptr);
  /// heat, last_route: [n_layer * n_expert], heat in [0, 1].
  void set_data(int n_layer, int n_expert, const std::vector<float>& heat,
                const std::vector<float>& last_route, int window_tokens);
  const QImage& image() const { return image_; }
  QSize minimumSizeHint() const override { return {260, 200}; }

 protected:
  void paintEvent(QPaintEvent* event) override;

 private:
  QImage image_;  ///< n_expert × n_layer, Format_RGB32
  std::vector<float> last_route_;
  int n_layer_ = 0, n_expert_ = 0, window_tokens_ = 0;
};

}  // namespace moe::ui
