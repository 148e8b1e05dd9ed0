#include "core/engine/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <vector>

namespace moe {
namespace {

TEST(ThreadPool, EveryTaskRunsExactlyOnce) {
  for (int threads : {1, 2, 4}) {
    ThreadPool pool(threads);
    EXPECT_EQ(pool.size(), threads);
    std::vector<std::atomic<int>> hits(1000);
    std::atomic<int> bad_thread{0};
    pool.parallel_for(1000, [&](int64_t t, int th) {
      hits[static_cast<size_t>(t)].fetch_add(1);
      if (th < 0 || th >= threads) bad_thread.fetch_add(1);
    });
    for (auto& h : hits) ASSERT_EQ(h.load(), 1);
    EXPECT_EQ(bad_thread.load(), 0);
  }
}

// Many tiny back-to-back dispatches (the decode pattern): no task lost, none run twice, none
// run with a stale function after the dispatch that owned it returned.
TEST(ThreadPool, ManySmallDispatchesStayConsistent) {
  ThreadPool pool(3);
  int64_t total = 0;
  for (int round = 0; round < 20000; ++round) {
    std::atomic<int64_t> sum{0};
    const int n = 1 + round % 7;
    pool.parallel_for(n, [&](int64_t t, int) { sum.fetch_add(t + 1); });
    ASSERT_EQ(sum.load(), int64_t{n} * (n + 1) / 2) << "round " << round;
    total += sum.load();
  }
  EXPECT_GT(total, 0);
}

TEST(ThreadPool, ZeroTasksAndDefaultSize) {
  ThreadPool pool(0);
  EXPECT_GE(pool.size(), 1);
  int calls = 0;
  pool.parallel_for(0, [&](int64_t, int) { ++calls; });
  EXPECT_EQ(calls, 0);
}

}  // namespace
}  // namespace moe
