#pragma once
// What `moe-cli calibrate` measures on this machine for the offloading latency model ([P1]
// §3.1.2, design §3.1), and its per-machine cache. The paper's two speeds:
//   s_dc  disk -> RAM: expert loads timed through the tiered store's own read path
//         (DirectReader, O_DIRECT, read_expert() at the store's read size w), one at a time
//         (l_dc = w / s_dc, eq. 6) and with the store's I/O threads reading at once;
//   s_cg  RAM -> compute tier: on the CPU-only build, memcpy of an expert-sized block from RAM
//         into a work buffer. No such copy happens at run time (the CPU kernels read the RAM
//         slot in place); it is the speed a RAM -> compute-tier upload would have, and the
//         weight streaming the kernels do is inside compute_s;
// and the compute time of one token through one expert at decode (gate, up, SiLU, down with the
// real kernels on one thread, weights in RAM).
//
// Cached in user_cache_dir() as offload-calibration-<key>.json, key = this CPU (its identity),
// the device of the file read (st_dev, so another disk is measured anew), the read size and the
// expert's shape and types. Written atomically under a file lock; a file that does not parse
// or belongs to another CPU/device/size is refused with the reason, and measured again.
#include <cstdint>
#include <string>

#include "core/model/model.h"
#include "core/store/load_latency.h"
#include "core/util/status.h"

namespace moe {

struct OffloadCalibration {
  std::string cpu;     ///< CpuIdentity::describe()
  std::string device;  ///< "vda (253:0), ext4": the device of the file read
  std::string file;    ///< the file the reads were timed on
  std::string io;      ///< "O_DIRECT", or the buffered fallback's note
  std::string expert;  ///< expert_shape() of the model, or "" (disk only, --file)
  // s_dc
  uint64_t read_bytes = 0;  ///< w: bytes of one load
  int reads = 0;            ///< loads timed one at a time
  double read_s = 0;        ///< their median: l_dc, and s_dc = w / read_s
  double read_s_min = 0, read_s_max = 0;
  double read_s_mean = 0;           ///< their mean: what predictions of expected waits use
  int parallel_readers = 0;         ///< loads at once in the parallel measurement
  double parallel_bytes_per_s = 0;  ///< their aggregate rate
  // s_cg
  double s_cg = 0;  ///< memcpy RAM -> work buffer at w bytes per copy, median, bytes/s
  // compute
  double compute_s =
      0;  ///< one decode token through one expert, one thread, median (0: not measured)
  double calibration_s = 0;  ///< time the measurement took
  std::string source;        ///< "measured", "cache <path>" (not stored)

  double s_dc() const { return read_s > 0 ? static_cast<double>(read_bytes) / read_s : 0; }
  LoadLatencyModel load_model() const;
};

/// "Q4_0 gate/up [4096 -> 14336], down [14336 -> 4096]": the first expert of the first layer.
std::string expert_shape(const Model& model);

/// Where a file lives: "vda (253:0), ext4"; `id` gets "253:0" (the cache key's part).
Result<std::string> describe_device(const std::string& path, std::string* id = nullptr);

std::string calibration_to_json(const OffloadCalibration& c);
/// Errors say what is wrong (not JSON, a missing or non-positive field, another version).
Result<OffloadCalibration> calibration_from_json(const std::string& text);

/// The cache file for timing reads of `read_bytes` on `read_file` with experts of `expert`
/// ("" for disk-only) on this CPU.
Result<std::string> calibration_cache_path(const std::string& read_file, uint64_t read_bytes,
                                           const std::string& expert);
/// Reads a cache file and checks that it is this machine's for these reads. Errors name the
/// file and the reason; `missing` (optional) is set when the file does not exist at all.
Result<OffloadCalibration> load_calibration(const std::string& path, const std::string& read_file,
                                            uint64_t read_bytes, const std::string& expert,
                                            bool* missing = nullptr);
/// Writes atomically (the folder must exist).
Status save_calibration(const std::string& path, const OffloadCalibration& c);

/// The cached calibration of `model` read from its own file at the tiered store's read size
/// (what the engine and `moe-cli plan` use). Error when there is none or it is refused.
Result<OffloadCalibration> cached_calibration_for(const Model& model, bool* missing = nullptr);

}  // namespace moe
