// `moe-cli chat`: Ctrl-C (SIGINT) during an answer stops that answer, not the program; the next
// question is answered; end of input quits with status 0.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace {

namespace fs = std::filesystem;

// Appends what fd delivers to `out` until `until` appears in it or `ms` milliseconds pass.
void read_until(int fd, std::string& out, const std::string& until, int ms) {
  char buf[4096];
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (std::chrono::steady_clock::now() < end && out.find(until) == std::string::npos) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 20) <= 0) continue;
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
}

TEST(CliChat, SigintStopsTheAnswerNotTheProgram) {
  const fs::path dir = fs::temp_directory_path() / ("moe_chat_test_" + std::to_string(getpid()));
  fs::create_directories(dir);
  const std::string model = (dir / "demo.gguf").string();
  const std::string make = std::string(MOE_CLI) + " make-model --preset demo --type q8_0 -o " +
                           model + " > /dev/null 2>&1";
  ASSERT_EQ(std::system(make.c_str()), 0);

  int in_pipe[2], err_pipe[2];
  ASSERT_EQ(pipe(in_pipe), 0);
  ASSERT_EQ(pipe(err_pipe), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    dup2(in_pipe[0], STDIN_FILENO);
    dup2(err_pipe[1], STDERR_FILENO);
    const int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, STDOUT_FILENO);
    close(in_pipe[1]);
    close(err_pipe[0]);
    // A long answer: up to the 2048-token context of the demo model.
    execl(MOE_CLI, MOE_CLI, "chat", "-m", model.c_str(), "-t", "1", "-n", "100000", "--temp",
          "1.5", "--min-p", "0", "--top-k", "0", "--top-p", "1", static_cast<char*>(nullptr));
    _exit(127);
  }
  close(in_pipe[0]);
  close(err_pipe[1]);
  fcntl(err_pipe[0], F_SETFL, O_NONBLOCK);
  std::string err;
  read_until(err_pipe[0], err, "\n", 10000);  // the model line
  ASSERT_NE(err.find("model:"), std::string::npos) << err;
  const std::string q1 = "Describe the management of sepsis in detail.\n";
  ASSERT_EQ(write(in_pipe[1], q1.data(), q1.size()), static_cast<ssize_t>(q1.size()));
  usleep(150 * 1000);  // the answer is being written
  kill(pid, SIGINT);
  read_until(err_pipe[0], err, ", stopped]", 10000);
  EXPECT_NE(err.find(", stopped]"), std::string::npos) << err;
  // Still alive: a second question gets an answer.
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, WNOHANG), 0) << "moe-cli chat exited after Ctrl-C";
  const std::string q2 = "Thanks.\n";
  ASSERT_EQ(write(in_pipe[1], q2.data(), q2.size()), static_cast<ssize_t>(q2.size()));
  close(in_pipe[1]);  // end of input after the second question
  read_until(err_pipe[0], err, "<no such text: read to the end>", 20000);
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << err;
  size_t answers = 0;
  for (size_t p = err.find(" tok/s, "); p != std::string::npos; p = err.find(" tok/s, ", p + 1)) {
    ++answers;
  }
  EXPECT_EQ(answers, 2u) << err;
  close(err_pipe[0]);
  fs::remove_all(dir);
}

}  // namespace
