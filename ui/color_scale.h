#pragma once
// A dark perceptual colour scale (inferno-like: black -> purple -> orange -> pale yellow) for
// the routing heatmap and its legend.
#include <QColor>

namespace moe::ui {

/// v in [0, 1] (clamped) -> colour.
QRgb heat_color(float v);

}  // namespace moe::ui
