// Kernel throughput on a Mixtral-sized FFN matrix: 14336 rows x 4096 columns (w1/w3 of one
// expert), every computable weight type. Reports bytes of weights read per second
// (bytes_per_second) for
//   BM_Matvec:  matvec_rows over all rows against one prepared activation (the decode step),
//   BM_Dequant: dequantize_row of every row into a small reused buffer,
//   BM_Matmul8: matmul_rows with 8 activation vectors (prefill-style weight reuse),
//   BM_MatvecHot: matvec over the first 64 rows again and again (from L2: kernel compute),
// each single-threaded (threads:1) and split over all hardware threads (rows divided evenly,
// one std::thread per part). Compare with bench_membw (memory bandwidth of this machine).
// MOE_SIMD=scalar|avx2|avx512 selects the kernel level; the level used is in the context.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/quant/cpu_features.h"
#include "core/quant/quant.h"

namespace moe {
namespace {

constexpr int64_t kRows = 14336, kCols = 4096;

const GgmlType kTypes[] = {GgmlType::F32,  GgmlType::F16,  GgmlType::BF16, GgmlType::Q4_0,
                           GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q8_0,
                           GgmlType::Q2_K, GgmlType::Q3_K, GgmlType::Q4_K, GgmlType::Q5_K,
                           GgmlType::Q6_K};

// xorshift64*: fast enough to fill a few hundred MB.
struct Rng {
  uint64_t s;
  uint64_t next() {
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return s * 0x2545F4914F6CDD1DULL;
  }
  float unit() { return static_cast<float>(next() >> 40) * 0x1p-24f * 2.0f - 1.0f; }
};

// Quantizing 60M floats with the reference quantizers would take minutes, so each block gets
// random code bytes with finite fp16 scales patched in (kernel speed does not depend on the
// values). One quantized row is produced properly and used as a template for the scale fields.
// The matrix is replicated until the copies span at least kSweepBytes (4x the 32 MiB L3 of
// the reference machine) and successive iterations read successive copies, so every
// iteration streams from DRAM: a 33 MB Q4_K matrix alone would be partly served by the L3
// on the next pass and overstate the bandwidth.
constexpr size_t kSweepBytes = size_t{128} << 20;

struct Matrix {
  GgmlType type;
  size_t row_bytes = 0;
  size_t bytes = 0;  // one copy
  int copies = 1;
  std::vector<uint8_t> w;    // `copies` back-to-back copies
  std::vector<uint8_t> act;  // prepared activation
  int next = 0;
  const uint8_t* take() {  // the copy for the next iteration
    const uint8_t* p = w.data() + static_cast<size_t>(next) * bytes;
    next = (next + 1) % copies;
    return p;
  }
};

std::unique_ptr<Matrix> make_matrix(GgmlType type) {
  auto m = std::make_unique<Matrix>();
  m->type = type;
  m->row_bytes = row_bytes(type, kCols);
  m->w.resize(m->row_bytes * kRows);
  Rng rng{0x9E3779B97F4A7C15ULL ^ static_cast<uint64_t>(type)};
  std::vector<float> row(kCols);
  for (auto& v : row) v = rng.unit();
  std::vector<uint8_t> good(m->row_bytes);
  const bool quantized = quantize_row(type, row.data(), good.data(), kCols);
  for (int64_t r = 0; r < kRows; ++r) {
    uint8_t* dst = m->w.data() + static_cast<size_t>(r) * m->row_bytes;
    if (quantized && r % 64 == 0) {
      std::memcpy(dst, good.data(), m->row_bytes);
      continue;
    }
    for (size_t b = 0; b < m->row_bytes; b += 8) {
      const uint64_t v = rng.next();
      std::memcpy(dst + b, &v, std::min<size_t>(8, m->row_bytes - b));
    }
    if (quantized) {  // keep the template row's scale bytes: copy every block's first/last 4
      const TypeTraits* tt = type_traits(type);
      for (size_t b = 0; b < m->row_bytes; b += tt->type_size) {
        std::memcpy(dst + b, good.data() + b, 4);
        std::memcpy(dst + b + tt->type_size - 4, good.data() + b + tt->type_size - 4, 4);
      }
    } else {
      std::memcpy(dst, good.data(), m->row_bytes);  // float types: valid values
    }
  }
  m->bytes = m->w.size();
  m->copies = static_cast<int>(std::max<size_t>(1, (kSweepBytes + m->bytes - 1) / m->bytes));
  m->w.resize(m->bytes * static_cast<size_t>(m->copies));
  for (int c = 1; c < m->copies; ++c) {
    std::memcpy(m->w.data() + static_cast<size_t>(c) * m->bytes, m->w.data(), m->bytes);
  }
  m->act.resize(row_bytes(vec_dot_type(type), kCols));
  quantize_activation(type, row.data(), m->act.data(), kCols);
  return m;
}

Matrix& matrix(GgmlType type) {
  static std::map<GgmlType, std::unique_ptr<Matrix>> cache;
  auto& slot = cache[type];
  if (!slot) {
    cache.clear();  // keep one matrix resident at a time (F32 is 235 MB)
    auto& fresh = cache[type];
    fresh = make_matrix(type);
    return *fresh;
  }
  return *slot;
}

/// Runs fn(row_begin, row_end) over [0, kRows) split into `parts` threads.
template <class Fn>
void split_rows(int parts, Fn fn) {
  if (parts <= 1) {
    fn(int64_t{0}, kRows);
    return;
  }
  std::vector<std::thread> th;
  for (int p = 0; p < parts; ++p) {
    const int64_t r0 = kRows * p / parts, r1 = kRows * (p + 1) / parts;
    th.emplace_back([=] { fn(r0, r1); });
  }
  for (auto& t : th) t.join();
}

int hardware_threads() {
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}
int threads_for(int64_t arg) {
  return static_cast<int>(std::max<int64_t>(1, arg));
}

void BM_Matvec(benchmark::State& state, GgmlType type) {
  Matrix& m = matrix(type);
  const int parts = threads_for(state.range(0));
  std::vector<float> out(kRows);
  for (auto _ : state) {
    const uint8_t* w = m.take();
    split_rows(parts, [&](int64_t r0, int64_t r1) {
      matvec_rows(type, w, m.row_bytes, kCols, r0, r1, m.act.data(), out.data() + r0);
    });
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(m.bytes));
  state.counters["threads_used"] = parts;
}

// Kernel compute speed without DRAM: the first kHotRows rows (~100-300 KiB, inside L2) again
// and again. The gap between this and BM_Matvec shows whether a kernel can keep up with memory.
constexpr int64_t kHotRows = 64;
void BM_MatvecHot(benchmark::State& state, GgmlType type) {
  Matrix& m = matrix(type);
  std::vector<float> out(kHotRows);
  for (auto _ : state) {
    matvec_rows(type, m.w.data(), m.row_bytes, kCols, 0, kHotRows, m.act.data(), out.data());
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * kHotRows *
                          static_cast<int64_t>(m.row_bytes));
}

void BM_Dequant(benchmark::State& state, GgmlType type) {
  Matrix& m = matrix(type);
  const int parts = threads_for(state.range(0));
  for (auto _ : state) {
    const uint8_t* w = m.take();
    split_rows(parts, [&](int64_t r0, int64_t r1) {
      std::vector<float> buf(kCols);
      for (int64_t r = r0; r < r1; ++r) {
        dequantize_row(type, w + static_cast<size_t>(r) * m.row_bytes, buf.data(), kCols);
        benchmark::DoNotOptimize(buf.data());
      }
    });
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(m.bytes));
  state.counters["threads_used"] = parts;
}

void BM_Matmul8(benchmark::State& state, GgmlType type) {
  Matrix& m = matrix(type);
  const int parts = threads_for(state.range(0));
  constexpr int kTok = 8;
  std::vector<uint8_t> acts;
  for (int t = 0; t < kTok; ++t) acts.insert(acts.end(), m.act.begin(), m.act.end());
  std::vector<float> out(static_cast<size_t>(kTok) * kRows);
  for (auto _ : state) {
    const uint8_t* w = m.take();
    split_rows(parts, [&](int64_t r0, int64_t r1) {
      matmul_rows(type, w, m.row_bytes, kCols, r0, r1, acts.data(), m.act.size(), kTok,
                  out.data() + r0, kRows);
    });
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(m.bytes));
  state.counters["tokens_per_s"] =
      benchmark::Counter(static_cast<double>(kTok) * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate);
}

// Registered type by type so that each matrix is built once and dropped before the next.
const bool kRegistered = [] {
  for (GgmlType t : kTypes) {
    const std::string name(type_name(t));
    for (auto [label, fn] :
         {std::pair{"BM_Matvec/", &BM_Matvec}, std::pair{"BM_Dequant/", &BM_Dequant},
          std::pair{"BM_Matmul8/", &BM_Matmul8}}) {
      // One thread: timed by CPU time (the machine is shared; see docs/benchmarks.md).
      // All threads: wall time, the only clock that sees every worker.
      benchmark::RegisterBenchmark((label + name).c_str(), fn, t)
          ->ArgName("threads")
          ->Arg(1)
          ->Unit(benchmark::kMillisecond);
      benchmark::RegisterBenchmark((label + name).c_str(), fn, t)
          ->ArgName("threads")
          ->Arg(hardware_threads())
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime();
    }
    benchmark::RegisterBenchmark(("BM_MatvecHot/" + name).c_str(), &BM_MatvecHot, t)
        ->Unit(benchmark::kMicrosecond);
  }
  benchmark::AddCustomContext("moe_simd_level", std::string(simd_level_name(active_simd_level())));
  benchmark::AddCustomContext("moe_avx512_vnni", cpu_features().avx512vnni ? "yes" : "no");
  benchmark::AddCustomContext("matrix", "14336 rows x 4096 cols");
  return true;
}();

}  // namespace
}  // namespace moe

BENCHMARK_MAIN();
