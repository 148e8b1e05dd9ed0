// moe-cli calibrate: measures this machine's offloading speeds for the latency model (design
// §3.1, [P1] §3.1.2 eqs. 5-8; core/offload/offload_calibration.h) — s_dc (disk -> RAM through
// the tiered store's O_DIRECT read path at its read size), s_cg (RAM -> compute buffers) and the
// compute time of one expert — and caches them per CPU and device; the engine and `moe-cli
// plan` read the cache.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "app/cli/command.h"
#include "app/cli/validators.h"
#include "core/offload/calibrate.h"
#include "core/util/byte_size.h"

namespace moe::cli {
namespace {

struct CalibrateArgs {
  CalibrateOptions options;
  std::string read_size;
  bool json = false;
};

constexpr const char* kScgMeaning =
    "RAM -> compute buffers: memcpy of one expert from RAM into a work buffer. On this CPU-only "
    "build no such copy happens at run time (the kernels read an expert's RAM slot in place): "
    "l_cg = w / s_cg is 0 in the load prediction, and streaming the weights from RAM is part "
    "of the compute time.";

int run_calibrate(CalibrateArgs a) {
  auto fail = [](const std::string& m, int rc = 1) {
    std::fprintf(stderr, "moe-cli calibrate: %s\n", m.c_str());
    return rc;
  };
  if (!a.read_size.empty()) {
    if (!a.options.model_path.empty()) {
      return fail("--read-size is for --file alone; with -m the read size is the model's expert",
                  2);
    }
    auto n = parse_byte_size(a.read_size);
    if (!n.ok()) return fail("--read-size: " + n.message(), 2);
    if (*n == 0) return fail("--read-size must be more than 0 bytes", 2);
    a.options.read_bytes = *n;
  }
  auto r = calibrate_offload(a.options);
  if (!r.ok()) return fail(r.message(), r.message().rfind("give a model", 0) == 0 ? 2 : 1);
  if (!r->note.empty()) std::fprintf(stderr, "moe-cli calibrate: %s\n", r->note.c_str());
  const OffloadCalibration& c = r->calibration;
  const double mib = static_cast<double>(c.read_bytes) / 1048576.0;
  if (a.json) {
    // The cached fields as stored (seconds, bytes/s), plus the figures in the units printed.
    nlohmann::json j = nlohmann::json::parse(calibration_to_json(c));
    j.erase("format");
    j.erase("version");
    j["source"] = c.source;
    j["cache_path"] = r->cache_path;
    j["read_ms"] = c.read_s * 1e3;
    j["read_ms_mean"] = c.read_s_mean * 1e3;
    j["s_dc_mb_per_s"] = c.s_dc() / 1e6;
    j["s_dc_parallel_mb_per_s"] = c.parallel_bytes_per_s / 1e6;
    j["s_cg_gb_per_s"] = c.s_cg / 1e9;
    j["s_cg_meaning"] = kScgMeaning;
    j["compute_ms_per_expert"] =
        c.compute_s > 0 ? nlohmann::json(c.compute_s * 1e3) : nlohmann::json();
    j["compute_gb_per_s"] =
        c.compute_s > 0 ? nlohmann::json(c.read_bytes / c.compute_s / 1e9) : nlohmann::json();
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  if (c.source == "measured") {
    std::printf("calibration  measured now in %.1f s\n", c.calibration_s);
  } else {
    std::printf("calibration  %s (measured in %.1f s; --force measures again)\n", c.source.c_str(),
                c.calibration_s);
  }
  std::printf("machine      %s; %s\n", c.cpu.c_str(), c.device.c_str());
  std::printf("reads        %s (%s), %.2f MiB per expert load%s%s\n", c.file.c_str(), c.io.c_str(),
              mib, c.expert.empty() ? "" : ": ", c.expert.c_str());
  std::printf(
      "s_dc         disk -> RAM %.1f MB/s one load at a time: %.3f ms per load (median of "
      "%d; mean %.3f, %.3f to %.3f ms)\n",
      c.s_dc() / 1e6, c.read_s * 1e3, c.reads, c.read_s_mean * 1e3, c.read_s_min * 1e3,
      c.read_s_max * 1e3);
  if (c.parallel_readers > 1) {
    std::printf("             %.1f MB/s with %d loads at once\n", c.parallel_bytes_per_s / 1e6,
                c.parallel_readers);
  }
  std::printf("s_cg         %.2f GB/s. %s\n", c.s_cg / 1e9, kScgMeaning);
  if (c.compute_s > 0) {
    std::printf(
        "compute      %.3f ms per token through one expert on one thread (median; "
        "%.2f GB/s of weights)\n",
        c.compute_s * 1e3, c.read_bytes / c.compute_s / 1e9);
  } else {
    std::printf("compute      not measured (give -m MODEL)\n");
  }
  if (!r->cache_path.empty()) std::printf("cache        %s\n", r->cache_path.c_str());
  return 0;
}

const CommandRegistration kCalibrate{
    76, "calibrate", "Measure disk and RAM speeds for the offloading latency model (cached)",
    [](CLI::App& app) -> CommandAction {
      auto a = std::make_shared<CalibrateArgs>();
      app.footer(
          "Times expert loads from disk to RAM through the tiered store's O_DIRECT read path "
          "(one at a time and --io-threads at once), memcpy from RAM into a work buffer (s_cg), "
          "and with -m one token through one expert with the real kernels. Takes a few seconds; "
          "the result is cached per CPU and device in the user cache folder ($MOE_CACHE_DIR, "
          "else $XDG_CACHE_HOME/moe-studio, else ~/.cache/moe-studio) and used by the engine and "
          "`moe-cli plan`. A corrupt or foreign cache file is reported and measured again.");
      app.add_option("-m,--model", a->options.model_path,
                     "Model: its experts are read at the store's read size and timed")
          ->check(regular_file());
      app.add_option("--file", a->options.file_path,
                     "Time the reads on this file instead (another disk); default: the model")
          ->check(regular_file());
      app.add_option("--read-size", a->read_size,
                     "With --file alone: bytes per read (e.g. 64MiB; default 8MiB)");
      app.add_option("--io-threads", a->options.io_threads,
                     "Loads at once in the parallel measurement (the store's I/O threads)")
          ->check(CLI::Range(1, 64))
          ->capture_default_str();
      app.add_flag("--force", a->options.force, "Measure again even when a cached result exists");
      app.add_flag("--json", a->json, "Machine-readable JSON output");
      return [a] { return run_calibrate(*a); };
    }};

}  // namespace
}  // namespace moe::cli
