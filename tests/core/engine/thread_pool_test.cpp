#include "core/engine/thread_pool.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>
#include <fstream>
#include <string>
#include <vector>

#include "core/util/limits.h"

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

// A worker stuck in a task (descheduled by another process) holds up that task only: the
// caller runs its own share, then steals the rest of the worker's share from the back.
TEST(ThreadPool, AStalledWorkersShareIsStolen) {
  ThreadPool pool(2);
  constexpr int kTasks = 32;
  std::atomic<int> done_by_caller{0};
  std::atomic<bool> release{false}, worker_stalled{false};
  std::vector<int> by(kTasks, -1);
  pool.parallel_for(kTasks, [&](int64_t t, int th) {
    by[static_cast<size_t>(t)] = th;
    if (th == 0) {
      // Hold the caller back until the worker is inside its first task, so it has one.
      for (int i = 0; i < 2000000 && !worker_stalled.load(); ++i) std::this_thread::yield();
      if (done_by_caller.fetch_add(1) + 1 == kTasks - 1) release = true;
      return;
    }
    worker_stalled = true;
    // Stalled until everything else is done (bounded: a broken pool fails, it does not hang).
    for (int i = 0; i < 5000000 && !release.load(); ++i) std::this_thread::yield();
  });
  EXPECT_TRUE(release.load()) << "the caller did not take over the stalled worker's share";
  EXPECT_EQ(std::count(by.begin(), by.end(), 1), 1);
  EXPECT_EQ(by[kTasks / 2], 1);  // the worker's first task: the front of its share
}

// Each thread runs its own contiguous share front to back (a matrix's rows streamed in
// order); what a thief takes comes from the back of another share.
TEST(ThreadPool, OwnShareRunsInOrderAndThievesTakeFromTheBack) {
  ThreadPool pool(2);
  for (int round = 0; round < 50; ++round) {
    constexpr int kTasks = 64;
    std::vector<std::vector<int64_t>> order(2);
    std::mutex mu;
    pool.parallel_for(kTasks, [&](int64_t t, int th) {
      std::lock_guard lock(mu);
      order[static_cast<size_t>(th)].push_back(t);
    });
    for (int th = 0; th < 2; ++th) {
      const auto& o = order[static_cast<size_t>(th)];
      const int64_t lo = kTasks * th / 2, hi = kTasks * (th + 1) / 2;
      size_t i = 0;
      for (int64_t want = lo; i < o.size() && o[i] >= lo && o[i] < hi; ++i, ++want) {
        ASSERT_EQ(o[i], want) << "thread " << th << " round " << round;
      }
      for (size_t j = i + 1; j < o.size(); ++j) {  // stolen: descending, outside its share
        ASSERT_LT(o[j], o[j - 1]) << "thread " << th << " round " << round;
      }
    }
  }
}

// The governor's rule on its own: a worker that ran well under its fair share sleeps; it tries
// spinning again after 1, 2, 4, ... sleeping windows (capped) while starved, and the backoff
// starts over once a spinning window finds it running its share.
TEST(SpinGovernor, StarvedWorkersSleepAndRetrySpinningWithBackoff) {
  SpinGovernor g;
  const int64_t all = 1000;
  const int64_t fair = all / 2, starved = 20;  // 2 threads: fair share 500; 20 = 2 %
  EXPECT_FALSE(g.decide(fair, all, 2));
  EXPECT_FALSE(g.decide(static_cast<int64_t>(SpinGovernor::kStarved * fair) + 1, all, 2));
  int expected_sleep = 1;
  for (int round = 0; round < 10; ++round) {
    ASSERT_TRUE(g.decide(starved, all, 2)) << "round " << round;  // starved while spinning
    // Sleeping windows: what the worker ran says nothing then; it stays asleep.
    for (int w = 1; w < expected_sleep; ++w) ASSERT_TRUE(g.decide(fair, all, 2));
    ASSERT_FALSE(g.decide(0, all, 2)) << "round " << round << ": no spinning try";
    expected_sleep = std::min(2 * expected_sleep, SpinGovernor::kMaxBackoff);
  }
  EXPECT_EQ(g.sleep_decisions(), 10);
  // Contention over: a spinning window at its fair share resets the backoff to one window.
  EXPECT_FALSE(g.decide(fair, all, 2));
  EXPECT_TRUE(g.decide(starved, all, 2));
  EXPECT_FALSE(g.decide(fair, all, 2));
  // The fair share scales with the thread count; nothing to share decides nothing.
  EXPECT_FALSE(g.decide(40, all, 8));  // 8 threads: fair 125, starved below 31.25
  EXPECT_TRUE(g.decide(30, all, 8));
  SpinGovernor idle;
  EXPECT_FALSE(idle.decide(0, 0, 2));
  EXPECT_FALSE(idle.decide(0, all, 1));
}

