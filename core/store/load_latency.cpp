#include "core/store/load_latency.h"

#include <algorithm>

namespace moe {

LoadLatencyModel LoadLatencyModel::from_rate(uint64_t read_bytes, double bytes_per_s) {
  LoadLatencyModel m;
  m.read_bytes = read_bytes;
  m.read_s = bytes_per_s > 0 ? static_cast<double>(read_bytes) / bytes_per_s : 0;
  return m;
}

double LoadLatencyModel::reads_s(double n, int readers) const {
  if (n <= 0 || !valid()) return 0;
  const double q = std::min(n, static_cast<double>(std::max(readers, 1)));
  if (q <= 1) return n * read_s;
  const double w = static_cast<double>(read_bytes);
  const double rate = parallel_bytes_per_s > 0 ? parallel_bytes_per_s : q * w / read_s;
  return std::max(std::min(n, 1.0) * read_s, n * w / rate);
}

}  // namespace moe
