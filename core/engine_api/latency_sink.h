#pragma once
// Where measured expert latencies go (design §6): an executor that times real work (a remote
// device's RPC round trip and reported compute time) records it here; the measured latency
// source that the WLR selector reads implements it. Handed to executors by the assembly place.
#include "core/engine_api/placement.h"

namespace moe {

class LatencySink {
 public:
  virtual ~LatencySink() = default;
  /// One call to `device`: network round trip (without the compute) and the compute time it
  /// reported, in seconds.
  /// Returns false for samples that were ignored (negative, non-finite, unknown device).
  virtual bool record(int device, double rtt_s, double compute_s) = 0;
  /// The device timed out or left.
  virtual void mark_unavailable(int device) = 0;
  /// The executor's current assignment of experts to devices (ids as in record(); it may name
  /// more devices than the sink was made for). Called again whenever it changes.
  virtual void set_placement(Placement placement) = 0;
};

}  // namespace moe
