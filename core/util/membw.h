#pragma once
// A STREAM-like triad (a[i] = b[i] + s * c[i]) over arrays much larger than the caches: the
// machine's sustainable memory bandwidth, the physical limit every decode figure is stated
// against (bytes of active weights per token x tokens/s / this).
namespace moe {

struct MemBandwidth {
  double gb_per_s = 0;  ///< best of the repetitions, counting 3 arrays x 8 bytes per element
  int n_threads = 1;
};

/// Runs the triad with `n_threads` threads (0: all hardware threads) on arrays of `mib` MiB
/// each, `reps` times. Allocates 3 x mib MiB for the duration of the call.
MemBandwidth measure_memory_bandwidth(int n_threads = 0, int mib = 256, int reps = 5);

}  // namespace moe
