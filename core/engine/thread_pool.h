#pragma once
// A fixed pool of worker threads for the forward pass; the calling thread works too. A
// dispatch of n tasks gives each thread a contiguous share (thread t: tasks [n t/T, n (t+1)/T)),
// which it runs from the front, so on a quiet machine every thread streams its own rows of a
// matrix in order; a thread whose share is done steals tasks from the back of the others'.
// Callers cut their work into several tasks per thread, so when another process takes a core
// and a worker is descheduled mid-share, the running threads take over the rest of its share
// instead of waiting for it (a dispatch ends when its tasks are done, not when every worker has
// checked in). Workers spin briefly before sleeping so that the many small dispatches of one
// decode step do not each pay a futex wake-up -- unless the pool sees that a worker shares its
// core with another process (SpinGovernor below): that worker then sleeps between dispatches.
// No allocation per dispatch.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace moe {

/// Decides, for one worker, whether it spins or sleeps between dispatches, from the share of
/// the tasks it ran. A worker that spins uses its whole share of its core; when another
/// process runs on that core the scheduler preempts it every time slice, mostly while it spins,
/// so when a dispatch comes it is off the CPU and the caller steals its whole share: measured on
/// a 2-vCPU Xeon (family 6 model 207) with a busy loop on the other core, the worker ran 2-3 %
/// of the tasks instead of ~48 %, and 2 threads decoded no faster than 1. A worker that sleeps
/// between dispatches uses a fraction of its core and wakes with the scheduler's credit for
/// having slept, so it runs at once when work comes; on a quiet machine, though, a futex
/// wake-up per dispatch costs ~25 % of decode speed. So: per window of dispatches, a worker
/// that ran less than kStarved of its fair share (1 / threads) sleeps; spinning is tried
/// again for one window after 1, 2, 4 ... kMaxBackoff sleeping windows while it lasts.
class SpinGovernor {
 public:
  static constexpr int kWindow = 256;      ///< dispatches per decision (~3 decode steps)
  static constexpr double kStarved = 0.25;  ///< of the fair share, below which it sleeps
  static constexpr int kMaxBackoff = 64;   ///< sleeping windows between two spinning tries

  /// The end of a window: the worker ran `ran` of the window's `all` tasks, `n_threads` sharing
  /// them. Returns whether the worker sleeps between dispatches in the next window.
  bool decide(int64_t ran, int64_t all, int n_threads);
  bool sleeping() const { return sleeping_; }
  /// How many windows turned the worker to sleeping so far.
  int64_t sleep_decisions() const { return sleep_decisions_; }

 private:
  bool sleeping_ = false;
  int windows_left_ = 0;  // sleeping windows before the next spinning try
  int backoff_ = 1;
  int64_t sleep_decisions_ = 0;
};

class ThreadPool {
 public:
  /// n_threads <= 0: std::thread::hardware_concurrency(). The caller counts as one thread.
  /// A last line of defence behind the front ends' range checks: at most kMaxThreads
  /// (core/util/limits.h), and if the system runs out of threads while they are started, the
  /// pool keeps the ones it got (size() says how many) instead of throwing.
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }
  /// How many workers currently sleep between dispatches (see SpinGovernor).
  int sleeping_workers() const;

  /// Calls f(task, thread) for every task in [0, n_tasks), thread in [0, size()); returns when
  /// all are done. Not re-entrant: one dispatch at a time, from one controlling thread.
  template <class F>
  void parallel_for(int64_t n_tasks, F&& f) {
    if (n_tasks <= 0) return;
    if (n_threads_ == 1 || n_tasks == 1) {
      for (int64_t t = 0; t < n_tasks; ++t) f(t, 0);
      return;
    }
    run(
        n_tasks, [](void* ctx, int64_t task, int thread) { (*static_cast<F*>(ctx))(task, thread); },
        &f);
  }

 private:
  using TaskFn = void (*)(void* ctx, int64_t task, int thread);
  void run(int64_t n_tasks, TaskFn fn, void* ctx);
  void worker(int index);
  int64_t work(uint32_t generation, int64_t n_tasks, TaskFn fn, void* ctx, int thread);
  /// Runs the task at the front (own share) or the back (stealing) of range `r`; false when
  /// the range is empty or belongs to another dispatch.
  bool run_one(int r, bool front, uint32_t generation, int64_t n_tasks, TaskFn fn, void* ctx,
               int thread);

  // One thread's share of the current dispatch, packed in a word so that claiming a task is
  // one CAS that also checks the dispatch: generation (low kGenBits), front, back. Beside it,
  // the worker's tasks run in the current governor window and the governor's decision.
  struct alignas(64) Share {
    std::atomic<uint64_t> word{0};
    std::atomic<int64_t> ran{0};
    std::atomic<bool> sleep{false};
  };

  int n_threads_ = 1;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable wake_, done_cv_;
  // The generation of the current dispatch, announced to spinning workers.
  std::atomic<uint32_t> announced_{0};
  std::unique_ptr<Share[]> shares_;  // [n_threads_]; a task is claimed by CAS on a share, so a
                                     // late worker never runs a newer dispatch's task
  std::atomic<int64_t> done_{0};  // tasks finished in the current dispatch
  // Caller only: the governors of workers 1..n-1 (index 0 unused) and the current window.
  std::vector<SpinGovernor> governors_;
  int window_dispatches_ = 0;
  int64_t window_tasks_ = 0;
  uint32_t generation_ = 0;       // guarded by mu_
  int64_t n_tasks_ = 0;
  TaskFn fn_ = nullptr;
  void* ctx_ = nullptr;
  bool stop_ = false;
};

}  // namespace moe
