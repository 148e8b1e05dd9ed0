#include "ui/color_scale.h"

#include <algorithm>
#include <array>

namespace moe::ui {

QRgb heat_color(float v) {
  // Stops sampled from matplotlib's "inferno" at 0, 1/6, ..., 1.
  static constexpr std::array<std::array<int, 3>, 7> kStops = {{{0, 0, 4},
                                                                {40, 11, 84},
                                                                {101, 21, 110},
                                                                {159, 42, 99},
                                                                {212, 72, 66},
                                                                {245, 125, 21},
                                                                {252, 255, 164}}};
  const float x = std::clamp(v, 0.0f, 1.0f) * (kStops.size() - 1);
  const int i = std::min(static_cast<int>(x), static_cast<int>(kStops.size()) - 2);
  const float f = x - i;
  auto mix = [&](int c) {
    return static_cast<int>(kStops[i][c] + f * (kStops[i + 1][c] - kStops[i][c]) + 0.5f);
  };
  return qRgb(mix(0), mix(1), mix(2));
}

}  // namespace moe::ui
