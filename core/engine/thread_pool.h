#pragma once
// A fixed pool of worker threads for the forward pass. parallel_for hands out task indices
// from an atomic counter (dynamic balancing: expert groups differ in size) and the calling
// thread works too. A dispatch ends when its tasks are done, not when every worker has checked
// in: on a busy machine a descheduled worker never holds the caller up (the caller then does
// the work itself). Workers spin briefly before sleeping so that the many small dispatches of
// one decode step do not each pay a futex wake-up. No allocation per dispatch.
#include <atomic>
#include <condition_variable>
#include <cstdint>
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

  int n_threads_ = 1;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable wake_, done_cv_;
  // High 32 bits: dispatch generation; low 32 bits: next task index. Claiming a task is one
  // CAS that also checks the generation, so a late worker can never run a task of a newer
  // dispatch with the function of an older one.
  std::atomic<uint64_t> claim_{0};
  std::atomic<int64_t> done_{0};  // tasks finished in the current dispatch
  uint32_t generation_ = 0;       // guarded by mu_
  int64_t n_tasks_ = 0;
  TaskFn fn_ = nullptr;
  void* ctx_ = nullptr;
  bool stop_ = false;
};

}  // namespace moe
