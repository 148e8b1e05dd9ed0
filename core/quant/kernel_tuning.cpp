#include "core/quant/kernel_tuning.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>

#include "core/quant/kernels.h"
#include "core/quant/quant.h"
#include "core/util/atomic_file.h"
#include "core/util/cache_dir.h"
#include "core/util/file_lock.h"
#include "core/util/regular_file.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace moe {
namespace {

// Bumped whenever a kernel changes: a cached choice measured on older kernels is stale.
constexpr int kKernelSetVersion = 1;
// A choice switches to the 256-bit kernel only when it is clearly faster (timings are noisy;
// a 5 % margin keeps a loaded machine from flipping kernels that are within noise).
constexpr double kMargin = 1.05;

bool tuning_disabled() {
  const char* e = std::getenv("MOE_KERNEL_TUNING");
  return e != nullptr && (std::strcmp(e, "off") == 0 || std::strcmp(e, "0") == 0);
}

// Types whose 256- and 512-bit entries differ (both exist and are distinct kernels).
std::vector<GgmlType> tunable_types() {
  std::vector<GgmlType> out;
  if (best_simd_level() < SimdLevel::kAvx512) return out;
  const kern::KernelTable& a = kern::kernel_table(SimdLevel::kAvx2);
  const kern::KernelTable& b = kern::kernel_table(SimdLevel::kAvx512);
  for (int id = 0; id < kern::kNumTypeIds; ++id) {
    const bool differs = a.matvec[id] != b.matvec[id] || a.vec_dot[id] != b.vec_dot[id] ||
                         a.matmul[id] != b.matmul[id];
    if (b.vec_dot[id] != nullptr && a.vec_dot[id] != nullptr && differs) {
      out.push_back(static_cast<GgmlType>(id));
    }
  }
  return out;
}

// Weight-read rate (GB/s) of `k`'s mat-vec over a matrix of `rows` x n: the best of `reps`
// sweeps (a sweep the scheduler interrupted is slower, never faster).
double sweep_rate(const kern::KernelTable& k, GgmlType t, const std::vector<uint8_t>& w,
                  size_t row_bytes, int64_t n, int64_t rows, const std::vector<uint8_t>& act,
                  std::vector<float>& out, int reps) {
  const int id = kern::idx(t);
  double best = 0;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    if (k.matvec[id] != nullptr) {
      k.matvec[id](w.data(), row_bytes, n, rows, act.data(), out.data());
    } else {
      for (int64_t i = 0; i < rows; ++i) {
        out[static_cast<size_t>(i)] =
            k.vec_dot[id](n, w.data() + static_cast<size_t>(i) * row_bytes, act.data());
      }
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (s > 0) best = std::max(best, static_cast<double>(w.size()) / s / 1e9);
  }
  return best;
}

KernelTuning& active_tuning() {
  static KernelTuning t;
  return t;
}

void install(const KernelTuning& t) {
  kern::KernelTable table = kern::kernel_table(best_simd_level());
  const kern::KernelTable& narrow = kern::kernel_table(SimdLevel::kAvx2);
  for (const KernelChoice& c : t.choices) {
    if (c.width != 256 || best_simd_level() < SimdLevel::kAvx512) continue;
    const int id = kern::idx(c.type);
    if (id < 0 || id >= kern::kNumTypeIds || narrow.vec_dot[id] == nullptr) continue;
    table.vec_dot[id] = narrow.vec_dot[id];
    table.matvec[id] = narrow.matvec[id];
    table.matmul[id] = narrow.matmul[id];
  }
  kern::set_tuned_table(table);
  active_tuning() = t;
}

std::string hex64(uint64_t v) {
  char b[17];
  std::snprintf(b, sizeof b, "%016llx", static_cast<unsigned long long>(v));
  return b;
}

}  // namespace

std::string CpuIdentity::describe() const {
  return (brand.empty() ? vendor : brand) + " (family " + std::to_string(family) + " model " +
         std::to_string(model) + " stepping " + std::to_string(stepping) + ")";
}

std::string CpuIdentity::key() const {
  // FNV-1a over everything that names the core and the kernel set.
  const std::string s = vendor + "|" + brand + "|" + std::to_string(family) + "|" +
                        std::to_string(model) + "|" + std::to_string(stepping) + "|" +
                        std::to_string(kKernelSetVersion);
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return hex64(h);
}

