// Hostile and malformed files: each must be rejected with a message naming the file and the
// problem, and nothing may read out of bounds (the sanitizer replay in tests/gguf_fuzz covers
// the random cases; these pin down each check).
#include <gtest/gtest.h>

#include "core/gguf/gguf_file.h"
#include "core/gguf/gguf_writer.h"
#include "tests/core/gguf/raw_gguf.h"

namespace moe {
namespace {

using test::RawGguf;

// Expects rejection with a message that names the file and contains `needle`.
void expect_rejected(const std::vector<uint8_t>& bytes, const std::string& needle) {
  auto f = GgufFile::parse(bytes, "bad.gguf");
  ASSERT_FALSE(f.ok()) << "accepted a file that should fail with: " << needle;
  EXPECT_EQ(f.message().rfind("bad.gguf: ", 0), 0u) << f.message();
  EXPECT_NE(f.message().find(needle), std::string::npos) << f.message();
}

// A valid file: one u32 KV and one F32 tensor of 4 elements.
RawGguf valid_file() {
  RawGguf r;
  r.header(1, 1).kv_u32("k", 1).tensor("t", {4}, 0, 0).pad_to(32).zeros(16);
  return r;
}

TEST(GgufValidation, ValidBaselineLoads) {
  auto r = valid_file();
  auto f = GgufFile::parse(r.b, "good.gguf");
  ASSERT_TRUE(f.ok()) << f.message();
  EXPECT_EQ((*f)->tensors()[0].n_bytes, 16u);
}

TEST(GgufValidation, MagicAndVersion) {
  auto r = valid_file();
  r.b[0] = 'X';
  expect_rejected(r.b, "bad magic");
  expect_rejected({'G', 'G'}, "not a GGUF file");
  RawGguf v1;
  v1.u32(0x46554747).u32(1).u32(0).u32(0);
  expect_rejected(v1.b, "version 1 is not supported");
  RawGguf v4;
  v4.header(0, 0, 4);
  expect_rejected(v4.b, "unsupported GGUF version 4");
  RawGguf be;
  be.header(0, 0, 0x03000000);
  expect_rejected(be.b, "big-endian");
  RawGguf v2;
  v2.header(0, 0, 2);
  auto f = GgufFile::parse(v2.b, "v2.gguf");
  ASSERT_TRUE(f.ok()) << f.message();
  EXPECT_EQ((*f)->version(), 2u);
}

TEST(GgufValidation, EveryTruncationIsRejected) {
  const auto full = valid_file().b;
  for (size_t n = 0; n < full.size(); ++n) {
    std::vector<uint8_t> cut(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
    auto f = GgufFile::parse(cut, "cut.gguf");
    ASSERT_FALSE(f.ok()) << "prefix of " << n << " bytes accepted";
    EXPECT_EQ(f.message().rfind("cut.gguf: ", 0), 0u) << f.message();
  }
}

TEST(GgufValidation, AbsurdLengthsAndCounts) {
  RawGguf s;
  s.header(0, 1).u64(1ull << 62).zeros(16);  // key length far past the end
  expect_rejected(s.b, "bytes remain");
  RawGguf v;
  v.header(0, 1).str("k").u32(8).u64(~0ull);  // string value length
  expect_rejected(v.b, "bytes remain");
  RawGguf a;
  a.header(0, 1).str("k").u32(9).u32(0).u64(1ull << 40);  // u8 array count
  expect_rejected(a.b, "claims 1099511627776 u8 elements");
  RawGguf sa;
  sa.header(0, 1).str("k").u32(9).u32(8).u64(4).str("a");  // 4 strings, 1 present
  expect_rejected(sa.b, "claims 4 string elements");
  RawGguf nk;
  nk.header(0, 1ull << 60);
  expect_rejected(nk.b, "metadata count");
  RawGguf nt;
  nt.header(~0ull, 0);
  expect_rejected(nt.b, "tensor count");
  RawGguf deep;
  deep.header(0, 1).str("k").u32(9);
  for (int i = 0; i < 20; ++i) deep.u32(9).u64(1);
  deep.zeros(64);
  expect_rejected(deep.b, "nests deeper");
}

TEST(GgufValidation, BadValueTypes) {
  RawGguf t;
  t.header(0, 1).str("k").u32(13).u32(0);
  expect_rejected(t.b, "unknown value type 13");
  RawGguf at;
  at.header(0, 1).str("k").u32(9).u32(77).u64(0);
  expect_rejected(at.b, "unknown element type 77");
  RawGguf b;
  b.header(0, 1).str("k").u32(7).put<uint8_t>(2);
  expect_rejected(b.b, "must be 0 or 1");
  RawGguf dup;
  dup.header(0, 2).kv_u32("k", 1).kv_u32("k", 2);
  expect_rejected(dup.b, "duplicate metadata key 'k'");
  RawGguf ek;
  ek.header(0, 1).kv_u32("", 1);
  expect_rejected(ek.b, "invalid length 0");
}

TEST(GgufValidation, Alignment) {
  for (uint32_t bad : {0u, 3u, 48u}) {
    RawGguf r;
    r.header(0, 1).kv_u32("general.alignment", bad);
    expect_rejected(r.b, "not a power of two");
  }
  RawGguf s;
  s.header(0, 1).str("general.alignment").u32(8).str("x");
  expect_rejected(s.b, "general.alignment' has type string");
  RawGguf ok;
  ok.header(1, 1).kv_u32("general.alignment", 8).tensor("t", {2}, 0, 0).pad_to(8).zeros(8);
  auto f = GgufFile::parse(ok.b, "a8.gguf");
  ASSERT_TRUE(f.ok()) << f.message();
  EXPECT_EQ((*f)->alignment(), 8u);
  EXPECT_EQ((*f)->data_offset() % 8, 0u);
}

// A file with one tensor info; data section of `data_bytes` zero bytes.
std::vector<uint8_t> one_tensor(std::vector<uint64_t> dims, uint32_t type, uint64_t offset,
                                size_t data_bytes = 64) {
  RawGguf r;
  r.header(1, 0).tensor("w", std::move(dims), type, offset).pad_to(32).zeros(data_bytes);
  return r.b;
}

TEST(GgufValidation, TensorInfos) {
  expect_rejected(one_tensor({}, 0, 0), "0 dimensions");
  expect_rejected(one_tensor({1, 1, 1, 1, 1}, 0, 0), "5 dimensions");
  expect_rejected(one_tensor({4, 0}, 0, 0), "invalid size 0 in dimension 1");
  expect_rejected(one_tensor({~0ull}, 0, 0), "invalid size -1");
  expect_rejected(one_tensor({1ull << 32, 1ull << 32}, 0, 0), "overflows 64 bits");
  expect_rejected(one_tensor({1ull << 40, 1ull << 20}, 0, 0), "lies outside the file");
  expect_rejected(one_tensor({4}, 5, 0), "unknown ggml type id 5");
  expect_rejected(one_tensor({4}, 1000, 0), "unknown ggml type id 1000");
  expect_rejected(one_tensor({48, 2}, 2, 0), "not a multiple of the block size 32");
  expect_rejected(one_tensor({4}, 0, 64), "lies outside the file");      // 64 + 16 > 64
  EXPECT_TRUE(GgufFile::parse(one_tensor({4}, 0, 32), "ok.gguf").ok());  // 32 + 16 <= 64
  expect_rejected(one_tensor({4}, 0, 8), "not a multiple of the alignment 32");
  expect_rejected(one_tensor({4}, 0, ~0ull - 31), "lies outside the file");
  expect_rejected(one_tensor({17}, 0, 0), "lies outside the file");  // 68 > 64 bytes
  RawGguf nm;
  nm.header(1, 0).tensor("", {4}, 0, 0).pad_to(32).zeros(16);
  expect_rejected(nm.b, "invalid name length 0");
}

TEST(GgufValidation, DuplicateAndOverlappingTensors) {
  RawGguf dup;
  dup.header(2, 0).tensor("w", {4}, 0, 0).tensor("w", {4}, 0, 32).pad_to(32).zeros(64);
  expect_rejected(dup.b, "duplicate tensor name 'w'");
  RawGguf ov;
  ov.header(2, 0).tensor("a", {16}, 0, 0).tensor("b", {4}, 0, 32).pad_to(32).zeros(96);
  expect_rejected(ov.b, "'a' and 'b' overlap");
  RawGguf same;
  same.header(2, 0).tensor("a", {4}, 0, 0).tensor("b", {4}, 0, 0).pad_to(32).zeros(32);
  expect_rejected(same.b, "overlap");
  RawGguf ok;
  ok.header(2, 0).tensor("a", {8}, 0, 32).tensor("b", {8}, 0, 0).pad_to(32).zeros(64);
  auto f = GgufFile::parse(ok.b, "ok.gguf");
  ASSERT_TRUE(f.ok()) << f.message();
  EXPECT_EQ((*f)->find_tensor("a")->offset, (*f)->data_offset() + 32);
}

}  // namespace
}  // namespace moe
