// Input files a person names are read only if they are regular files, within a size limit:
// /dev/zero used to be read until memory ran out and a FIFO blocked the open forever. Every
// test that could block runs under alarm(): a hang kills the test binary instead of the ctest
// run waiting for its timeout.
#include "core/util/regular_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "tests/core/temp_dir_test.h"

namespace moe {
namespace {

namespace fs = std::filesystem;

class RegularFileTest : public test::TempDirTest {
 protected:
  RegularFileTest() : TempDirTest("moe_regular_file_", 20) {}
};

TEST_F(RegularFileTest, ReadsARegularFileWhole) {
  const std::string p = write("a.txt", "hello\nworld");
  auto t = read_regular_file(p, 1024, "text file");
  ASSERT_TRUE(t.ok()) << t.message();
  EXPECT_EQ(*t, "hello\nworld");
  auto f = RegularFile::open(p, "text file");
  ASSERT_TRUE(f.ok()) << f.message();
  EXPECT_EQ(f->size(), 11u);
  EXPECT_EQ(*f->read(6, 100), "world");  // fewer bytes at the end
  EXPECT_EQ(*f->read(0, 5), "hello");
  EXPECT_EQ(*f->read(11, 5), "");
}

TEST_F(RegularFileTest, DevicesFifosAndDirectoriesAreRefusedAtOnce) {
  const std::string fifo = (dir_ / "fifo").string();
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  const struct {
    std::string path, kind;
  } cases[] = {{"/dev/zero", "a character device"},
               {"/dev/null", "a character device"},
               {fifo, "a FIFO (named pipe)"},
               {dir_.string(), "a directory"}};
  for (const auto& c : cases) {
    auto t = read_regular_file(c.path, 1 << 20, "text file");
    ASSERT_FALSE(t.ok()) << c.path;
    EXPECT_EQ(t.message(), c.path + ": is " + c.kind + ", not a regular file; give a text file");
  }
  auto missing = read_regular_file((dir_ / "none.txt").string(), 10, "scenario file");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.message().find("none.txt: cannot open scenario file: No such file"),
            std::string::npos)
      << missing.message();
}

TEST_F(RegularFileTest, AFileOverTheLimitIsRefusedWithBothSizes) {
  const std::string p = write("big.json", std::string(3 << 20, 'x'));
  auto t = read_regular_file(p, 1 << 20, "scenario file");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.message(), p + ": the scenario file is 3.0 MiB; the limit is 1.0 MiB");
  auto at_limit = read_regular_file(write("edge.txt", std::string(1000, 'y')), 1000, "text file");
  ASSERT_TRUE(at_limit.ok()) << at_limit.message();
  EXPECT_EQ(at_limit->size(), 1000u);
}

TEST(FormatBytes, UnitsAndOneDecimal) {
  EXPECT_EQ(format_bytes(512), "512 bytes");
  EXPECT_EQ(format_bytes(1536), "1.5 KiB");
  EXPECT_EQ(format_bytes(uint64_t{64} << 20), "64.0 MiB");
  EXPECT_EQ(format_bytes(uint64_t{3} << 30), "3.0 GiB");
}

// Standard input may be a pipe (that is its point), but it is read only up to the limit.
TEST(ReadStdinCapped, StopsAtTheLimit) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const int saved = dup(STDIN_FILENO);
  ASSERT_EQ(write(fds[1], "0123456789", 10), 10);
  close(fds[1]);
  dup2(fds[0], STDIN_FILENO);
  close(fds[0]);
  auto over = read_stdin_capped(4);
  dup2(saved, STDIN_FILENO);
  close(saved);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.message(), "standard input: more than 4 bytes; the limit is 4 bytes");
}

}  // namespace
}  // namespace moe