CpuIdentity cpu_identity() {
  CpuIdentity id;
#if defined(__x86_64__) || defined(__i386__)
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (__get_cpuid(0, &a, &b, &c, &d)) {
    char v[13] = {};
    std::memcpy(v, &b, 4);
    std::memcpy(v + 4, &d, 4);
    std::memcpy(v + 8, &c, 4);
    id.vendor = v;
  }
  if (__get_cpuid(1, &a, &b, &c, &d)) {
    const int base_family = static_cast<int>((a >> 8) & 0xf);
    const int base_model = static_cast<int>((a >> 4) & 0xf);
    id.stepping = static_cast<int>(a & 0xf);
    id.family = base_family == 0xf ? base_family + static_cast<int>((a >> 20) & 0xff) : base_family;
    id.model = (base_family == 0x6 || base_family == 0xf)
                   ? base_model + (static_cast<int>((a >> 16) & 0xf) << 4)
                   : base_model;
  }
  if (__get_cpuid_max(0x80000000u, nullptr) >= 0x80000004u) {
    char brand[49] = {};
    for (unsigned leaf = 0; leaf < 3; ++leaf) {
      __get_cpuid(0x80000002u + leaf, &a, &b, &c, &d);
      std::memcpy(brand + leaf * 16, &a, 4);
      std::memcpy(brand + leaf * 16 + 4, &b, 4);
      std::memcpy(brand + leaf * 16 + 8, &c, 4);
      std::memcpy(brand + leaf * 16 + 12, &d, 4);
    }
    std::string s(brand);
    const size_t first = s.find_first_not_of(' '), last = s.find_last_not_of(' ');
    id.brand = first == std::string::npos ? "" : s.substr(first, last - first + 1);
  }
#endif
  return id;
}

KernelTuning calibrate_kernels() {
  KernelTuning out;
  out.cpu = cpu_identity().describe();
  out.source = "measured";
  const auto t_start = std::chrono::steady_clock::now();
  // A 4096-wide matrix of 8 MiB: past L2, so the kernels stream as in decode. Where DRAM is
  // the limit both kernels reach it; the choice matters where the kernel's own work is (Zen 4
  // was compute-bound even from DRAM), and a cache-resident sweep shows that difference
  // without the noise of DRAM. Its rows repeat a few quantized random rows (quantizing 8 MiB of
  // K-quants takes longer than the measurement); the kernels' work does not depend on values.
  constexpr int64_t kN = 4096;
  constexpr size_t kTarget = size_t{8} << 20;
  constexpr int kDistinctRows = 4, kReps = 3;
  std::mt19937 rng(7);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(kN));
  for (float& v : x) v = dist(rng);
  for (const GgmlType t : tunable_types()) {
    const size_t rb = row_bytes(t, kN);
    if (rb == 0) continue;
    const int64_t rows = static_cast<int64_t>(std::max<size_t>(kTarget / rb, 64));
    std::vector<uint8_t> distinct(rb * kDistinctRows);
    bool ok = true;
    for (int r = 0; r < kDistinctRows && ok; ++r) {
      std::vector<float> row(static_cast<size_t>(kN));
      for (float& v : row) v = dist(rng) * 0.05f;
      ok = quantize_row(t, row.data(), distinct.data() + rb * static_cast<size_t>(r), kN);
    }
    if (!ok) continue;  // no quantizer for this type here: nothing to time it on
    std::vector<uint8_t> w(rb * static_cast<size_t>(rows));
    for (int64_t r = 0; r < rows; ++r) {
      std::memcpy(w.data() + rb * static_cast<size_t>(r),
                  distinct.data() + rb * static_cast<size_t>(r % kDistinctRows), rb);
    }
    std::vector<uint8_t> act(row_bytes(vec_dot_type(t), kN));
    quantize_activation(t, x.data(), act.data(), kN);
    std::vector<float> res(static_cast<size_t>(rows));
    KernelChoice c;
    c.type = t;
    // Alternated, so both see the same machine state.
    for (int round = 0; round < 3; ++round) {
      c.gb_per_s_512 = std::max(c.gb_per_s_512, sweep_rate(kern::kernel_table(SimdLevel::kAvx512),
                                                           t, w, rb, kN, rows, act, res, kReps));
      c.gb_per_s_256 = std::max(c.gb_per_s_256, sweep_rate(kern::kernel_table(SimdLevel::kAvx2), t,
                                                           w, rb, kN, rows, act, res, kReps));
    }
    c.width = c.gb_per_s_256 > c.gb_per_s_512 * kMargin ? 256 : 512;
    out.choices.push_back(c);
  }
  out.calibration_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  return out;
}

void apply_kernel_tuning(const KernelTuning& t) { install(t); }

