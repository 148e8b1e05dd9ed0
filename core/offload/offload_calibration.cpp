#include "core/offload/offload_calibration.h"

#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/quant/kernel_tuning.h"
#include "core/quant/types.h"
#include "core/store/expert_reads.h"
#include "core/util/atomic_file.h"
#include "core/util/cache_dir.h"
#include "core/util/regular_file.h"

namespace moe {
namespace {

constexpr const char* kFormat = "moe-studio offload calibration";
constexpr int kVersion = 1;
constexpr uint64_t kMaxFileBytes = 1 << 16;

const char* fs_name(long type) {
  switch (static_cast<unsigned long>(type)) {
    case 0xEF53:
      return "ext4";
    case 0x58465342:
      return "xfs";
    case 0x9123683E:
      return "btrfs";
    case 0x01021994:
      return "tmpfs";
    case 0x794C7630:
      return "overlayfs";
    case 0x6969:
      return "nfs";
    case 0x2FC12FC1:
      return "zfs";
    case 0xF2F52010:
      return "f2fs";
    case 0x65735546:
      return "fuse";
    default:
      return nullptr;
  }
}

std::string cache_key(const std::string& cpu_key, const std::string& device_id, uint64_t read_bytes,
                      const std::string& expert) {
  // FNV-1a 64 over everything a measurement depends on.
  const std::string s = cpu_key + "|" + device_id + "|" + std::to_string(read_bytes) + "|" +
                        expert + "|" + std::to_string(kVersion);
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  char b[17];
  std::snprintf(b, sizeof b, "%016llx", static_cast<unsigned long long>(h));
  return b;
}

bool positive(double v) {
  return std::isfinite(v) && v > 0;
}

}  // namespace

LoadLatencyModel OffloadCalibration::load_model() const {
  LoadLatencyModel m;
  m.read_bytes = read_bytes;
  // Predictions are of expected (summed) waits: the mean load, not the median (reads on a
  // shared or virtual disk have a long tail).
  m.read_s = read_s_mean > 0 ? read_s_mean : read_s;
  m.parallel_bytes_per_s = parallel_readers > 1 ? parallel_bytes_per_s : 0;
  return m;
}

std::string expert_shape(const Model& model) {
  if (model.n_layer() == 0 || model.layer(0).experts.empty()) return "";
  const ExpertWeights& w = model.layer(0).experts[0];
  const auto dims = [](const MatrixView& m) {
    return "[" + std::to_string(m.n_in) + " -> " + std::to_string(m.n_out) + "]";
  };
  std::string s = std::string(type_name(w.gate.type));
  if (w.up.type != w.gate.type) s += "/" + std::string(type_name(w.up.type));
  if (w.down.type != w.gate.type) s += "/" + std::string(type_name(w.down.type));
  return s + " gate/up " + dims(w.gate) + ", down " + dims(w.down);
}

Result<std::string> describe_device(const std::string& path, std::string* id) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return make_error(path, ": cannot stat: ", std::strerror(errno));
  }
  const std::string dev = std::to_string(major(st.st_dev)) + ":" + std::to_string(minor(st.st_dev));
  if (id) *id = dev;
  std::string name = "device";
  std::error_code ec;
  const auto link = std::filesystem::read_symlink("/sys/dev/block/" + dev, ec);
  if (!ec) name = link.filename().string();
  std::string out = name + " (" + dev + ")";
  struct statfs sf {};
  if (::statfs(path.c_str(), &sf) == 0) {
    const char* fs = fs_name(static_cast<long>(sf.f_type));
    char hex[32];
    std::snprintf(hex, sizeof hex, "fs 0x%lx", static_cast<unsigned long>(sf.f_type));
    out += ", " + std::string(fs ? fs : hex);
  }
  return out;
}

std::string calibration_to_json(const OffloadCalibration& c) {
  const nlohmann::json j = {{"format", kFormat},
                            {"version", kVersion},
                            {"cpu", c.cpu},
                            {"device", c.device},
                            {"file", c.file},
                            {"io", c.io},
                            {"expert", c.expert},
                            {"read_bytes", c.read_bytes},
                            {"reads", c.reads},
                            {"read_s", c.read_s},
                            {"read_s_min", c.read_s_min},
                            {"read_s_max", c.read_s_max},
                            {"read_s_mean", c.read_s_mean},
                            {"parallel_readers", c.parallel_readers},
                            {"parallel_bytes_per_s", c.parallel_bytes_per_s},
                            {"s_cg", c.s_cg},
                            {"compute_s", c.compute_s},
                            {"calibration_s", c.calibration_s}};
  return j.dump(2) + "\n";
}

