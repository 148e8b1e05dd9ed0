// Writer -> reader round trips: every metadata value type, arrays (strings, numbers, nested),
// tensors from buffers and from streaming producers, alignment, atomic file writes.
#include <gtest/gtest.h>
#include <unistd.h>

#include <thread>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <numeric>

#include "core/gguf/gguf_file.h"
#include "core/gguf/gguf_writer.h"

namespace moe {
namespace {

GgufValue int_value(int64_t x) {
  GgufValue v;
  v.type = GgufType::kInt32;
  v.v = x;
  return v;
}

GgufValue array_value(GgufArray a) {
  GgufValue v;
  v.type = GgufType::kArray;
  v.v = std::move(a);
  return v;
}

GgufValue nested_value() {
  GgufArray outer(GgufType::kArray);
  GgufArray r0(GgufType::kInt32);
  r0.push_back(int_value(1));
  r0.push_back(int_value(2));
  GgufArray r1(GgufType::kInt32);
  r1.push_back(int_value(3));
  outer.push_back(array_value(std::move(r0)));
  outer.push_back(array_value(std::move(r1)));
  return array_value(std::move(outer));
}

GgufValue bool_array() {
  GgufArray a(GgufType::kBool);
  for (bool b : {true, false}) {
    GgufValue v;
    v.type = GgufType::kBool;
    v.v = b;
    a.push_back(std::move(v));
  }
  return array_value(std::move(a));
}

std::unique_ptr<GgufFile> reparse(const GgufWriter& w, std::vector<uint8_t>& storage) {
  auto bytes = w.to_bytes();
  EXPECT_TRUE(bytes.ok()) << bytes.message();
  storage = std::move(*bytes);
  auto f = GgufFile::parse(storage, "roundtrip.gguf");
  EXPECT_TRUE(f.ok()) << f.message();
  return f.ok() ? std::move(*f) : nullptr;
}

TEST(GgufRoundTrip, EveryScalarType) {
  GgufWriter w;
  w.set_u8("t.u8", 255);
  w.set_i8("t.i8", -128);
  w.set_u16("t.u16", 65535);
  w.set_i16("t.i16", -32768);
  w.set_u32("t.u32", 4000000000u);
  w.set_i32("t.i32", std::numeric_limits<int32_t>::min());
  w.set_u64("t.u64", std::numeric_limits<uint64_t>::max());
  w.set_i64("t.i64", std::numeric_limits<int64_t>::min());
  w.set_f32("t.f32", 1.5e-5f);
  w.set_f64("t.f64", 3.141592653589793);
  w.set_bool("t.true", true);
  w.set_bool("t.false", false);
  w.set_string("t.str", "h\xc3\xa9llo\n[INST]");
  w.set_string("t.empty", "");
  w.set_string("t.nul", std::string_view("a\0b", 3));
  std::vector<uint8_t> buf;
  auto f = reparse(w, buf);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->version(), 3u);
  ASSERT_EQ(f->metadata().size(), 15u);
  EXPECT_EQ(f->metadata()[0].key, "t.u8");  // file order kept
  EXPECT_EQ(f->find("t.u8")->type, GgufType::kUint8);
  EXPECT_EQ(*f->get_uint("t.u8"), 255u);
  EXPECT_EQ(f->find("t.i8")->type, GgufType::kInt8);
  EXPECT_EQ(*f->get_int("t.i8"), -128);
  EXPECT_EQ(*f->get_uint("t.u16"), 65535u);
  EXPECT_EQ(*f->get_int("t.i16"), -32768);
  EXPECT_EQ(*f->get_uint("t.u32"), 4000000000u);
  EXPECT_EQ(*f->get_int("t.i32"), std::numeric_limits<int32_t>::min());
  EXPECT_EQ(*f->get_uint("t.u64"), std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(*f->get_int("t.i64"), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(f->find("t.f32")->type, GgufType::kFloat32);
  EXPECT_EQ(static_cast<float>(*f->get_float("t.f32")), 1.5e-5f);
  EXPECT_EQ(*f->get_float("t.f64"), 3.141592653589793);
  EXPECT_TRUE(*f->get_bool("t.true"));
  EXPECT_FALSE(*f->get_bool("t.false"));
  EXPECT_EQ(*f->get_string("t.str"), "h\xc3\xa9llo\n[INST]");
  EXPECT_EQ(*f->get_string("t.empty"), "");
  EXPECT_EQ(*f->get_string("t.nul"), std::string("a\0b", 3));
}

TEST(GgufRoundTrip, ArraysIncludingNested) {
  GgufWriter w;
  w.set_string_array("a.str", {"<unk>", "<s>", "", "\xe2\x96\x81the"});
  const std::vector<float> fl{0.f, -1.25f, 3e10f};
  w.set_f32_array("a.f32", fl);
  const std::vector<int32_t> in{-7, 0, 2147483647};
  w.set_i32_array("a.i32", in);
  const std::vector<uint32_t> un{1, 4294967295u};
  w.set_u32_array("a.u32", un);
  const std::vector<int64_t> i64{-1, 1ll << 40};
  w.set_i64_array("a.i64", i64);
  w.set_f32_array("a.empty", {});
  // Nested: [[1, 2], [3]] as array of arrays of i32, and an array of bools.
  w.set_value("a.nested", nested_value());
  w.set_value("a.bool", bool_array());

  std::vector<uint8_t> buf;
  auto f = reparse(w, buf);
  ASSERT_TRUE(f);
  EXPECT_EQ(*f->get_string_array("a.str"),
            (std::vector<std::string>{"<unk>", "<s>", "", "\xe2\x96\x81the"}));
  EXPECT_EQ(*f->get_float_array("a.f32"), fl);
  EXPECT_EQ(*f->get_int_array("a.i32"), in);
  EXPECT_EQ(std::get<GgufArray>(f->find("a.u32")->v).at(1).v.index(), 0u);
  EXPECT_EQ(std::get<uint64_t>(std::get<GgufArray>(f->find("a.u32")->v).at(1).v), 4294967295u);
  EXPECT_FALSE(f->get_int_array("a.u32").ok());  // 4294967295 does not fit in int32
  EXPECT_EQ(std::get<int64_t>(std::get<GgufArray>(f->find("a.i64")->v).at(1).v), 1ll << 40);
  EXPECT_TRUE(f->get_float_array("a.empty")->empty());
  const auto& nested = std::get<GgufArray>(f->find("a.nested")->v);
  ASSERT_EQ(nested.elem_type(), GgufType::kArray);
  ASSERT_EQ(nested.size(), 2u);
  const auto& r0 = std::get<GgufArray>(nested.nested()[0].v);
  EXPECT_EQ(r0.elem_type(), GgufType::kInt32);
  EXPECT_EQ(std::get<int64_t>(r0.at(1).v), 2);
  EXPECT_EQ(std::get<GgufArray>(nested.nested()[1].v).size(), 1u);
  const auto& b = std::get<GgufArray>(f->find("a.bool")->v);
  EXPECT_TRUE(std::get<bool>(b.at(0).v));
  EXPECT_FALSE(std::get<bool>(b.at(1).v));
  // Writing the parsed metadata again gives the same bytes (exact type round trip).
  GgufWriter w2;
  for (const auto& kv : f->metadata()) w2.set_value(kv.key, kv.value);
  EXPECT_EQ(*w2.to_bytes(), buf);
}

TEST(GgufRoundTrip, TypedLookupErrorsNameKeyFileAndType) {
  GgufWriter w;
  w.set_i32("neg", -3);
  w.set_u32("n", 7);
  w.set_string("s", "x");
  std::vector<uint8_t> buf;
  auto f = reparse(w, buf);
  ASSERT_TRUE(f);
  EXPECT_EQ(*f->get_int("n"), 7);
  EXPECT_EQ(*f->get_float("n"), 7.0);
  auto neg = f->get_uint("neg");
  ASSERT_FALSE(neg.ok());
  EXPECT_NE(neg.message().find("neg"), std::string::npos);
  auto wrong = f->get_string("n");
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.message().find("roundtrip.gguf"), std::string::npos);
  EXPECT_NE(wrong.message().find("'n'"), std::string::npos);
  EXPECT_NE(wrong.message().find("u32"), std::string::npos);
  auto missing = f->get_uint("nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.message().find("missing"), std::string::npos);
  EXPECT_EQ(*f->get_uint_or("nope", 42), 42u);
  EXPECT_EQ(*f->get_float_or("nope", 0.5), 0.5);
  EXPECT_FALSE(f->get_uint_or("s", 1).ok());  // present but wrong type is still an error
  EXPECT_FALSE(f->get_string_array("s").ok());
}

TEST(GgufRoundTrip, TensorsFromBuffersAndProducers) {
  GgufWriter w;
  w.set_alignment(64);
  std::vector<float> a(3 * 5);
  std::iota(a.begin(), a.end(), 0.f);
  ASSERT_TRUE(w.add_tensor("a", GgmlType::F32, {5, 3},
                           std::span(reinterpret_cast<const uint8_t*>(a.data()), a.size() * 4))
                  .ok());
  // Q8_0: 2 rows of 64 = 4 blocks of 34 bytes, produced in 3 uneven chunks.
  ASSERT_TRUE(w.add_tensor("q", GgmlType::Q8_0, {64, 2}, [](const TensorSink& sink) -> Status {
                 std::vector<uint8_t> bytes(4 * 34);
                 for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = uint8_t(i * 7);
                 MOE_TRY(sink(std::span(bytes).subspan(0, 1)));
                 MOE_TRY(sink(std::span(bytes).subspan(1, 100)));
                 return sink(std::span(bytes).subspan(101));
               }).ok());
  ASSERT_TRUE(
      w.add_tensor("k", GgmlType::Q4_K, {256, 2, 3}, std::vector<uint8_t>(6 * 144, 9)).ok());
  std::vector<uint8_t> buf;
  auto f = reparse(w, buf);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->alignment(), 64u);
  EXPECT_EQ(f->data_offset() % 64, 0u);
  ASSERT_EQ(f->tensors().size(), 3u);
  const TensorInfo* ta = f->find_tensor("a");
  ASSERT_NE(ta, nullptr);
  EXPECT_EQ(ta->shape, (std::vector<int64_t>{5, 3}));
  EXPECT_EQ(ta->n_elements, 15);
  EXPECT_EQ(ta->n_bytes, 60u);
  EXPECT_EQ(ta->offset, f->data_offset());
  EXPECT_EQ(std::memcmp(ta->data, a.data(), 60), 0);
  const TensorInfo* tq = f->find_tensor("q");
  EXPECT_EQ(tq->type, GgmlType::Q8_0);
  EXPECT_EQ(tq->n_bytes, 136u);
  EXPECT_EQ(tq->offset, f->data_offset() + 64);  // 60 bytes padded to 64
  EXPECT_EQ(tq->data[100], uint8_t(700));
  const TensorInfo* tk = f->find_tensor("k");
  EXPECT_EQ(tk->ne(2), 3);
  EXPECT_EQ(tk->ne(3), 1);
  EXPECT_EQ(tk->n_bytes, 864u);
  EXPECT_EQ(tk->offset % 64, 0u);
  EXPECT_EQ(f->find_tensor("zz"), nullptr);
}

TEST(GgufWriter, RejectsBadTensors) {
  GgufWriter w;
  const std::vector<uint8_t> four(4);
  EXPECT_TRUE(w.add_tensor("x", GgmlType::F32, {1}, four).ok());
  EXPECT_FALSE(w.add_tensor("x", GgmlType::F32, {1}, four).ok());  // duplicate
  EXPECT_FALSE(w.add_tensor("y", GgmlType::F32, {}, four).ok());
  EXPECT_FALSE(w.add_tensor("y", GgmlType::F32, {1, 1, 1, 1, 1}, four).ok());
  EXPECT_FALSE(w.add_tensor("y", GgmlType::F32, {0}, four).ok());
  EXPECT_FALSE(w.add_tensor("y", GgmlType::F32, {2}, four).ok());    // size mismatch
  EXPECT_FALSE(w.add_tensor("y", GgmlType::Q4_0, {16}, four).ok());  // 16 % 32 != 0
  // general.alignment set by hand, disagreeing with the layout actually written.
  GgufWriter a;
  a.set_u32("general.alignment", 64);
  EXPECT_FALSE(a.to_bytes().ok());
  a.set_alignment(64);
  EXPECT_TRUE(a.to_bytes().ok());
}

class GgufWriterFile : public ::testing::Test {
 protected:
  std::filesystem::path dir_ = std::filesystem::path(MOE_BINARY_DIR) / "gguf_writer_test";
  void SetUp() override { std::filesystem::create_directories(dir_); }
  // Temporary files the writer left beside `path` ("<path>.tmp.<random>").
  int leftover_tmp_files(const std::string& path) const {
    const std::string prefix = std::filesystem::path(path).filename().string() + ".tmp";
    int n = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir_)) {
      n += e.path().filename().string().rfind(prefix, 0) == 0;
    }
    return n;
  }
};

