// "No allocation per token": after the first call, sample() must not touch the heap. This test
// binary counts operator new calls (replaced below, for this executable only).
#include <atomic>
#include <cstdlib>
#include <new>

#include <gtest/gtest.h>

#include "core/sampling/sampler.h"

namespace {
std::atomic<long> g_allocations{0};
}  // namespace

// malloc/free pairs are matched here; GCC 12 cannot see that through the replacement.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}

namespace moe {
namespace {

TEST(SamplerAlloc, NoHeapAllocationAfterFirstCall) {
  SamplerConfig c;  // every stage on: penalty, top-k, top-p, min-p, temperature
  c.top_k = 0;      // top-p then sorts the whole vocabulary
  std::vector<float> base(32000);
  for (size_t i = 0; i < base.size(); ++i) base[i] = static_cast<float>((i * 7919) % 1000) / 100;
  std::vector<float> logits = base;
  std::vector<int32_t> history = {1, 2, 3, 500, 31999};
  history.reserve(64);
  Sampler s(c);
  const long at_start = g_allocations.load();
  s.sample(logits, history);  // first call sizes the buffers
  EXPECT_GT(g_allocations.load() - at_start, 0) << "the counter must see the first call";
  const long before = g_allocations.load();
  for (int i = 0; i < 20; ++i) {
    std::copy(base.begin(), base.end(), logits.begin());
    const int32_t t = s.sample(logits, history);
    if (history.size() < history.capacity()) history.push_back(t);
  }
  EXPECT_EQ(g_allocations.load() - before, 0);
}

}  // namespace
}  // namespace moe
