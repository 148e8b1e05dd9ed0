#pragma once
// Order statistics of measured samples (benchmark and calibration figures).
#include <utility>
#include <vector>

namespace moe {

/// The p-quantile (p in [0, 1]) of `v`, interpolated linearly between the two nearest ranks;
/// 0 for no samples.
double percentile(std::vector<double> v, double p);

/// percentile(v, 0.5): the middle sample, or the mean of the two middle ones.
inline double median(std::vector<double> v) { return percentile(std::move(v), 0.5); }

}  // namespace moe