TEST_F(GgufWriterFile, WritesAtomicallyAndMaps) {
  const std::string path = (dir_ / "ok.gguf").string();
  GgufWriter w;
  w.set_string("general.architecture", "llama");
  ASSERT_TRUE(w.add_tensor("t", GgmlType::F16, {8}, std::vector<uint8_t>(16, 1)).ok());
  ASSERT_TRUE(w.write(path).ok());
  EXPECT_EQ(leftover_tmp_files(path), 0);
  auto f = GgufFile::open(path);
  ASSERT_TRUE(f.ok()) << f.message();
  EXPECT_GE((*f)->fd(), 0);
  EXPECT_EQ((*f)->file_size(), std::filesystem::file_size(path));
  EXPECT_EQ(*(*f)->get_string("general.architecture"), "llama");
  EXPECT_EQ((*f)->find_tensor("t")->data[15], 1);
}

// Two writers of one path at once (parallel test processes generating the same model) must not
// write into each other's temporary file: the result is one of them, whole.
TEST_F(GgufWriterFile, ConcurrentWritersOfOnePathLeaveAWholeFile) {
  const std::string path = (dir_ / "race.gguf").string();
  auto make = [](uint8_t fill) {
    GgufWriter w;
    w.set_string("general.architecture", "llama");
    EXPECT_TRUE(w.add_tensor("t", GgmlType::F32, {1 << 18}, [fill](const TensorSink& sink) -> Status {
                   for (int i = 0; i < 64; ++i) MOE_TRY(sink(std::vector<uint8_t>(1 << 14, fill)));
                   return Status{};
                 }).ok());
    return w;
  };
  GgufWriter a = make(1), b = make(2);
  Status sa, sb;
  std::thread ta([&] { sa = a.write(path); });
  std::thread tb([&] { sb = b.write(path); });
  ta.join();
  tb.join();
  ASSERT_TRUE(sa.ok()) << sa.message();
  ASSERT_TRUE(sb.ok()) << sb.message();
  auto f = GgufFile::open(path);
  ASSERT_TRUE(f.ok()) << f.message();
  const TensorInfo* t = (*f)->find_tensor("t");
  ASSERT_NE(t, nullptr);
  const uint8_t first = t->data[0];
  EXPECT_TRUE(first == 1 || first == 2);
  for (uint64_t i = 0; i < t->n_bytes; i += 4093) ASSERT_EQ(t->data[i], first) << "byte " << i;
  EXPECT_EQ(leftover_tmp_files(path), 0);
}

