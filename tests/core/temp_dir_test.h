#pragma once
// Test fixture base: a fresh folder per test process under the system temp dir (removed at the
// end) and an alarm() so that a call that used to block fails the test instead of stalling it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace moe::test {

class TempDirTest : public ::testing::Test {
 protected:
  TempDirTest(std::string prefix, unsigned alarm_s) : prefix_(std::move(prefix)), alarm_s_(alarm_s) {}
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / (prefix_ + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
    alarm(alarm_s_);  // nothing here may block
  }
  void TearDown() override {
    alarm(0);
    std::filesystem::remove_all(dir_);
  }
  /// Writes `bytes` to `name` in the folder; returns its path.
  std::string write(const std::string& name, const std::string& bytes) {
    const std::string p = (dir_ / name).string();
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  }
  std::filesystem::path dir_;

 private:
  std::string prefix_;
  unsigned alarm_s_;
};

}  // namespace moe::test
