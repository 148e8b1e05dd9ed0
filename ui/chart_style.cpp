#include "ui/chart_style.h"

#include <QChart>
#include <QFont>
#include <QLegend>

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

}  // namespace moe::ui
