#pragma once
// Shared look of the dashboard charts: light theme, compact margins, no legend unless asked.
#include <QRectF>
#include <QString>

class QChart;
class QPainter;

namespace moe::ui {

void style_chart(QChart* chart, const QString& title, bool legend = false);

/// The axes of a layer × expert grid (routing heatmap, residency map): "L<l>" right-aligned in
/// the `left` pixels before `plot`, "E<e>" under it; every n-th label so that none collide.
void draw_layer_expert_labels(QPainter& p, const QRectF& plot, double left, int n_layer,
                              int n_expert);

}  // namespace moe::ui
