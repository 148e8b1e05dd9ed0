#include "core/util/membw.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

namespace moe {

MemBandwidth measure_memory_bandwidth(int n_threads, int mib, int reps) {
  if (n_threads <= 0) n_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const size_t n = static_cast<size_t>(std::max(mib, 1)) * 1024 * 1024 / sizeof(double);
  std::unique_ptr<double[]> a(new double[n]), b(new double[n]), c(new double[n]);
  auto chunk = [&](int t) {
    return std::pair{n * t / n_threads, n * (t + 1) / n_threads};
  };
  auto parallel = [&](auto&& body) {
    std::vector<std::thread> th;
    for (int t = 1; t < n_threads; ++t) th.emplace_back([&, t] { body(chunk(t)); });
    body(chunk(0));
    for (auto& x : th) x.join();
  };
  // First touch from the threads that will use the pages.
  parallel([&](std::pair<size_t, size_t> r) {
    for (size_t i = r.first; i < r.second; ++i) {
      a[i] = 0;
      b[i] = 1.0 + static_cast<double>(i % 7);
      c[i] = 2.0;
    }
  });
  double best = 1e30;
  const double s = 3.0;
  for (int rep = 0; rep < std::max(reps, 1); ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    parallel([&](std::pair<size_t, size_t> r) {
      double* __restrict pa = a.get();
      const double* __restrict pb = b.get();
      const double* __restrict pc = c.get();
      for (size_t i = r.first; i < r.second; ++i) pa[i] = pb[i] + s * pc[i];
    });
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  volatile double sink = a[n / 2];  // keep the stores observable
  (void)sink;
  return {3.0 * sizeof(double) * static_cast<double>(n) / best / 1e9, n_threads};
}

}  // namespace moe
