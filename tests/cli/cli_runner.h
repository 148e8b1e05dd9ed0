#pragma once
// Runs the real moe-cli binary (MOE_CLI, a compile definition) through the shell and collects
// its exit code, stdout and stderr, for the end-to-end CLI tests.
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace moe::cli_test {

struct Output {
  int rc = -1;
  std::string out;  ///< stdout
  std::string err;  ///< stderr
};

/// `args` is appended to the binary's path as shell text: quote arguments with sh_quote().
/// `timeout_s` > 0: the command is killed after that many seconds (rc 124 or 137), for tests of
/// inputs that used to block. `env`: "NAME=value ..." set for the command only.
inline Output run_cli(const std::string& args, int timeout_s = 0, const std::string& env = {}) {
  namespace fs = std::filesystem;
  static int n = 0;
  const fs::path err_file = fs::temp_directory_path() / ("moe_cli_err_" + std::to_string(getpid()) +
                                                         "_" + std::to_string(n++) + ".txt");
  const std::string limit =
      timeout_s > 0 ? "timeout -k 5 " + std::to_string(timeout_s) + " " : std::string();
  const std::string cmd = (env.empty() ? std::string() : "env " + env + " ") + limit +
                          std::string(MOE_CLI) + " " + args + " 2>" + err_file.string();
  Output o;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return o;
  std::array<char, 4096> buf{};
  size_t got;
  while ((got = fread(buf.data(), 1, buf.size(), p)) > 0) o.out.append(buf.data(), got);
  const int status = pclose(p);
  o.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream e(err_file);
  o.err.assign(std::istreambuf_iterator<char>(e), {});
  fs::remove(err_file);
  return o;
}

inline Output run_cli_env(const std::string& env, const std::string& args) {
  return run_cli(args, 0, env);
}

/// One shell word holding `s` exactly (single quotes; a quote inside becomes '\'').
inline std::string sh_quote(const std::string& s) {
  std::string q = "'";
  for (const char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

}  // namespace moe::cli_test