Result<OffloadCalibration> calibration_from_json(const std::string& text) {
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Error{"not valid JSON"};
  try {
    if (j.at("format").get<std::string>() != kFormat) return Error{"not a calibration file"};
    if (j.at("version").get<int>() != kVersion) {
      return make_error("version ", std::to_string(j.at("version").get<int>()), ", expected ",
                        std::to_string(kVersion));
    }
    OffloadCalibration c;
    c.cpu = j.at("cpu").get<std::string>();
    c.device = j.at("device").get<std::string>();
    c.file = j.at("file").get<std::string>();
    c.io = j.at("io").get<std::string>();
    c.expert = j.at("expert").get<std::string>();
    c.read_bytes = j.at("read_bytes").get<uint64_t>();
    c.reads = j.at("reads").get<int>();
    c.read_s = j.at("read_s").get<double>();
    c.read_s_min = j.at("read_s_min").get<double>();
    c.read_s_max = j.at("read_s_max").get<double>();
    c.read_s_mean = j.at("read_s_mean").get<double>();
    c.parallel_readers = j.at("parallel_readers").get<int>();
    c.parallel_bytes_per_s = j.at("parallel_bytes_per_s").get<double>();
    c.s_cg = j.at("s_cg").get<double>();
    c.compute_s = j.at("compute_s").get<double>();
    c.calibration_s = j.at("calibration_s").get<double>();
    if (c.read_bytes == 0 || c.reads <= 0 || !positive(c.read_s) || !positive(c.s_cg) ||
        !(c.read_s_min <= c.read_s && c.read_s <= c.read_s_max) ||
        !(c.read_s_min <= c.read_s_mean && c.read_s_mean <= c.read_s_max)) {
      return Error{"implausible read figures (zero, negative or out of order)"};
    }
    if (c.parallel_readers > 1 && !positive(c.parallel_bytes_per_s)) {
      return Error{"parallel_bytes_per_s must be positive"};
    }
    if (!std::isfinite(c.compute_s) || c.compute_s < 0 || (!c.expert.empty() && c.compute_s == 0)) {
      return Error{"compute_s must be positive for a model's calibration"};
    }
    return c;
  } catch (const nlohmann::json::exception& e) {
    return make_error("missing or mistyped field (", e.what(), ")");
  }
}

Result<std::string> calibration_cache_path(const std::string& read_file, uint64_t read_bytes,
                                           const std::string& expert) {
  std::string dev;
  auto d = describe_device(read_file, &dev);
  if (!d.ok()) return d.error();
  auto dir = user_cache_dir();
  if (!dir.ok()) return dir.error();
  return *dir + "/offload-calibration-" + cache_key(cpu_identity().key(), dev, read_bytes, expert) +
         ".json";
}

Result<OffloadCalibration> load_calibration(const std::string& path, const std::string& read_file,
                                            uint64_t read_bytes, const std::string& expert,
                                            bool* missing) {
  std::error_code ec;
  if (missing) *missing = !std::filesystem::exists(path, ec);
  auto text = read_regular_file(path, kMaxFileBytes, "calibration file");
  if (!text.ok()) return text.error();
  auto c = calibration_from_json(*text);
  if (!c.ok()) return make_error(path, ": ", c.message());
  auto dev = describe_device(read_file);
  if (!dev.ok()) return dev.error();
  if (c->cpu != cpu_identity().describe()) {
    return make_error(path, ": measured on another CPU (", c->cpu, ")");
  }
  if (c->device != *dev) return make_error(path, ": measured on another device (", c->device, ")");
  if (c->read_bytes != read_bytes || c->expert != expert) {
    return make_error(path, ": measured for reads of ", std::to_string(c->read_bytes),
                      " bytes of '", c->expert, "', not ", std::to_string(read_bytes), " of '",
                      expert, "'");
  }
  c->source = "cache " + path;
  return c;
}

Status save_calibration(const std::string& path, const OffloadCalibration& c) {
  return write_file_atomic(path, calibration_to_json(c));
}

Result<OffloadCalibration> cached_calibration_for(const Model& model, bool* missing) {
  const std::string& file = model.file().path();
  const uint64_t w = max_expert_read_bytes(model);
  const std::string shape = expert_shape(model);
  auto path = calibration_cache_path(file, w, shape);
  if (!path.ok()) return path.error();
  return load_calibration(*path, file, w, shape, missing);
}

}  // namespace moe
