#include "ui/chart_style.h"

#include <QChart>
#include <QFont>
#include <QLegend>
#include <cmath>

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

double nice_ceiling(double v) {
  if (!(v > 0)) return 1;
  const double p = std::pow(10.0, std::floor(std::log10(v)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * p >= v) return m * p;
  return 10 * p;
}

}  // namespace moe::ui