// Issue 12 item 8: the temporary name used to be "<path>.tmp.<pid>.<n>", predictable and
// opened with fopen("wb"), which follows a symlink: a link planted there made the writer
// overwrite its target and left <path> itself a symlink.
TEST_F(GgufWriterFile, PlantedSymlinksCannotRedirectTheWrite) {
  const std::string path = (dir_ / "planted.gguf").string();
  const std::string victim = (dir_ / "victim.txt").string();
  std::filesystem::remove(path);
  {
    std::FILE* v = std::fopen(victim.c_str(), "wb");
    ASSERT_NE(v, nullptr);
    std::fputs("precious", v);
    std::fclose(v);
  }
  std::vector<std::string> links;
  for (int n = 0; n < 256; ++n) {  // every name the old scheme could pick in this process
    links.push_back(path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(n));
    std::filesystem::remove(links.back());
    std::filesystem::create_symlink(victim, links.back());
  }
  GgufWriter w;
  w.set_string("general.architecture", "llama");
  ASSERT_TRUE(w.add_tensor("t", GgmlType::F32, {4}, std::vector<uint8_t>(16, 7)).ok());
  const Status st = w.write(path);
  ASSERT_TRUE(st.ok()) << st.message();
  for (const auto& l : links) std::filesystem::remove(l);
  std::ifstream in(victim);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(content, "precious");
  EXPECT_FALSE(std::filesystem::is_symlink(path));
  EXPECT_TRUE(std::filesystem::is_regular_file(path));
  auto f = GgufFile::open(path);
  ASSERT_TRUE(f.ok()) << f.message();
  EXPECT_EQ((*f)->find_tensor("t")->data[0], 7);
  EXPECT_EQ(leftover_tmp_files(path), 0);
}

