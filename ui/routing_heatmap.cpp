#include "ui/routing_heatmap.h"

#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>
#include <algorithm>
#include <cmath>

#include "ui/chart_style.h"
#include "ui/color_scale.h"

namespace moe::ui {

RoutingHeatmap::RoutingHeatmap(QWidget* parent) : QWidget(parent) {
  setObjectName("routingHeatmap");
  setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
  setMouseTracking(true);  // the hover read-out follows the cursor without a button
}

QRect RoutingHeatmap::plot_rect() const {
  const QFontMetrics fm = fontMetrics();
  const int left = fm.horizontalAdvance("L00") + 10, top = 6;
  const int legend_w = fm.horizontalAdvance("100%") + 30, bottom = fm.height() + 6;
  return QRect(left, top, std::max(10, width() - left - legend_w - 8),
               std::max(10, height() - top - bottom));
}

QRectF RoutingHeatmap::cell_rect(int layer, int expert) const {
  const QRect plot = plot_rect();
  const double cw = static_cast<double>(plot.width()) / std::max(1, n_expert_);
  const double ch = static_cast<double>(plot.height()) / std::max(1, n_layer_);
  return QRectF(plot.left() + expert * cw, plot.top() + layer * ch, cw, ch);
}

void RoutingHeatmap::mouseMoveEvent(QMouseEvent* event) {
  QString text;
  const QRect plot = plot_rect();
  const QPointF p = event->position();
  if (!showing_placeholder() && plot.contains(p.toPoint())) {
    const int e = std::clamp(static_cast<int>((p.x() - plot.left()) * n_expert_ / plot.width()), 0,
                             n_expert_ - 1);
    const int l = std::clamp(static_cast<int>((p.y() - plot.top()) * n_layer_ / plot.height()), 0,
                             n_layer_ - 1);
    const size_t i = static_cast<size_t>(l * n_expert_ + e);
    const float share = i < heat_.size() ? heat_[i] : 0.0f;
    const float weight = i < last_route_.size() ? last_route_[i] : 0.0f;
    text = tr("Layer %1, expert %2: %3% of the last %4 tokens (%5 tokens)%6")
               .arg(l)
               .arg(e)
               .arg(100.0 * share, 0, 'f', 1)
               .arg(window_tokens_)
               .arg(std::lround(share * window_tokens_))
               .arg(weight > 0 ? tr("; last token: gate weight %1").arg(weight, 0, 'f', 2)
                               : QString());
  }
  if (text != hover_text_) {
    hover_text_ = text;
    if (text.isEmpty())
      QToolTip::hideText();
    else
      QToolTip::showText(event->globalPosition().toPoint(), text, this);
  }
}

void RoutingHeatmap::leaveEvent(QEvent*) {
  hover_text_.clear();
  QToolTip::hideText();
}

void RoutingHeatmap::set_data(int n_layer, int n_expert, const std::vector<float>& heat,
                              const std::vector<float>& last_route, int window_tokens) {
  n_layer_ = n_layer;
  n_expert_ = n_expert;
  window_tokens_ = window_tokens;
  heat_ = heat;
  last_route_ = last_route;
  if (n_layer <= 0 || n_expert <= 0) {
    image_ = QImage();
  } else {
    if (image_.width() != n_expert || image_.height() != n_layer)
      image_ = QImage(n_expert, n_layer, QImage::Format_RGB32);
    for (int l = 0; l < n_layer; ++l) {
      auto* row = reinterpret_cast<QRgb*>(image_.scanLine(l));
      for (int e = 0; e < n_expert; ++e) {
        const size_t i = static_cast<size_t>(l * n_expert + e);
        row[e] = heat_color(i < heat.size() ? heat[i] : 0.0f);
      }
    }
  }
  update();
}

void RoutingHeatmap::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.fillRect(rect(), palette().window());
  const QFontMetrics fm = p.fontMetrics();
  if (showing_placeholder()) {  // an all-zero window would paint a solid black block
    p.setPen(palette().color(QPalette::PlaceholderText));
    p.drawText(rect().adjusted(8, 8, -8, -8), Qt::AlignCenter | Qt::TextWordWrap,
               image_.isNull() ? tr("Routing appears here once a model is loaded.")
                               : tr("No tokens routed yet: ask a question in the chat and the "
                                    "experts each layer uses appear here."));
    return;
  }
  const QRect plot = plot_rect();
  const int left = plot.left();
  p.setRenderHint(QPainter::SmoothPixmapTransform, false);  // crisp cells
  p.drawImage(plot, image_);

  const double cw = static_cast<double>(plot.width()) / n_expert_;
  const double ch = static_cast<double>(plot.height()) / n_layer_;
  // Last token's route: a bright outline on every chosen cell.
  p.setPen(QPen(QColor(80, 220, 255), std::max(1.5, std::min(cw, ch) * 0.12)));
  p.setBrush(Qt::NoBrush);
  for (int l = 0; l < n_layer_; ++l)
    for (int e = 0; e < n_expert_; ++e)
      if (last_route_.size() > static_cast<size_t>(l * n_expert_ + e) &&
          last_route_[static_cast<size_t>(l * n_expert_ + e)] > 0)
        p.drawRect(QRectF(plot.left() + e * cw + 1.5, plot.top() + l * ch + 1.5, cw - 3, ch - 3));

  // Axes: experts along x, layers along y (label every n-th so labels never collide).
  p.setPen(palette().color(QPalette::WindowText));
  draw_layer_expert_labels(p, plot, left - 6, n_layer_, n_expert_);

  // Legend: the colour scale from 0 to 100 %.
  const QRect bar(plot.right() + 14, plot.top(), 14, plot.height());
  QImage scale(1, 256, QImage::Format_RGB32);
  for (int i = 0; i < 256; ++i) scale.setPixel(0, 255 - i, heat_color(i / 255.0f));
  p.drawImage(bar, scale);
  p.drawRect(bar.adjusted(0, 0, -1, -1));
  p.drawText(QPoint(bar.right() + 4, bar.top() + fm.ascent()), "100%");
  p.drawText(QPoint(bar.right() + 4, bar.center().y() + fm.ascent() / 2), "50%");
  p.drawText(QPoint(bar.right() + 4, bar.bottom()), "0%");
}

}  // namespace moe::ui
