#include "core/engine/thread_pool.h"

#include <algorithm>
#include <chrono>
#include <system_error>

#include "core/util/check.h"
#include "core/util/limits.h"

namespace moe {
namespace {
// Waiting threads spin for up to kSpin before sleeping on the condition variable: one decode
// step makes ~70 dispatches a few to tens of microseconds apart, and a futex wake-up costs
// about as much as a small dispatch. The spin polls without PAUSE (in a KVM guest a PAUSE
// loop can trip pause-loop exiting; no measurable difference on the reference machine) and
// is bounded in time rather than in iterations; the clock is read every kCheck polls.
constexpr std::chrono::microseconds kSpin{500};
constexpr int kCheck = 256;

template <class Pred>
bool spin_until(Pred done) {
  const auto t0 = std::chrono::steady_clock::now();
  for (;;) {
    for (int i = 0; i < kCheck; ++i) {
      if (done()) return true;
    }
    if (std::chrono::steady_clock::now() - t0 > kSpin) return false;
    // On an oversubscribed machine the thread we wait for may be queued on this very CPU:
    // give it the CPU (a cheap syscall when nothing else is runnable here). Measured with two
    // compile jobs running on the 2 vCPUs: decode 84 -> 120 tok/s (mixtral-mini Q4_0, 2 threads).
    std::this_thread::yield();
  }
}

// Share word: generation (20 bits) | front (22 bits) | back (22 bits). A stale worker's CAS can
// only succeed against a word of its own dispatch (or one 2^20 dispatches later: minutes of
// decoding, while its CAS follows its load by nanoseconds).
constexpr int kGenBits = 20, kIdxBits = 22;
constexpr uint64_t kGenMask = (uint64_t{1} << kGenBits) - 1, kIdxMask = (uint64_t{1} << kIdxBits) - 1;
constexpr int64_t kMaxTasks = int64_t{1} << kIdxBits;

inline uint64_t pack(uint32_t gen, uint64_t front, uint64_t back) {
  return (gen & kGenMask) | (front << kGenBits) | (back << (kGenBits + kIdxBits));
}
inline uint32_t gen_of(uint64_t w) { return static_cast<uint32_t>(w & kGenMask); }
inline uint64_t front_of(uint64_t w) { return (w >> kGenBits) & kIdxMask; }
inline uint64_t back_of(uint64_t w) { return (w >> (kGenBits + kIdxBits)) & kIdxMask; }
}  // namespace

bool SpinGovernor::decide(int64_t ran, int64_t all, int n_threads) {
  if (sleeping_) {
    // A sleeping worker's share is lowered by its wake-ups, so it says nothing about the other
    // process: sleep for the backoff, then spin for one window to look again.
    if (--windows_left_ <= 0) sleeping_ = false;
    return sleeping_;
  }
  if (all > 0 && n_threads > 1 &&
      static_cast<double>(ran) < kStarved * static_cast<double>(all) / n_threads) {
    sleeping_ = true;
    ++sleep_decisions_;
    windows_left_ = backoff_;
    backoff_ = std::min(2 * backoff_, kMaxBackoff);
  } else {
    backoff_ = 1;
  }
  return sleeping_;
}

ThreadPool::ThreadPool(int n_threads) {
  if (n_threads <= 0) n_threads = static_cast<int>(std::thread::hardware_concurrency());
  n_threads_ = std::clamp(n_threads, 1, kMaxThreads);
  shares_ = std::make_unique<Share[]>(static_cast<size_t>(n_threads_));
  governors_.resize(static_cast<size_t>(n_threads_));
  workers_.reserve(static_cast<size_t>(n_threads_ - 1));
  for (int i = 1; i < n_threads_; ++i) {
    try {
      workers_.emplace_back([this, i] { worker(i); });
    } catch (const std::system_error&) {
      // Out of threads (EAGAIN: process or memory limit): run with the ones we have. Workers
      // only read n_threads_ through dispatches, none of which has started yet.
      n_threads_ = i;
      break;
    }
  }
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
    ++generation_;
    announced_.store(generation_, std::memory_order_release);
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

bool ThreadPool::run_one(int r, bool front, uint32_t generation, int64_t n_tasks, TaskFn fn,
                         void* ctx, int thread) {
  std::atomic<uint64_t>& w = shares_[static_cast<size_t>(r)].word;
  uint64_t c = w.load(std::memory_order_acquire);
  uint64_t task;
  for (;;) {
    if (gen_of(c) != (generation & kGenMask)) return false;
    const uint64_t f = front_of(c), b = back_of(c);
    if (f >= b) return false;
    task = front ? f : b - 1;
    const uint64_t next = front ? pack(generation, f + 1, b) : pack(generation, f, b - 1);
    if (w.compare_exchange_weak(c, next, std::memory_order_acq_rel)) break;
  }
  fn(ctx, static_cast<int64_t>(task), thread);
  if (done_.fetch_add(1, std::memory_order_acq_rel) + 1 == n_tasks) {
    std::lock_guard lock(mu_);
    done_cv_.notify_all();
  }
  return true;
}

int ThreadPool::sleeping_workers() const {
  int n = 0;
  for (int i = 1; i < n_threads_; ++i) n += shares_[static_cast<size_t>(i)].sleep.load() ? 1 : 0;
  return n;
}

int64_t ThreadPool::work(uint32_t generation, int64_t n_tasks, TaskFn fn, void* ctx,
                         int thread) {
  int64_t ran = 0;
  while (run_one(thread, /*front=*/true, generation, n_tasks, fn, ctx, thread)) ++ran;
  // Own share done: take from the back of the others' (the next thread's first, so that with
  // several thieves they spread out).
  for (int i = 1; i < n_threads_; ++i) {
    const int victim = (thread + i) % n_threads_;
    while (run_one(victim, /*front=*/false, generation, n_tasks, fn, ctx, thread)) ++ran;
  }
  return ran;
}

void ThreadPool::run(int64_t n_tasks, TaskFn fn, void* ctx) {
  MOE_CHECK(n_tasks < kMaxTasks, "ThreadPool: too many tasks in one dispatch");
  uint32_t gen;
  {
    std::lock_guard lock(mu_);
    gen = ++generation_;
    n_tasks_ = n_tasks;
    fn_ = fn;
    ctx_ = ctx;
    done_.store(0, std::memory_order_relaxed);
    const auto T = static_cast<uint64_t>(n_threads_), n = static_cast<uint64_t>(n_tasks);
    for (uint64_t t = 0; t < T; ++t) {
      shares_[t].word.store(pack(gen, n * t / T, n * (t + 1) / T), std::memory_order_release);
    }
    announced_.store(gen, std::memory_order_release);
  }
  wake_.notify_all();
  (void)work(gen, n_tasks, fn, ctx, 0);
  if (!spin_until([&] { return done_.load(std::memory_order_acquire) == n_tasks; })) {
    std::unique_lock lock(mu_);
    done_cv_.wait(lock, [&] { return done_.load(std::memory_order_acquire) == n_tasks; });
  }
  window_tasks_ += n_tasks;
  if (++window_dispatches_ < SpinGovernor::kWindow) return;
  for (int i = 1; i < n_threads_; ++i) {
    Share& s = shares_[static_cast<size_t>(i)];
    const bool sleep = governors_[static_cast<size_t>(i)].decide(
        s.ran.exchange(0, std::memory_order_relaxed), window_tasks_, n_threads_);
    s.sleep.store(sleep, std::memory_order_relaxed);
  }
  window_dispatches_ = 0;
  window_tasks_ = 0;
}

void ThreadPool::worker(int index) {
  uint32_t seen = 0;
  for (;;) {
    // Spin for the next dispatch, then sleep (at once while the governor says so).
    Share& own = shares_[static_cast<size_t>(index)];
    if (!own.sleep.load(std::memory_order_relaxed)) {
      spin_until([&] { return announced_.load(std::memory_order_acquire) != seen; });
    }
    uint32_t gen;
    int64_t n_tasks;
    TaskFn fn;
    void* ctx;
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [&] { return generation_ != seen; });
      if (stop_) return;
      gen = seen = generation_;
      n_tasks = n_tasks_;
      fn = fn_;
      ctx = ctx_;
    }
    own.ran.fetch_add(work(gen, n_tasks, fn, ctx, index), std::memory_order_relaxed);
  }
}

}  // namespace moe
