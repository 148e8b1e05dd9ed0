#include "core/engine/thread_pool.h"

#include "core/util/check.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define MOE_CPU_RELAX() _mm_pause()
#else
#define MOE_CPU_RELAX() ((void)0)
#endif

namespace moe {
namespace {
constexpr int kSpinIterations = 4000;  // a few to tens of microseconds before sleeping
inline uint32_t gen_of(uint64_t claim) {
  return static_cast<uint32_t>(claim >> 32);
}
}  // namespace

ThreadPool::ThreadPool(int n_threads) {
  if (n_threads <= 0) n_threads = static_cast<int>(std::thread::hardware_concurrency());
  n_threads_ = n_threads < 1 ? 1 : n_threads;
  workers_.reserve(static_cast<size_t>(n_threads_ - 1));
  for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this, i] { worker(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
    ++generation_;
    claim_.store(uint64_t{generation_} << 32, std::memory_order_release);
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::work(uint32_t generation, int64_t n_tasks, TaskFn fn, void* ctx, int thread) {
  uint64_t c = claim_.load(std::memory_order_acquire);
  for (;;) {
    if (gen_of(c) != generation || static_cast<int64_t>(c & 0xffffffffu) >= n_tasks) return;
    if (!claim_.compare_exchange_weak(c, c + 1, std::memory_order_acq_rel)) continue;
    fn(ctx, static_cast<int64_t>(c & 0xffffffffu), thread);
    if (done_.fetch_add(1, std::memory_order_acq_rel) + 1 == n_tasks) {
      std::lock_guard lock(mu_);
      done_cv_.notify_all();
    }
    c = claim_.load(std::memory_order_acquire);
  }
}

void ThreadPool::run(int64_t n_tasks, TaskFn fn, void* ctx) {
  MOE_CHECK(n_tasks < (int64_t{1} << 31), "ThreadPool: too many tasks in one dispatch");
  uint32_t gen;
  {
    std::lock_guard lock(mu_);
    gen = ++generation_;
    n_tasks_ = n_tasks;
    fn_ = fn;
    ctx_ = ctx;
    done_.store(0, std::memory_order_relaxed);
    claim_.store(uint64_t{gen} << 32, std::memory_order_release);
  }
  wake_.notify_all();
  work(gen, n_tasks, fn, ctx, 0);
  for (int i = 0; i < kSpinIterations; ++i) {
    if (done_.load(std::memory_order_acquire) == n_tasks) return;
    MOE_CPU_RELAX();
  }
  std::unique_lock lock(mu_);
  done_cv_.wait(lock, [&] { return done_.load(std::memory_order_acquire) == n_tasks; });
}

void ThreadPool::worker(int index) {
  uint32_t seen = 0;
  for (;;) {
    // Spin for the next dispatch, then sleep.
    for (int i = 0; i < kSpinIterations && gen_of(claim_.load(std::memory_order_acquire)) == seen;
         ++i) {
      MOE_CPU_RELAX();
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
    work(gen, n_tasks, fn, ctx, index);
  }
}

}  // namespace moe
