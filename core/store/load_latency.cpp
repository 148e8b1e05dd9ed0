#include "core/store/load_latency.h"

#include <algorithm>
#include <cstdio>

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

namespace {
// EWMA weight of one read: about the last three reads count. The disk a run sees changes
// within it: on the 26 GB file the prompt's reads (beside the mapping's page faults after a
// page-cache drop) ran 2x slower than decode's misses (docs/offloading.md); with ten reads of
// memory the prompt's ratio lasted well into decode at tier θ 0.2 (~1 read per token) and
// over-predicted it 1.9x.
constexpr double kDriftAlpha = 0.3;
}  // namespace

void DiskDrift::Factor::add(double r) {
  ratio = reads == 0 ? r : ratio + kDriftAlpha * (r - ratio);
  ++reads;
}

void DiskDrift::note(const LoadLatencyModel& calibrated, int sharing, int readers,
                     double seconds) {
  if (!calibrated.valid() || seconds <= 0) return;
  const double expected = calibrated.reads_s(std::max(sharing, 1), readers);
  if (expected <= 0) return;
  const double r = std::clamp(seconds / expected, 0.05, 20.0);
  (sharing > 1 && readers > 1 ? shared_ : alone_).add(r);
}

bool DiskDrift::factors(double& alone, double& shared) const {
  if (!alone_.trusted() && !shared_.trusted()) return false;
  alone = alone_.trusted() ? alone_.ratio : shared_.ratio;
  shared = shared_.trusted() ? shared_.ratio : alone_.ratio;
  return true;
}

bool DiskDrift::apply(LoadLatencyModel& m, int readers) const {
  double alone = 1, shared = 1;
  if (!m.valid() || !factors(alone, shared)) return false;
  // The calibrated aggregate rate (or, with none measured, the readers' rate it implies), set
  // before read_s moves: the two factors are independent.
  const double w = static_cast<double>(m.read_bytes);
  const double rate = m.parallel_bytes_per_s > 0
                          ? m.parallel_bytes_per_s
                          : static_cast<double>(std::max(readers, 1)) * w / m.read_s;
  m.read_s *= alone;
  m.parallel_bytes_per_s = rate / shared;
  return true;
}

std::string DiskDrift::describe() const {
  double alone = 1, shared = 1;
  if (!factors(alone, shared)) return "";
  char buf[64];
  if (alone_.trusted() && shared_.trusted()) {
    std::snprintf(buf, sizeof buf, "x %.2f alone, x %.2f shared", alone, shared);
  } else {
    std::snprintf(buf, sizeof buf, "x %.2f", alone);
  }
  return buf;
}

}  // namespace moe
