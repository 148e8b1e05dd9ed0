// Hostile and huge inputs to moe-cli (issue 12, items 3, 4 and 7), end to end on the golden
// model: absurd thread counts and sampler settings are usage errors (exit 2) before a model is
// loaded; /dev/zero and FIFOs are refused at once (every such run has a timeout, so a
// regression fails instead of hanging); a token limit reads only the start of a 20 MB text
// (peak RSS of the child measured with wait4); a model with NaN weights fails with exit 1.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli_runner.h"
#include "tests/core/golden_variant.h"

namespace {

namespace fs = std::filesystem;
using moe::cli_test::Output;
using moe::cli_test::run_cli;

const std::string kModel = moe::test::kGoldenF32;

class CliLimits : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("moe_cli_limits_" + std::to_string(getpid()));
    fs::create_directories(dir_);
    text_ = (dir_ / "text.txt").string();
    std::ofstream t(text_);
    for (int i = 0; i < 60; ++i) t << "The patient was admitted with fever, cough and pain. ";
    fifo_ = (dir_ / "fifo").string();
    ASSERT_EQ(mkfifo(fifo_.c_str(), 0600), 0);
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }
  static fs::path dir_;
  static std::string text_, fifo_;
};
fs::path CliLimits::dir_;
std::string CliLimits::text_, CliLimits::fifo_;

// A usage error: exit 2, the option named, and no model loaded (no "backend:" line).
void expect_usage_error(const std::string& args, const std::string& option) {
  const Output o = run_cli(args, 60);
  EXPECT_EQ(o.rc, 2) << args << "\n" << o.err;
  EXPECT_NE(o.err.find(option), std::string::npos) << args << "\n" << o.err;
  EXPECT_EQ(o.err.find("backend:"), std::string::npos) << args << "\n" << o.err;
}

// The commands that run a model, each with the arguments it needs besides the model.
std::vector<std::string> model_commands(const std::string& text) {
  return {"run -p hi", "chat", "bench --no-membw", "perplexity -f " + text, "wdmoe-sim -f " + text};
}

TEST_F(CliLimits, EveryModelCommandRejectsAbsurdThreadCounts) {
  for (const std::string& cmd : model_commands(text_)) {
    for (const char* t : {"100000", "-1"}) {
      expect_usage_error(cmd + " -m " + kModel + " -t " + t + " < /dev/null", "--threads");
    }
  }
  expect_usage_error("make-model --threads 100000 -o " + (dir_ / "x.gguf").string(), "--threads");
}

TEST_F(CliLimits, SamplerExpertAndLengthOptionsAreRangeChecked) {
  for (const std::string cmd : {"run -p hi", "chat"}) {
    const std::string base = cmd + " -m " + kModel + " < /dev/null ";
    expect_usage_error(base + "--temp nan", "--temp");
    expect_usage_error(base + "--temp inf", "--temp");
    expect_usage_error(base + "--temp -1", "--temp");
    expect_usage_error(base + "--top-p 7", "--top-p");
    expect_usage_error(base + "--top-p nan", "--top-p");
    expect_usage_error(base + "--min-p nan", "--min-p");
    expect_usage_error(base + "--top-k -5", "--top-k");
    expect_usage_error(base + "--repeat-penalty 0", "--repeat-penalty");
    expect_usage_error(base + "--repeat-last-n -1", "--repeat-last-n");
    expect_usage_error(base + "-n -1", "--max-tokens");
  }
  for (const std::string& cmd : model_commands(text_)) {
    expect_usage_error(cmd + " -m " + kModel + " --experts-per-token -5 < /dev/null",
                       "--experts-per-token");
  }
  expect_usage_error("bench -m " + kModel + " -n -1", "--decode-tokens");
  expect_usage_error("perplexity -m " + kModel + " -f " + text_ + " -n -1", "--max-tokens");
  expect_usage_error("wdmoe-sim -m " + kModel + " -f " + text_ + " -n -1", "--max-tokens");
  expect_usage_error("wdmoe-sim -m " + kModel + " -f " + text_ + " --theta 0,nan", "--theta");
}

TEST_F(CliLimits, DevicesAndFifosAreRefusedAtOnce) {
  for (const std::string& path : {std::string("/dev/zero"), fifo_}) {
    expect_usage_error("perplexity -m " + kModel + " -f " + path, "--file");
    expect_usage_error("wdmoe-sim -m " + kModel + " -f " + path, "--file");
    expect_usage_error("wdmoe-sim -m " + kModel + " -f " + text_ + " --scenario " + path,
                       "--scenario");
    expect_usage_error("run -m " + path + " -p hi", "--model");
    // tokenize reports unreadable files from its reading code (exit 1), as before.
    const Output tok = run_cli("tokenize -m " + kModel + " -f " + path, 60);
    EXPECT_EQ(tok.rc, 1) << tok.err;
    EXPECT_NE(tok.err.find(path + ": is a "), std::string::npos) << tok.err;
    EXPECT_NE(tok.err.find("not a regular file"), std::string::npos) << tok.err;
  }
  const Output in = run_cli("tokenize -m " + kModel + " --stdin < /dev/zero", 60);
  EXPECT_EQ(in.rc, 1) << in.err;
  EXPECT_NE(in.err.find("standard input: more than 64.0 MiB"), std::string::npos) << in.err;
}

