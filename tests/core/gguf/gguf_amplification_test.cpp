// Small or cheap inputs must not cost large memory or time (issue 12, item 2): each file is
// parsed in a child process whose peak RSS and CPU time are measured. Before the compact
// arrays a 64 MiB u8 array took 3.1 GB (48 bytes per element) and a 65535-byte key with a
// 4 MiB array 51 s (a context string holding the key was built per element).
#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "core/gguf/gguf_file.h"
#include "tests/core/gguf/raw_gguf.h"
#include "tests/support/child_usage.h"

namespace moe {
namespace {

using test::RawGguf;

constexpr double kMaxRssMb = 64;
constexpr double kMaxCpuS = 1;  // the fixed parser needs milliseconds: a complexity bound

// Writes `head` followed by `tail_zeros` zero bytes (a hole: nothing is held in memory here,
// so the child's measured RSS is its own).
std::string write_file(const std::string& name, const std::vector<uint8_t>& head,
                       uint64_t tail_zeros) {
  const std::string path = std::string(MOE_BINARY_DIR) + "/" + name;
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  EXPECT_GE(fd, 0);
  EXPECT_EQ(::write(fd, head.data(), head.size()), static_cast<ssize_t>(head.size()));
  EXPECT_EQ(::ftruncate(fd, static_cast<off_t>(head.size() + tail_zeros)), 0);
  ::close(fd);
  return path;
}

// Header of a file holding one array KV whose `count` elements of `elem` (u8 = 0,
// string = 8) follow as zeros.
std::vector<uint8_t> array_head(const std::string& key, uint32_t elem, uint64_t count) {
  RawGguf r;
  r.header(0, 1).str(key).u32(9).u32(elem).u64(count);
  return r.b;
}

// Opens the file and renders every value (what `moe-cli inspect` does with the metadata) in a
// child; exit 0 when parsing gave the expected outcome.
test::ChildUsage open_in_child(const std::string& path, bool expect_ok, std::string needle = {}) {
  return test::run_in_child([&] {
    auto f = GgufFile::open(path);
    if (f.ok() != expect_ok) {
      std::fprintf(stderr, "unexpected outcome: %s\n", f.ok() ? "loaded" : f.message().c_str());
      return 1;
    }
    if (!f.ok()) {
      const bool named = f.message().find(path) != std::string::npos;
      const bool has = f.message().find(needle) != std::string::npos;
      if (!named || !has) std::fprintf(stderr, "message: %s\n", f.message().c_str());
      return named && has ? 0 : 2;
    }
    for (const auto& kv : (*f)->metadata()) (void)gguf_value_to_string(kv.value);
    return 0;
  });
}

TEST(GgufAmplification, HugeU8ArrayIsAViewIntoTheFile) {
  constexpr uint64_t kCount = uint64_t{64} << 20;  // 64 MiB of u8
  const std::string path =
      write_file("amplify_u8_64mib.gguf", array_head("big.u8", 0, kCount), kCount);
  const auto u = open_in_child(path, true);
  std::remove(path.c_str());
  EXPECT_TRUE(u.exited && u.exit_code == 0) << "exit " << u.exit_code;
  EXPECT_LT(u.max_rss_mb, kMaxRssMb);
  EXPECT_LT(u.cpu_s, kMaxCpuS);
  std::printf("64 MiB u8 array: peak RSS %.1f MiB, CPU %.3f s\n", u.max_rss_mb, u.cpu_s);
}

TEST(GgufAmplification, LongKeyWithLargeArrayIsLinear) {
  const std::string key(65535, 'k');
  for (uint32_t elem : {0u, 8u}) {
    // 4 Mi u8 (the reported file); 1 Mi empty strings (8 MiB: strings keep one 8-byte offset
    // each, so their cost is bounded by the file's size rather than constant).
    const uint64_t kCount = elem == 8 ? uint64_t{1} << 20 : uint64_t{4} << 20;
    const uint64_t bytes = kCount * (elem == 8 ? 8 : 1);
    const std::string path =
        write_file("amplify_long_key.gguf", array_head(key, elem, kCount), bytes);
    const auto u = open_in_child(path, true);
    std::remove(path.c_str());
    EXPECT_TRUE(u.exited && u.exit_code == 0) << "elem " << elem << " exit " << u.exit_code;
    EXPECT_LT(u.max_rss_mb, kMaxRssMb) << "elem " << elem;
    EXPECT_LT(u.cpu_s, kMaxCpuS) << "elem " << elem;
    std::printf("elem type %u: peak RSS %.1f MiB, CPU %.3f s\n", elem, u.max_rss_mb, u.cpu_s);
  }
}

TEST(GgufAmplification, ErrorInsideAHugeArrayStillNamesTheKey) {
  // The context strings are built only on error: the message still names key and file.
  RawGguf r;
  r.header(0, 1).str("tok.list").u32(9).u32(8).u64(3).str("a").str("b").u64(1000);
  auto f = GgufFile::parse(r.b, "lazy.gguf");
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.message().find("lazy.gguf: "), std::string::npos) << f.message();
  EXPECT_NE(f.message().find("'tok.list'"), std::string::npos) << f.message();
}

TEST(GgufAmplification, NestedArraysAreCappedByTheHeaderBudget) {
  // 2 Mi empty nested arrays: 24 MiB on disk, but each element is a value in memory. The
  // parser refuses before the header's memory passes its cap.
  constexpr uint64_t kCount = uint64_t{2} << 20;
  RawGguf head;
  head.header(0, 1).str("nested").u32(9).u32(9).u64(kCount);
  const std::string path = write_file("amplify_nested.gguf", head.b, 0);
  RawGguf chunk;  // 64 Ki elements, each a u8 array of 0 elements
  for (int i = 0; i < 65536; ++i) chunk.u32(0).u64(0);
  if (std::FILE* out = std::fopen(path.c_str(), "ab")) {
    for (uint64_t i = 0; i < kCount / 65536; ++i)
      std::fwrite(chunk.b.data(), 1, chunk.b.size(), out);
    std::fclose(out);
  }
  const auto u = open_in_child(path, false, "MiB of memory");
  std::remove(path.c_str());
  EXPECT_TRUE(u.exited && u.exit_code == 0) << "exit " << u.exit_code;
  EXPECT_LT(u.max_rss_mb, 2 * kMaxRssMb + 30);  // the file's own 24 MiB of pages + the cap
  EXPECT_LT(u.cpu_s, kMaxCpuS);
}

TEST(GgufAmplification, CopiedArraysOwnTheirBytes) {
  // A value copied out of a file must stay valid after the file is gone.
  RawGguf r;
  r.header(0, 2).str("a").u32(9).u32(4).u64(3).u32(7).u32(8).u32(9);
  r.str("s").u32(9).u32(8).u64(2).str("xy").str("");
  GgufValue a_copy, s_copy;
  {
    std::vector<uint8_t> bytes = r.b;
    auto f = GgufFile::parse(bytes, "copy.gguf");
    ASSERT_TRUE(f.ok()) << f.message();
    a_copy = *(*f)->find("a");
    s_copy = *(*f)->find("s");
    std::fill(bytes.begin(), bytes.end(), 0xEE);  // the view's bytes are gone
  }
  const auto& a = std::get<GgufArray>(a_copy.v);
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(std::get<uint64_t>(a.at(2).v), 9u);
  const auto& s = std::get<GgufArray>(s_copy.v);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s.string_at(0), "xy");
  EXPECT_EQ(s.string_at(1), "");
}

}  // namespace
}  // namespace moe
