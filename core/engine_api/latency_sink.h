#pragma once
// Where measured expert latencies go (design §6): an executor that times real work (a remote
// device's RPC round trip and reported compute time) records it here; the measured latency
// source that the WLR selector reads implements it. Handed to executors by the assembly place.
namespace moe {

class LatencySink {
 public:
  virtual ~LatencySink() = default;
  /// One call to `device`: network round trip and the compute time it reported, in seconds.
  /// Returns false for samples that were ignored (negative, non-finite, unknown device).
  virtual bool record(int device, double rtt_s, double compute_s) = 0;
  /// The device timed out or left.
  virtual void mark_unavailable(int device) = 0;
};

}  // namespace moe