TEST_F(CliLimits, OversizedInputsAreRefusedWithTheirSizes) {
  const std::string big = (dir_ / "big.txt").string();
  std::ofstream(big).put('x');
  fs::resize_file(big, uint64_t{65} << 20);  // sparse: nothing is written
  const Output ppl = run_cli("perplexity -m " + kModel + " -f " + big + " -t 2", 60);
  EXPECT_EQ(ppl.rc, 1);
  EXPECT_NE(ppl.err.find(big + ": the text file is 65.0 MiB; the limit is 64.0 MiB (-n N "),
            std::string::npos)
      << ppl.err;
  const std::string scenario = (dir_ / "scenario.json").string();
  std::ofstream(scenario).put('{');
  fs::resize_file(scenario, uint64_t{3} << 20);
  const Output sim =
      run_cli("wdmoe-sim -m " + kModel + " -f " + text_ + " --scenario " + scenario, 60);
  EXPECT_EQ(sim.rc, 1);
  EXPECT_NE(sim.err.find(scenario + ": the scenario file is 3.0 MiB; the limit is 1.0 MiB"),
            std::string::npos)
      << sim.err;
  const Output tok = run_cli("tokenize -m " + kModel + " -f " + big, 60);
  EXPECT_EQ(tok.rc, 1);
  EXPECT_NE(tok.err.find("the text file is 65.0 MiB; the limit is 64.0 MiB"), std::string::npos)
      << tok.err;
}

struct Measured {
  int rc = -1;
  long peak_rss_kib = 0;
  std::string out;
};

// Runs moe-cli with `args` (no shell), stdout to a file; the child's own peak RSS from wait4.
Measured run_measured(const std::vector<std::string>& args, const fs::path& out_file) {
  std::vector<std::string> all{MOE_CLI};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    const int fd = open(out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd, STDOUT_FILENO);
    alarm(120);  // SIGALRM survives exec: a hang ends the child
    execv(MOE_CLI, argv.data());
    _exit(127);
  }
  Measured m;
  int status = 0;
  rusage ru{};
  if (pid < 0 || wait4(pid, &status, 0, &ru) != pid) return m;
  m.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  m.peak_rss_kib = ru.ru_maxrss;
  std::ifstream in(out_file);
  m.out.assign(std::istreambuf_iterator<char>(in), {});
  return m;
}

// The 20 MB text with -n 10 used to be tokenized whole: 892 MB peak RSS and 11 s on the golden
// model (tiny: 8 MB RSS with a small text). Now only the first few KiB are read and encoded;
// holding the whole file alone would take 20 MB.
TEST_F(CliLimits, ATokenLimitReadsOnlyTheStartOfAHugeText) {
  const std::string big = (dir_ / "big20.txt").string();
  {
    std::ofstream t(big);
    const std::string line = "The patient was admitted with fever, cough and chest pain.\n";
    for (size_t n = 0; n < (size_t{20} << 20); n += line.size()) t << line;
  }
  const Measured ppl = run_measured(
      {"perplexity", "-m", kModel, "-f", big, "-n", "10", "-w", "8", "-t", "2", "--json"},
      dir_ / "ppl.json");
  ASSERT_EQ(ppl.rc, 0) << ppl.out;
  const auto j = nlohmann::json::parse(ppl.out);
  EXPECT_EQ(j["tokens"], 10);
  EXPECT_LT(ppl.peak_rss_kib, 20 * 1024) << "KiB";
  const Measured sim = run_measured(
      {"wdmoe-sim", "-m", kModel, "-f", big, "-n", "16", "--theta", "0", "-t", "2", "--json"},
      dir_ / "sim.json");
  ASSERT_EQ(sim.rc, 0) << sim.out;
  EXPECT_EQ(nlohmann::json::parse(sim.out)["tokens"], 16);
  EXPECT_LT(sim.peak_rss_kib, 20 * 1024) << "KiB";
}

// NaN weights: perplexity exits 1 with the reason instead of printing `nan`; run stops the
// answer instead of printing "####".
TEST_F(CliLimits, NonFiniteModelsFailWithAClearError) {
  const std::string nan_model = moe::test::write_golden_variant(
      "cli_nan_output_row.gguf", [](const std::string& n, std::vector<float>& v) {
        if (n == "output.weight") {
          for (size_t i = 64 * 17; i < 64 * 18; ++i) v[i] = std::nanf("");
        }
      });
  const Output chunks = run_cli("perplexity -m " + nan_model + " -f " + text_ + " -c 64 -t 2", 120);
  EXPECT_EQ(chunks.rc, 1) << chunks.out;
  EXPECT_NE(chunks.err.find("error: the model produced non-finite values at token 33 of the text"),
            std::string::npos)
      << chunks.err;
  EXPECT_EQ(chunks.out.find("Final estimate"), std::string::npos) << chunks.out;
  const Output windows =
      run_cli("perplexity -m " + nan_model + " -f " + text_ + " -w 32 -t 2 --json", 120);
  EXPECT_EQ(windows.rc, 1);
  EXPECT_NE(windows.err.find("non-finite values at token 1 of the text"), std::string::npos)
      << windows.err;
  const Output sim = run_cli("wdmoe-sim -m " + nan_model + " -f " + text_ + " -n 32 -t 2", 120);
  EXPECT_EQ(sim.rc, 1);
  EXPECT_NE(sim.err.find("non-finite values"), std::string::npos) << sim.err;
  const Output run = run_cli("run -m " + nan_model + " -p hi -n 4 --greedy -t 2", 120);
  EXPECT_EQ(run.rc, 1);
  EXPECT_NE(run.err.find("the model produced non-finite values at token 1 of the answer"),
            std::string::npos)
      << run.err;
}

}  // namespace
