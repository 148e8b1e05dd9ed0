#pragma once
// Shared look of the dashboard charts: light theme, compact margins, no legend unless asked.
#include <QString>

class QChart;

namespace moe::ui {

void style_chart(QChart* chart, const QString& title, bool legend = false);
/// 1, 2, 5 × 10^n at or above v (axis ranges that do not jitter every tick).
double nice_ceiling(double v);

}  // namespace moe::ui
