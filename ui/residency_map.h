#pragma once
// Where every expert lives (layer × expert), coloured by tier — RAM slot, pinned RAM slot, read
// in flight, disk only — with the experts hit in the last moments outlined (they flash as the
// model routes). Painted from a small QImage (one pixel per cell) scaled up, as the heatmap is.
#include <QImage>
#include <QWidget>
#include <vector>

#include "core/store/tiered_store_stats.h"

namespace moe::ui {

class ResidencyMap : public QWidget {
  Q_OBJECT
 public:
  explicit ResidencyMap(QWidget* parent = nullptr);
  /// residency, flashing: [n_layer * n_expert].
  void set_data(int n_layer, int n_expert, const std::vector<ExpertResidency>& residency,
                const std::vector<bool>& flashing);
  /// The colour of a tier in the map and its legend.
  static QRgb color(ExpertResidency r);
  static QRgb flash_color();
  const QImage& image() const { return image_; }
  QSize minimumSizeHint() const override { return {200, 150}; }

 protected:
  void paintEvent(QPaintEvent* event) override;

 private:
  QImage image_;  ///< n_expert × n_layer
  std::vector<bool> flashing_;
  int n_layer_ = 0, n_expert_ = 0;
};

}  // namespace moe::ui
