// Memory-bandwidth probe (the physical limit the matvec kernels are compared against):
//   BM_Triad: STREAM triad a[i] = b[i] + s * c[i], counted as STREAM does (2 reads + 1 write
//             = 12 bytes per element; write-allocate traffic not counted),
//   BM_Read<streams, prefetch>: a streaming read-only sum, the access pattern of a matvec
//             (weights in, nothing out), as 1 or 4 interleaved streams, without / with
//             software prefetch; the best variant is the denominator of the matvec fractions
//             in docs/benchmarks.md.
// Arrays are 128 MiB each (4x the 32 MiB L3 of the reference machine), split
// over 1 thread (timed by CPU time) or all hardware threads (wall time).
#include <benchmark/benchmark.h>

#include <xmmintrin.h>

#include <algorithm>
#include <cstdint>
#include <thread>
#include <vector>

namespace {

constexpr size_t kN = size_t{32} << 20;  // floats per array: 128 MiB (4x the L3)

struct Arrays {
  std::vector<float> a, b, c;
  Arrays() : a(kN, 0.0f), b(kN, 1.0f), c(kN, 2.0f) {}
};

Arrays& arrays() {
  static Arrays arr;
  return arr;
}

template <class Fn>
void split(int parts, Fn fn) {
  if (parts <= 1) {
    fn(size_t{0}, kN);
    return;
  }
  std::vector<std::thread> th;
  for (int p = 0; p < parts; ++p) {
    th.emplace_back([=] { fn(kN * p / parts, kN * (p + 1) / parts); });
  }
  for (auto& t : th) t.join();
}

void BM_Triad(benchmark::State& state) {
  Arrays& arr = arrays();
  const int parts = static_cast<int>(state.range(0));
  const float s = 3.0f;
  for (auto _ : state) {
    split(parts, [&](size_t i0, size_t i1) {
      float* __restrict a = arr.a.data();
      const float* __restrict b = arr.b.data();
      const float* __restrict c = arr.c.data();
      for (size_t i = i0; i < i1; ++i) a[i] = b[i] + s * c[i];
    });
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * 3 * kN * sizeof(float)));
}

// Streaming read-only sum over [i0, i1) as kStreams interleaved sub-ranges (one 64-byte line
// of each per step: the access pattern of a kernel that reads several rows at once), 8
// independent sums per line so the adds do not serialise (the compiler vectorises them).
// kPrefetch adds a software prefetch 1 KiB ahead in each stream.
template <int kStreams, bool kPrefetch>
uint64_t read_sum(const float* data, size_t i0, size_t i1) {
  const uint64_t* p = reinterpret_cast<const uint64_t*>(data);
  const size_t w0 = i0 / 2, len = (i1 / 2 - w0) / kStreams / 8 * 8;  // words per stream
  uint64_t s[8] = {};
  for (size_t i = 0; i < len; i += 8) {
    for (int st = 0; st < kStreams; ++st) {
      const uint64_t* q = p + w0 + static_cast<size_t>(st) * len + i;
      if constexpr (kPrefetch) _mm_prefetch(reinterpret_cast<const char*>(q) + 1024, _MM_HINT_T0);
      for (int k = 0; k < 8; ++k) s[k] += q[k];
    }
  }
  uint64_t t = 0;
  for (uint64_t v : s) t += v;
  return t;
}

template <int kStreams, bool kPrefetch>
void BM_Read(benchmark::State& state) {
  Arrays& arr = arrays();
  const int parts = static_cast<int>(state.range(0));
  for (auto _ : state) {
    split(parts, [&](size_t i0, size_t i1) {
      benchmark::DoNotOptimize(read_sum<kStreams, kPrefetch>(arr.b.data(), i0, i1));
    });
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kN * sizeof(float)));
}

int hardware_threads() {
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

// One thread: CPU time (robust to a shared, oversubscribed machine); all threads: wall time.
BENCHMARK(BM_Triad)->ArgName("threads")->Arg(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Triad)
    ->ArgName("threads")
    ->Arg(hardware_threads())
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_Read, 1, false)->ArgName("threads")->Arg(1)->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_Read, 1, false)
    ->ArgName("threads")
    ->Arg(hardware_threads())
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_Read, 1, true)->ArgName("threads")->Arg(1)->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_Read, 1, true)
    ->ArgName("threads")
    ->Arg(hardware_threads())
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_Read, 4, false)->ArgName("threads")->Arg(1)->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_Read, 4, false)
    ->ArgName("threads")
    ->Arg(hardware_threads())
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
