// AtomicFile: a write lands whole under the target name or not at all, and nothing planted in
// the directory (a file or symlink at a temporary name, a symlink at the target) can redirect
// it to another file.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "core/util/atomic_file.h"

namespace moe {
namespace {

namespace fs = std::filesystem;

class AtomicFileTest : public ::testing::Test {
 protected:
  // One directory per test: ctest runs the tests of this file as parallel processes.
  fs::path dir_ = fs::path(MOE_BINARY_DIR) /
                  ("atomic_file_test_" +
                   std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
  void SetUp() override {
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  static std::string read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  static void put(const fs::path& p, const std::string& s) { std::ofstream(p) << s; }
  static std::span<const uint8_t> bytes(const std::string& s) {
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
  }
  int n_entries() const {
    int n = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir_)) ++n;
    return n;
  }
};

TEST_F(AtomicFileTest, CommitReplacesTheTargetWhole) {
  const fs::path target = dir_ / "out.bin";
  put(target, "old");
  auto f = AtomicFile::create(target.string());
  ASSERT_TRUE(f.ok()) << f.message();
  EXPECT_EQ(fs::path(f->temp_path()).parent_path(), dir_);  // same directory: rename is atomic
  ASSERT_TRUE(f->write(bytes("new ")).ok());
  EXPECT_EQ(read(target), "old");  // nothing visible before commit
  ASSERT_TRUE(f->write(bytes("content")).ok());
  ASSERT_TRUE(f->commit().ok());
  EXPECT_EQ(read(target), "new content");
  EXPECT_EQ(n_entries(), 1);  // no temporary file left
  struct stat st {};
  ASSERT_EQ(::stat(target.c_str(), &st), 0);
  const mode_t mask = ::umask(0);
  ::umask(mask);
  EXPECT_EQ(st.st_mode & 0777, 0666 & ~mask);  // ordinary permissions, not mkstemp's 0600
}

TEST_F(AtomicFileTest, WithoutCommitNothingChangesAndTheTemporaryGoes) {
  const fs::path target = dir_ / "out.bin";
  put(target, "old");
  {
    auto f = AtomicFile::create(target.string());
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE(f->write(bytes("partial")).ok());
    EXPECT_TRUE(fs::exists(f->temp_path()));
  }
  EXPECT_EQ(read(target), "old");
  EXPECT_EQ(n_entries(), 1);
}

TEST_F(AtomicFileTest, TemporaryNamesAreUnpredictable) {
  const fs::path target = dir_ / "out.bin";
  auto a = AtomicFile::create(target.string());
  auto b = AtomicFile::create(target.string());
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->temp_path(), b->temp_path());
  EXPECT_EQ(a->temp_path().rfind(target.string() + ".tmp.", 0), 0u);
  EXPECT_EQ(a->temp_path().size(), target.string().size() + 5 + 16);  // 64 random bits in hex
}

TEST_F(AtomicFileTest, ExclusiveCreateNeverFollowsOrReusesAName) {
  const fs::path victim = dir_ / "victim.txt";
  put(victim, "precious");
  const fs::path link = dir_ / "planted";
  fs::create_symlink(victim, link);
  auto through_link = AtomicFile::create_exclusive(link.string());
  EXPECT_FALSE(through_link.ok());
  EXPECT_NE(through_link.message().find("planted"), std::string::npos);
  const fs::path dangling = dir_ / "dangling";
  fs::create_symlink(dir_ / "would_be_created", dangling);
  EXPECT_FALSE(AtomicFile::create_exclusive(dangling.string()).ok());
  EXPECT_FALSE(fs::exists(dir_ / "would_be_created"));
  EXPECT_FALSE(AtomicFile::create_exclusive(victim.string()).ok());
  EXPECT_EQ(read(victim), "precious");
}

TEST_F(AtomicFileTest, ASymlinkAtTheTargetIsReplacedNotFollowed) {
  const fs::path victim = dir_ / "victim.txt";
  put(victim, "precious");
  const fs::path target = dir_ / "out.bin";
  fs::create_symlink(victim, target);
  auto f = AtomicFile::create(target.string());
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE(f->write(bytes("mine")).ok());
  ASSERT_TRUE(f->commit().ok());
  EXPECT_FALSE(fs::is_symlink(target));
  EXPECT_EQ(read(target), "mine");
  EXPECT_EQ(read(victim), "precious");
}

TEST_F(AtomicFileTest, ErrorsNameTheFile) {
  auto f = AtomicFile::create((dir_ / "no_such_dir" / "out.bin").string());
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.message().find("no_such_dir/out.bin"), std::string::npos) << f.message();
}

}  // namespace
}  // namespace moe
