#pragma once
// The disk -> RAM part of the offloading paper's latency model ([P1] §3.1.2, design §3.1):
// l_dc = w / s_dc per expert (eq. 6), with w the bytes the tiered store reads for one expert
// (expert_reads.h) and s_dc measured on this machine by `moe-cli calibrate` (or, until then,
// the store's own measured reads). The paper moves one layer's weights at a time; the store
// reads the experts a token misses, several at once on its I/O threads, so the model here also
// says how reads in parallel share the disk: q reads at once run at the aggregate rate measured
// with q readers (calibrate measures q = 1 and q = the store's I/O threads).
//
// On the CPU-only build the compute tier is RAM: the kernels read a slot in place, so eq. 5's
// l_cg = w / s_cg is no copy but the weight streaming the kernels do anyway, and it belongs to
// the compute time of an expert (OffloadCalibration::compute_s), not to the load.
#include <cstdint>

namespace moe {

struct LoadLatencyModel {
  uint64_t read_bytes = 0;          ///< w: bytes of one expert load
  double read_s = 0;                ///< one load alone (queue depth 1): w / s_dc
  double parallel_bytes_per_s = 0;  ///< aggregate rate with several loads at once (0: unknown,
                                    ///< assumed to scale with the readers)
  bool valid() const { return read_bytes > 0 && read_s > 0; }
  double s_dc() const { return read_s > 0 ? static_cast<double>(read_bytes) / read_s : 0; }
  /// A model from one measured rate (bytes/s) with no parallel figure.
  static LoadLatencyModel from_rate(uint64_t read_bytes, double bytes_per_s);
  /// Seconds to read `n` whole experts (n may be an expectation) with up to `readers` loads
  /// at a time, nothing else in flight: n · read_s for one reader; with more,
  /// max(read_s, n · w / aggregate rate), at least one load's latency once n >= 1.
  double reads_s(double n, int readers) const;
};

}  // namespace moe