// The real condition: the caller and the worker confined to one CPU, so the spinning worker
// shares its core with a busy thread (the caller) as it would with another process. The worker
// runs a sliver of the tasks, and the pool turns it to sleeping between dispatches; every
// dispatch still runs every task exactly once.
TEST(ThreadPool, AWorkerThatSharesItsCoreSleepsBetweenDispatches) {
  cpu_set_t old_set;
  ASSERT_EQ(sched_getaffinity(0, sizeof(old_set), &old_set), 0);
  cpu_set_t one;
  CPU_ZERO(&one);
  int cpu = 0;
  while (cpu < CPU_SETSIZE && !CPU_ISSET(cpu, &old_set)) ++cpu;
  CPU_SET(cpu, &one);
  ASSERT_EQ(sched_setaffinity(0, sizeof(one), &one), 0);  // inherited by the pool's worker
  bool slept = false;
  {
    ThreadPool pool(2);
    std::vector<std::atomic<int>> hits(16);
    // ~20 windows of small dispatches of a few microseconds each: well under a second.
    for (int d = 0; d < 20 * SpinGovernor::kWindow && !slept; ++d) {
      pool.parallel_for(16, [&](int64_t t, int) {
        volatile double x = 1;
        for (int i = 0; i < 200; ++i) x = x * 1.0000001 + 1e-9;
        hits[static_cast<size_t>(t)].fetch_add(1, std::memory_order_relaxed);
      });
      for (auto& h : hits) ASSERT_EQ(h.exchange(0), 1) << "dispatch " << d;
      slept = pool.sleeping_workers() == 1;
    }
  }
  ASSERT_EQ(sched_setaffinity(0, sizeof(old_set), &old_set), 0);
  EXPECT_TRUE(slept) << "a worker sharing its core with the caller was never put to sleep";
}

TEST(ThreadPool, ZeroTasksAndDefaultSize) {
  ThreadPool pool(0);
  EXPECT_GE(pool.size(), 1);
  int calls = 0;
  pool.parallel_for(0, [&](int64_t, int) { ++calls; });
  EXPECT_EQ(calls, 0);
}

// A last line of defence behind the front ends' checks: an absurd count is clamped (moe-cli
// perplexity -t 100000 once started threads until the process table was full).
TEST(ThreadPool, AbsurdThreadCountsAreClamped) {
  ThreadPool pool(100000);
  EXPECT_EQ(pool.size(), kMaxThreads);
  std::atomic<int64_t> sum{0};
  pool.parallel_for(5000, [&](int64_t t, int th) {
    sum.fetch_add(t);
    EXPECT_LT(th, kMaxThreads);
  });
  EXPECT_EQ(sum.load(), 5000 * 4999 / 2);
}

// When the system has no threads left (here: an address-space limit leaves room for only a few
// 8 MiB stacks), the pool keeps the threads it got instead of throwing std::system_error.
TEST(ThreadPool, RunsWithTheThreadsItGotWhenTheSystemHasNoMore) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "sanitizers reserve more address space than the limit this test sets";
#else
  uint64_t vm_kib = 0;
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmSize:", 0) == 0) vm_kib = std::stoull(line.substr(7));
  }
  ASSERT_GT(vm_kib, 0u);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {  // the child: room for about 8 more thread stacks
    const rlimit lim{(vm_kib << 10) + (uint64_t{80} << 20), (vm_kib << 10) + (uint64_t{80} << 20)};
    if (setrlimit(RLIMIT_AS, &lim) != 0) _exit(3);
    ThreadPool pool(1000);
    std::atomic<int64_t> n{0};
    pool.parallel_for(1000, [&](int64_t, int th) { n.fetch_add(th < pool.size() ? 1 : 1000000); });
    _exit(pool.size() >= 1 && pool.size() < 1000 && n.load() == 1000 ? 0 : 1);
  }
  int st = 0;
  ASSERT_EQ(waitpid(pid, &st, 0), pid);
  ASSERT_TRUE(WIFEXITED(st)) << "the child died (signal " << WTERMSIG(st) << ")";
  EXPECT_EQ(WEXITSTATUS(st), 0);
#endif
}

}  // namespace
}  // namespace moe