TEST_F(GgufWriterFile, ProducerFailureLeavesNoFile) {
  const std::string path = (dir_ / "fail.gguf").string();
  std::filesystem::remove(path);
  GgufWriter w;
  ASSERT_TRUE(w.add_tensor("t", GgmlType::F32, {4}, [](const TensorSink& sink) -> Status {
                 MOE_TRY(sink(std::vector<uint8_t>(8)));
                 return make_error("disk on fire");
               }).ok());
  Status st = w.write(path);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("disk on fire"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_EQ(leftover_tmp_files(path), 0);
  // A producer that emits the wrong byte count is caught too.
  GgufWriter w2;
  ASSERT_TRUE(w2.add_tensor("t", GgmlType::F32, {4}, [](const TensorSink& sink) {
                  return sink(std::vector<uint8_t>(12));
                }).ok());
  EXPECT_FALSE(w2.write(path).ok());
  EXPECT_FALSE(std::filesystem::exists(path));
}

// Errors found while writing (bad producer, bad metadata) used to say only "GGUF writer: ...",
// without the file being written.
TEST_F(GgufWriterFile, WriteErrorsNameTheFile) {
  const std::string path = (dir_ / "named.gguf").string();
  GgufWriter w;
  ASSERT_TRUE(w.add_tensor("t", GgmlType::F32, {4}, [](const TensorSink& sink) {
                 return sink(std::vector<uint8_t>(12));
               }).ok());
  Status st = w.write(path);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.message(),
            path + ": GGUF writer: tensor 't' producer emitted 12 bytes, expected 16");
}

TEST_F(GgufWriterFile, OpenErrorsNameTheFile) {
  auto missing = GgufFile::open((dir_ / "does_not_exist.gguf").string());
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.message().find("does_not_exist.gguf"), std::string::npos);
  const std::string empty = (dir_ / "empty.gguf").string();
  std::fclose(std::fopen(empty.c_str(), "wb"));
  auto e = GgufFile::open(empty);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.message().find("empty.gguf"), std::string::npos);
}

}  // namespace
}  // namespace moe
