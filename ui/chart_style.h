#pragma once
// Shared look of the dashboard charts: light theme, compact margins, no legend unless asked.
#include <QRectF>
#include <QString>

class QChart;
class QPainter;

namespace moe::ui {

/// Least heights of a chart view without / with a legend: room for the title, the x labels and
/// title, and a plot tall enough for a vertical axis title ("tokens/s", "experts") and three
/// tick labels, which Qt Charts would otherwise cut to "...".
constexpr int kChartMinHeight = 170;
constexpr int kLegendChartMinHeight = 200;

void style_chart(QChart* chart, const QString& title, bool legend = false);

/// The axes of a layer × expert grid (routing heatmap, residency map): "L<l>" right-aligned in
/// the `left` pixels before `plot`, "E<e>" under it; every n-th label so that none collide.
void draw_layer_expert_labels(QPainter& p, const QRectF& plot, double left, int n_layer,
                              int n_expert);

}  // namespace moe::ui
