#include "app/cli/stop_signal.h"

#include <signal.h>
#include <chrono>

#include <csignal>

#include "core/frontend/engine.h"

namespace moe::cli {
namespace {

std::atomic<int> g_interrupts{0};  // raised by the handler
std::atomic<int> g_forwarded{0};   // how many the watcher has passed to the engine

void on_sigint(int) {
  g_interrupts.fetch_add(1);
}

}  // namespace

StopOnSigint::StopOnSigint(Engine& engine) {
  // sigaction without SA_RESTART: a Ctrl-C at the chat prompt interrupts the blocking read.
  struct sigaction sa {};
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;
  struct sigaction old {};
  sigaction(SIGINT, &sa, &old);
  previous_ = old.sa_handler;
  watcher_ = std::thread([this, &engine] {
    while (!quit_.load()) {
      if (g_interrupts.load() != g_forwarded.load()) {
        g_forwarded.store(g_interrupts.load());
        engine.request_stop();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
}

StopOnSigint::~StopOnSigint() {
  quit_ = true;
  watcher_.join();
  std::signal(SIGINT, previous_ == nullptr ? SIG_DFL : previous_);
}

bool StopOnSigint::take_interrupt() {
  const int now = g_interrupts.load();
  const bool got = now != seen_;
  seen_ = now;
  return got;
}

}  // namespace moe::cli
