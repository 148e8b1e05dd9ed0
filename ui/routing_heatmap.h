#pragma once
// Live routing heatmap (layer × expert): how often each expert was chosen at each layer over the
// rolling window, painted from a small QImage (one pixel per cell) scaled up, with the last
// token's route outlined (per layer: the latest token that reached it), a colour legend and a
// tooltip with the cell under the cursor. Before any token is routed it shows a placeholder.
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
  /// True while there is nothing routed to show (the placeholder text is painted instead).
  bool showing_placeholder() const { return image_.isNull() || window_tokens_ == 0; }
  /// The read-out under the cursor (empty off the cells).
  const QString& hover_text() const { return hover_text_; }
  /// The cell rectangle of (layer, expert) in widget coordinates (tests point at it).
  QRectF cell_rect(int layer, int expert) const;
  QSize minimumSizeHint() const override { return {260, 200}; }

 protected:
  void paintEvent(QPaintEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  void leaveEvent(QEvent* event) override;

 private:
  QImage image_;  ///< n_expert × n_layer, Format_RGB32
  QRect plot_rect() const;

  std::vector<float> heat_, last_route_;
  QString hover_text_;
  int n_layer_ = 0, n_expert_ = 0, window_tokens_ = 0;
};

}  // namespace moe::ui
