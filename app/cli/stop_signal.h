#pragma once
// Ctrl-C handling for commands that generate: the first SIGINT during an answer stops that
// answer (Engine::request_stop, at the next token step) instead of killing the program.
// A signal handler may only touch lock-free atomics, so a small watcher thread forwards it.
#include <atomic>
#include <thread>

namespace moe {
class Engine;
}

namespace moe::cli {

class StopOnSigint {
 public:
  explicit StopOnSigint(Engine& engine);
  ~StopOnSigint();  ///< restores the previous handler
  /// True once if Ctrl-C arrived since the last call (the chat prompt uses it to exit).
  bool take_interrupt();

 private:
  std::thread watcher_;
  std::atomic<bool> quit_{false};
  void (*previous_)(int) = nullptr;
  int seen_ = 0;  // interrupts already reported by take_interrupt()
};

}  // namespace moe::cli
