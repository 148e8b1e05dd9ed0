#include "ui/chart_style.h"

#include <QChart>
#include <QFont>
#include <QFontMetrics>
#include <QLegend>
#include <QPainter>
#include <algorithm>

namespace moe::ui {

void style_chart(QChart* chart, const QString& title, bool legend) {
  chart->setTitle(title);
  QFont f = chart->titleFont();
  f.setBold(true);
  chart->setTitleFont(f);
  chart->setTheme(QChart::ChartThemeLight);
  chart->setBackgroundRoundness(4);
  chart->setMargins(QMargins(4, 4, 4, 4));
  chart->setAnimationOptions(QChart::NoAnimation);  // 10 Hz updates: animation would lag
  chart->legend()->setVisible(legend);
  chart->legend()->setAlignment(Qt::AlignBottom);
}

void draw_layer_expert_labels(QPainter& p, const QRectF& plot, double left, int n_layer,
                              int n_expert) {
  if (n_layer <= 0 || n_expert <= 0) return;
  const QFontMetrics fm = p.fontMetrics();
  const double cw = plot.width() / n_expert, ch = plot.height() / n_layer;
  const int lstep = std::max(1, static_cast<int>(fm.height() / std::max(1.0, ch)) + 1);
  for (int l = 0; l < n_layer; l += lstep)
    p.drawText(QRectF(0, plot.top() + l * ch, left, ch), Qt::AlignRight | Qt::AlignVCenter,
               QString("L%1").arg(l));
  const int estep =
      std::max(1, static_cast<int>(fm.horizontalAdvance("E00") / std::max(1.0, cw)) + 1);
  for (int e = 0; e < n_expert; e += estep)
    p.drawText(QRectF(plot.left() + e * cw, plot.bottom() + 2, cw, fm.height()), Qt::AlignCenter,
               QString("E%1").arg(e));
}

}  // namespace moe::ui
