#pragma once
// Test helper: runs a function in a forked child process and reports what it cost — its own
// peak resident set (file pages it touched included) and CPU time, from wait4()'s rusage —
// so a test can bound the memory and time a hostile input costs without risking the test
// process. The child runs under an address-space limit: an unbounded allocation fails there
// (and the child dies) instead of taking the machine's memory.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <exception>
#include <functional>

namespace moe::test {

struct ChildUsage {
  bool exited = false;  ///< false: killed by a signal (abort, uncaught exception, ...)
  int exit_code = -1;
  double max_rss_mb = 0;  ///< peak resident set of the child, MiB
  double cpu_s = 0;       ///< user + system CPU seconds of the child
};

/// Runs fn() in a child limited to `address_space_mb` of virtual memory; the child exits with
/// fn()'s return value (99 when fn() throws).
inline ChildUsage run_in_child(const std::function<int()>& fn, long address_space_mb = 2048) {
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    const rlimit lim{static_cast<rlim_t>(address_space_mb) << 20,
                     static_cast<rlim_t>(address_space_mb) << 20};
    ::setrlimit(RLIMIT_AS, &lim);
    int rc = 99;  // an exception escaping fn() ends the child, never the test in the child
    try {
      rc = fn();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "child: uncaught exception: %s\n", e.what());
    } catch (...) {
      std::fprintf(stderr, "child: uncaught exception\n");
    }
    std::fflush(nullptr);
    ::_exit(rc);
  }
  ChildUsage u;
  if (pid < 0) return u;
  int status = 0;
  rusage ru{};
  if (::wait4(pid, &status, 0, &ru) != pid) return u;
  u.exited = WIFEXITED(status);
  u.exit_code = u.exited ? WEXITSTATUS(status) : -1;
  u.max_rss_mb = static_cast<double>(ru.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
  u.cpu_s = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
            1e-6 * static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
  return u;
}

}  // namespace moe::test
