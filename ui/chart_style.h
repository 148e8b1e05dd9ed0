#pragma once
// Shared look of the dashboard charts: light theme, compact margins, no legend unless asked.
#include <QString>

class QChart;

namespace moe::ui {

void style_chart(QChart* chart, const QString& title, bool legend = false);

}  // namespace moe::ui
