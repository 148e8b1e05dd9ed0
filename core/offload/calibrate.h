#pragma once
// `moe-cli calibrate`: measures this machine's offloading speeds (offload_calibration.h) in a
// few seconds, or returns the cached measurement.
#include <cstdint>
#include <string>

#include "core/offload/offload_calibration.h"

namespace moe {

struct CalibrateOptions {
  std::string model_path;   ///< reads of its experts at the store's read size; compute timed
  std::string file_path;    ///< reads timed on this file instead (default: the model file)
  uint64_t read_bytes = 0;  ///< without a model: bytes per read (0: 8 MiB)
  int io_threads = 2;       ///< loads at once in the parallel measurement (the store's default)
  double seconds = 2.0;     ///< rough time spent measuring
  bool force = false;       ///< measure even when a valid cache file exists
};

struct CalibrateResult {
  OffloadCalibration calibration;
  std::string cache_path;  ///< where it is cached ("" when it could not be)
  std::string note;        ///< why an existing cache file was not used, or a save failure
};

/// Measures (or loads the cache unless `force`) and saves. Errors: no model and no file, a path
/// that is not a readable regular file, a model that is not a MoE model, a file smaller than a
/// read.
Result<CalibrateResult> calibrate_offload(const CalibrateOptions& options);

}  // namespace moe