void clear_kernel_tuning() {
  kern::clear_tuned_table();
  active_tuning() = KernelTuning{};
}

std::string kernel_tuning_to_json(const KernelTuning& t, const CpuIdentity& id) {
  nlohmann::json j;
  j["kernel_set_version"] = kKernelSetVersion;
  j["cpu"] = {{"vendor", id.vendor},
              {"brand", id.brand},
              {"family", id.family},
              {"model", id.model},
              {"stepping", id.stepping}};
  j["calibration_s"] = t.calibration_s;
  j["choices"] = nlohmann::json::array();
  for (const KernelChoice& c : t.choices) {
    j["choices"].push_back({{"type", std::string(type_name(c.type))},
                            {"width", c.width},
                            {"gb_per_s_256", c.gb_per_s_256},
                            {"gb_per_s_512", c.gb_per_s_512}});
  }
  return j.dump(2) + "\n";
}

Result<KernelTuning> kernel_tuning_from_json(const std::string& text, const CpuIdentity& id) {
  try {
    const auto j = nlohmann::json::parse(text);
    if (j.at("kernel_set_version").get<int>() != kKernelSetVersion) {
      return Error{"measured with another version of the kernels"};
    }
    const auto& c = j.at("cpu");
    if (c.at("vendor").get<std::string>() != id.vendor ||
        c.at("brand").get<std::string>() != id.brand || c.at("family").get<int>() != id.family ||
        c.at("model").get<int>() != id.model || c.at("stepping").get<int>() != id.stepping) {
      return Error{"measured on another CPU"};
    }
    KernelTuning t;
    t.cpu = id.describe();
    const std::vector<GgmlType> tunable = tunable_types();
    for (const auto& e : j.at("choices")) {
      const std::string name = e.at("type").get<std::string>();
      bool found = false;
      for (const GgmlType ty : tunable) {
        if (type_name(ty) == name) {
          KernelChoice k;
          k.type = ty;
          k.width = e.at("width").get<int>();
          if (k.width != 256 && k.width != 512) return make_error("width ", std::to_string(k.width));
          k.gb_per_s_256 = e.at("gb_per_s_256").get<double>();
          k.gb_per_s_512 = e.at("gb_per_s_512").get<double>();
          t.choices.push_back(k);
          found = true;
        }
      }
      if (!found) return make_error("type ", name, " has no choice of kernels here");
    }
    return t;
  } catch (const nlohmann::json::exception& e) {
    return make_error("not a kernel tuning file (", e.what(), ")");
  }
}

const KernelTuning& ensure_kernel_tuning() {
  static std::once_flag once;
  static KernelTuning result;
  std::call_once(once, [] {
    if (simd_level_forced()) {
      result.source = "forced " + std::string(simd_level_name(active_simd_level()));
      return;
    }
    if (tuning_disabled()) {
      result.source = "off (MOE_KERNEL_TUNING)";
      return;
    }
    if (tunable_types().empty()) {
      result.source = "nothing to choose (no AVX-512)";
      return;
    }
    const CpuIdentity id = cpu_identity();
    auto dir = user_cache_dir();
    if (!dir.ok()) {
      result = calibrate_kernels();
      result.source = "measured (not cached: " + dir.message() + ")";
      install(result);
      return;
    }
    const std::string path = *dir + "/kernel-tuning-" + id.key() + ".json";
    FileLock lock(path + ".lock");  // concurrent first starts: one measures, the others read
    if (auto f = read_regular_file(path, 1 << 20, "kernel tuning file"); f.ok()) {
      if (auto t = kernel_tuning_from_json(*f, id); t.ok()) {
        result = std::move(*t);
        result.source = "cache " + path;
        install(result);
        return;
      }
    }
    result = calibrate_kernels();
    result.source = "measured, cached in " + path;
    const Status saved = write_file_atomic(path, kernel_tuning_to_json(result, id));
    if (!saved.ok()) result.source = "measured (not cached: " + saved.message() + ")";
    install(result);
  });
  return result;
}

std::string kernel_summary() {
  std::string s(simd_level_name(active_simd_level()));
  if (simd_level_forced()) return s + " (forced)";
  if (active_simd_level() != best_simd_level()) return s;
  std::string narrow;
  for (const KernelChoice& c : active_tuning().choices) {
    if (c.width != 256) continue;
    narrow += (narrow.empty() ? "" : ", ") + std::string(type_name(c.type));
  }
  return narrow.empty() ? s : s + " (256-bit: " + narrow + ")";
}

}  // namespace moe
