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
#include <string>

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

/// How the disk drifts from its calibration, learnt from the store's own reads (the calibration
/// is one moment of a disk; a shared machine's virtual disk changes speed within minutes): an
/// EWMA over the last few reads of (a read's time / the calibrated time for a read sharing the
/// disk with as many others), kept apart for reads alone and reads sharing the disk, because
/// the two drift apart. On the project's VM two O_DIRECT expert reads at once ran ~1.8x faster
/// than calibrated while one alone ran as calibrated; one factor for both learnt the shared
/// reads of a prompt and over-predicted the lone misses of tier-aware θ by 40-65 %.
class DiskDrift {
 public:
  /// Reads of a kind before its factor is used; until then the other kind's, if trusted.
  static constexpr uint64_t kMinReads = 4;
  /// One finished read of `calibrated.read_bytes`: `sharing` reads were running when it
  /// started (itself included), with `readers` I/O threads.
  void note(const LoadLatencyModel& calibrated, int sharing, int readers, double seconds);
  /// `m` (the calibration) scaled: one read alone by the lone reads' factor, the aggregate
  /// rate of reads at once by the shared reads' factor (a kind without enough reads takes
  /// the other's). False, and `m` unchanged, while neither kind is trusted.
  bool apply(LoadLatencyModel& m, int readers) const;
  /// What apply() uses: "x 1.07" (one factor), or "x 1.02 alone, x 0.56 shared".
  std::string describe() const;

 private:
  struct Factor {
    double ratio = 1;
    uint64_t reads = 0;
    bool trusted() const { return reads >= kMinReads; }
    void add(double r);
  };
  /// The factors apply() uses (alone, shared); false if neither is trusted.
  bool factors(double& alone, double& shared) const;
  Factor alone_, shared_;
};

}  // namespace moe
