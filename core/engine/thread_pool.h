#pragma once
// A fixed pool of worker threads for the forward pass; the calling thread works too. A
// dispatch of n tasks gives each thread a contiguous share (thread t: tasks [n t/T, n (t+1)/T)),
// which it runs from the front, so on a quiet machine every thread streams its own rows of a
// matrix in order; a thread whose share is done steals tasks from the back of the others'.
// Callers cut their work into several tasks per thread, so when another process takes a core
// and a worker is descheduled mid-share, the running threads take over the rest of its share
// instead of waiting for it (a dispatch ends when its tasks are done, not when every worker has
// checked in). Workers spin briefly before sleeping so that the many small dispatches of one
// decode step do not each pay a futex wake-up. No allocation per dispatch.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace moe {

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
  void work(uint32_t generation, int64_t n_tasks, TaskFn fn, void* ctx, int thread);
  /// Runs the task at the front (own share) or the back (stealing) of range `r`; false when
  /// the range is empty or belongs to another dispatch.
  bool run_one(int r, bool front, uint32_t generation, int64_t n_tasks, TaskFn fn, void* ctx,
               int thread);

  // One thread's share of the current dispatch, packed in a word so that claiming a task is
  // one CAS that also checks the dispatch: generation (low kGenBits), front, back.
  struct alignas(64) Share {
    std::atomic<uint64_t> word{0};
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
  uint32_t generation_ = 0;       // guarded by mu_
  int64_t n_tasks_ = 0;
  TaskFn fn_ = nullptr;
  void* ctx_ = nullptr;
  bool stop_ = false;
};

}  // namespace moe
