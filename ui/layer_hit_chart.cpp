#include "ui/layer_hit_chart.h"

#include <QPainter>
#include <algorithm>

#include "ui/color_scale.h"

namespace moe::ui {

LayerHitChart::LayerHitChart(QWidget* parent) : QWidget(parent) {
  setObjectName("layerHitChart");
  setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
}

void LayerHitChart::set_history(int n_layer, const std::deque<std::vector<float>>& columns,
                                int capacity) {
  n_layer_ = n_layer;
  columns_ = static_cast<int>(columns.size());
  if (n_layer <= 0 || capacity <= 0) {
    image_ = QImage();
    update();
    return;
  }
  if (image_.width() != capacity || image_.height() != n_layer)
    image_ = QImage(capacity, n_layer, QImage::Format_RGB32);
  image_.fill(palette().color(QPalette::Base));
  const int first = capacity - columns_;  // right-aligned: the newest second on the right
  for (int c = 0; c < columns_; ++c) {
    const std::vector<float>& col = columns[static_cast<size_t>(c)];
    for (int l = 0; l < n_layer && l < static_cast<int>(col.size()); ++l) {
      const float v = col[static_cast<size_t>(l)];
      image_.setPixel(first + c, l, v < 0 ? qRgb(120, 120, 120) : heat_color(v));
    }
  }
  update();
}

void LayerHitChart::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.fillRect(rect(), palette().window());
  const QFontMetrics fm = p.fontMetrics();
  p.setPen(palette().color(QPalette::WindowText));
  p.drawText(QRect(0, 0, width(), fm.height()), Qt::AlignCenter,
             tr("Hit rate per layer, last 60 s"));
  if (image_.isNull()) return;
  const int left = fm.horizontalAdvance("L00") + 8, top = fm.height() + 4;
  const int legend_w = fm.horizontalAdvance("100%") + 26, bottom = fm.height() + 4;
  const QRect plot(left, top, std::max(10, width() - left - legend_w),
                   std::max(10, height() - top - bottom));
  p.setRenderHint(QPainter::SmoothPixmapTransform, false);
  p.drawImage(plot, image_);
  const double ch = static_cast<double>(plot.height()) / n_layer_;
  const int lstep = std::max(1, static_cast<int>(fm.height() / std::max(1.0, ch)) + 1);
  for (int l = 0; l < n_layer_; l += lstep)
    p.drawText(QRectF(0, plot.top() + l * ch, left - 4, ch), Qt::AlignRight | Qt::AlignVCenter,
               QString("L%1").arg(l));
  p.drawText(QRect(plot.left(), plot.bottom() + 2, plot.width(), fm.height()), Qt::AlignLeft,
             tr("-60 s"));
  p.drawText(QRect(plot.left(), plot.bottom() + 2, plot.width(), fm.height()), Qt::AlignRight,
             tr("now"));
  const QRect bar(plot.right() + 8, plot.top(), 10, plot.height());
  QImage scale(1, 256, QImage::Format_RGB32);
  for (int i = 0; i < 256; ++i) scale.setPixel(0, 255 - i, heat_color(i / 255.0f));
  p.drawImage(bar, scale);
  p.drawText(QPoint(bar.right() + 3, bar.top() + fm.ascent()), "1");
  p.drawText(QPoint(bar.right() + 3, bar.bottom()), "0");
}

}  // namespace moe::ui
