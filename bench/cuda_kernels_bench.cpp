// CUDA kernel bandwidth (the figures docs/cuda.md and docs/benchmarks.md compare with the HBM
// roofline): the quantized mat-vec at Mixtral-8x7B's expert shapes (gate/up: 14336 rows of
// 4096; down: 4096 rows of 14336) per weight type, counted as weight bytes read per second;
// a device-to-device copy (the achievable read+write bandwidth); and a pinned host-to-device
// upload (the PCIe rate the expert uploads run at). Times are CUDA events around 50 launches.
// Counters: GB/s and `of_peak` = GB/s / the theoretical HBM bandwidth from the device's
// memory clock and bus width (2 transfers per clock). Without a device or the CUDA backend
// nothing is registered (the program runs and prints an empty table).
#include <benchmark/benchmark.h>

#ifdef MOE_HAVE_CUDA
#include <cuda_runtime.h>

#include <cstdio>
#include <vector>

#include "core/cuda/cuda_error.h"
#include "core/cuda/cuda_info.h"
#include "core/cuda/kernels.h"
#include "core/quant/quant.h"

namespace {

using moe::GgmlType;

double peak_hbm_bytes_per_s() {
  int clock_khz = 0, bus_bits = 0;
  moe::cuda::check(cudaDeviceGetAttribute(&clock_khz, cudaDevAttrMemoryClockRate, 0), "attr");
  moe::cuda::check(cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, 0), "attr");
  return 2.0 * clock_khz * 1e3 * bus_bits / 8.0;
}

// Times `iters` calls of fn with CUDA events; seconds per call.
template <class Fn>
double time_per_call(int iters, Fn fn) {
  cudaEvent_t a, b;
  moe::cuda::check(cudaEventCreate(&a), "event");
  moe::cuda::check(cudaEventCreate(&b), "event");
  fn();  // warm-up
  moe::cuda::check(cudaEventRecord(a, nullptr), "record");
  for (int i = 0; i < iters; ++i) fn();
  moe::cuda::check(cudaEventRecord(b, nullptr), "record");
  moe::cuda::check(cudaEventSynchronize(b), "sync");
  float ms = 0;
  moe::cuda::check(cudaEventElapsedTime(&ms, a, b), "elapsed");
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  return ms * 1e-3 / iters;
}

void report(benchmark::State& st, double bytes, double s) {
  st.SetIterationTime(s);
  st.counters["GB/s"] = bytes / s / 1e9;
  st.counters["of_peak"] = bytes / s / peak_hbm_bytes_per_s();
}

void BM_CudaMatvec(benchmark::State& st, GgmlType type, int64_t rows, int64_t n) {
  const size_t rb = moe::row_bytes(type, n);
  const size_t wbytes = rb * static_cast<size_t>(rows);
  // Weight bytes need not be meaningful for a bandwidth figure: one random row repeated.
  std::vector<float> f(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) f[static_cast<size_t>(i)] = static_cast<float>((i * 37) % 19) - 9;
  std::vector<uint8_t> row(rb), host(wbytes), act(moe::row_bytes(moe::vec_dot_type(type), n));
  moe::quantize_row(type, f.data(), row.data(), n);
  for (int64_t r = 0; r < rows; ++r) std::copy(row.begin(), row.end(), host.begin() + r * rb);
  moe::quantize_activation(type, f.data(), act.data(), n);
  void *dw = nullptr, *da = nullptr, *dout = nullptr;
  moe::cuda::check(cudaMalloc(&dw, wbytes), "malloc");
  moe::cuda::check(cudaMalloc(&da, act.size()), "malloc");
  moe::cuda::check(cudaMalloc(&dout, static_cast<size_t>(rows) * sizeof(float)), "malloc");
  moe::cuda::check(cudaMemcpy(dw, host.data(), wbytes, cudaMemcpyHostToDevice), "copy");
  moe::cuda::check(cudaMemcpy(da, act.data(), act.size(), cudaMemcpyHostToDevice), "copy");
  for (auto _ : st) {
    const double s = time_per_call(50, [&] {
      moe::cuda::matvec(type, dw, rb, n, rows, da, static_cast<float*>(dout), nullptr);
    });
    report(st, static_cast<double>(wbytes), s);
  }
  cudaFree(dw);
  cudaFree(da);
  cudaFree(dout);
}

void BM_CudaDeviceCopy(benchmark::State& st) {
  const size_t bytes = size_t{1} << 30;
  void *a = nullptr, *b = nullptr;
  moe::cuda::check(cudaMalloc(&a, bytes), "malloc");
  moe::cuda::check(cudaMalloc(&b, bytes), "malloc");
  for (auto _ : st) {
    const double s = time_per_call(10, [&] {
      moe::cuda::check(cudaMemcpyAsync(b, a, bytes, cudaMemcpyDeviceToDevice, nullptr), "copy");
    });
    report(st, 2.0 * bytes, s);  // read + write
  }
  cudaFree(a);
  cudaFree(b);
}

void BM_CudaPinnedUpload(benchmark::State& st) {
  const size_t bytes = size_t{256} << 20;
  void *h = nullptr, *d = nullptr;
  moe::cuda::check(cudaMallocHost(&h, bytes), "pinned");
  moe::cuda::check(cudaMalloc(&d, bytes), "malloc");
  for (auto _ : st) {
    const double s = time_per_call(10, [&] {
      moe::cuda::check(cudaMemcpyAsync(d, h, bytes, cudaMemcpyHostToDevice, nullptr), "copy");
    });
    st.SetIterationTime(s);
    st.counters["GB/s"] = bytes / s / 1e9;
  }
  cudaFreeHost(h);
  cudaFree(d);
}

bool register_all() {
  if (moe::cuda_inventory().devices.empty()) return false;
  for (GgmlType t : {GgmlType::Q4_0, GgmlType::Q8_0, GgmlType::Q4_K, GgmlType::Q6_K}) {
    const std::string name(moe::type_name(t));
    benchmark::RegisterBenchmark(("CudaMatvec/" + name + "/gate_14336x4096").c_str(), BM_CudaMatvec,
                                 t, 14336, 4096)
        ->UseManualTime()
        ->Iterations(3);
    benchmark::RegisterBenchmark(("CudaMatvec/" + name + "/down_4096x14336").c_str(), BM_CudaMatvec,
                                 t, 4096, 14336)
        ->UseManualTime()
        ->Iterations(3);
  }
  benchmark::RegisterBenchmark("CudaDeviceCopy/1GiB", BM_CudaDeviceCopy)
      ->UseManualTime()
      ->Iterations(3);
  benchmark::RegisterBenchmark("CudaPinnedUpload/256MiB", BM_CudaPinnedUpload)
      ->UseManualTime()
      ->Iterations(3);
  return true;
}

const bool registered = register_all();

}  // namespace
#endif

BENCHMARK_MAIN();
