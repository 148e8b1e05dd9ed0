#include "ui/residency_map.h"

#include <QPainter>
#include <algorithm>

#include "ui/chart_style.h"

namespace moe::ui {

ResidencyMap::ResidencyMap(QWidget* parent) : QWidget(parent) {
  setObjectName("residencyMap");
  setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
}

QRgb ResidencyMap::color(ExpertResidency r) {
  switch (r) {
    case ExpertResidency::kRam:
      return qRgb(41, 128, 185);
    case ExpertResidency::kPinned:
      return qRgb(142, 68, 173);
    case ExpertResidency::kLoading:
      return qRgb(243, 156, 18);
    case ExpertResidency::kDisk:
      break;
  }
  return qRgb(200, 204, 208);
}

QRgb ResidencyMap::flash_color() {
  return qRgb(255, 235, 59);
}

void ResidencyMap::set_data(int n_layer, int n_expert,
                            const std::vector<ExpertResidency>& residency,
                            const std::vector<bool>& flashing) {
  n_layer_ = n_layer;
  n_expert_ = n_expert;
  flashing_ = flashing;
  const size_t n =
      static_cast<size_t>(std::max(n_layer, 0)) * static_cast<size_t>(std::max(n_expert, 0));
  if (n == 0 || residency.size() != n) {
    image_ = QImage();
  } else {
    if (image_.width() != n_expert || image_.height() != n_layer)
      image_ = QImage(n_expert, n_layer, QImage::Format_RGB32);
    for (int l = 0; l < n_layer; ++l) {
      auto* row = reinterpret_cast<QRgb*>(image_.scanLine(l));
      for (int e = 0; e < n_expert; ++e)
        row[e] = color(residency[static_cast<size_t>(l * n_expert + e)]);
    }
  }
  update();
}

void ResidencyMap::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.fillRect(rect(), palette().window());
  const QFontMetrics fm = p.fontMetrics();
  if (image_.isNull()) {
    p.setPen(palette().color(QPalette::PlaceholderText));
    p.drawText(rect(), Qt::AlignCenter, tr("No expert cache."));
    return;
  }
  const int left = fm.horizontalAdvance("L00") + 8, top = 4;
  const int bottom = 2 * fm.height() + 10;
  const QRect plot(left, top, std::max(10, width() - left - 6),
                   std::max(10, height() - top - bottom));
  p.setRenderHint(QPainter::SmoothPixmapTransform, false);
  p.drawImage(plot, image_);
  const double cw = static_cast<double>(plot.width()) / n_expert_;
  const double ch = static_cast<double>(plot.height()) / n_layer_;
  // Cell borders, then the hits of the last moments outlined.
  p.setPen(QPen(palette().color(QPalette::Window), 1));
  for (int e = 1; e < n_expert_; ++e)
    p.drawLine(QPointF(plot.left() + e * cw, plot.top()),
               QPointF(plot.left() + e * cw, plot.bottom()));
  for (int l = 1; l < n_layer_; ++l)
    p.drawLine(QPointF(plot.left(), plot.top() + l * ch),
               QPointF(plot.right(), plot.top() + l * ch));
  p.setPen(QPen(QColor(flash_color()), std::max(2.0, std::min(cw, ch) * 0.15)));
  p.setBrush(Qt::NoBrush);
  for (int l = 0; l < n_layer_; ++l)
    for (int e = 0; e < n_expert_; ++e)
      if (flashing_.size() > static_cast<size_t>(l * n_expert_ + e) &&
          flashing_[static_cast<size_t>(l * n_expert_ + e)])
        p.drawRect(QRectF(plot.left() + e * cw + 2, plot.top() + l * ch + 2, cw - 4, ch - 4));

  p.setPen(palette().color(QPalette::WindowText));
  draw_layer_expert_labels(p, plot, left - 4, n_layer_, n_expert_);
  // Legend under the axis.
  int x = plot.left();
  const int y = plot.bottom() + fm.height() + 6, box = fm.height() - 4;
  const std::pair<QRgb, QString> items[] = {{color(ExpertResidency::kRam), tr("RAM")},
                                            {color(ExpertResidency::kPinned), tr("pinned")},
                                            {color(ExpertResidency::kLoading), tr("loading")},
                                            {color(ExpertResidency::kDisk), tr("disk")},
                                            {flash_color(), tr("hit")}};
  for (const auto& [c, label] : items) {
    p.fillRect(QRect(x, y + 2, box, box), QColor(c));
    p.drawText(QPoint(x + box + 4, y + fm.ascent()), label);
    x += box + 12 + fm.horizontalAdvance(label);
  }
}

}  // namespace moe::ui
