#include "tests/gguf_fuzz/gguf_corpus.h"

#include <cstring>
#include <random>

#include "core/gguf/gguf_writer.h"

namespace moe::fuzz {
namespace {

// Field positions in a valid file, by role (so mutations hit the fields that matter).
enum class Field { kCount, kLength, kValueType, kNDims, kDim, kTensorType, kOffset, kValue };
struct FieldPos {
  Field role;
  size_t pos;
  size_t width;  // 4 or 8 bytes
};

// Walks a valid GGUF (our own seeds) and records where each field lies. No validation needed.
class Walker {
 public:
  explicit Walker(const std::vector<uint8_t>& b) : b_(b) {}
  std::vector<FieldPos> walk() {
    pos_ = 8;
    const uint64_t n_tensors = field(Field::kCount, 8);
    const uint64_t n_kv = field(Field::kCount, 8);
    for (uint64_t i = 0; i < n_kv && ok(); ++i) {
      string();
      value(static_cast<uint32_t>(field(Field::kValueType, 4)));
    }
    for (uint64_t i = 0; i < n_tensors && ok(); ++i) {
      string();
      const uint64_t nd = field(Field::kNDims, 4);
      for (uint64_t d = 0; d < nd && ok(); ++d) field(Field::kDim, 8);
      field(Field::kTensorType, 4);
      field(Field::kOffset, 8);
    }
    return fields_;
  }

 private:
  bool ok() const { return pos_ + 8 <= b_.size(); }
  uint64_t field(Field role, size_t width) {
    if (pos_ + width > b_.size()) return 0;
    uint64_t v = 0;
    std::memcpy(&v, b_.data() + pos_, width);
    fields_.push_back({role, pos_, width});
    pos_ += width;
    return v;
  }
  void string() { pos_ += field(Field::kLength, 8); }
  void value(uint32_t type) {
    static constexpr size_t kScalar[] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
    if (type == 8) {
      string();
    } else if (type == 9) {
      const uint32_t et = static_cast<uint32_t>(field(Field::kValueType, 4));
      const uint64_t n = field(Field::kLength, 8);
      for (uint64_t k = 0; k < n && ok(); ++k) value(et);
    } else if (type < 13) {
      if (kScalar[type] >= 4) fields_.push_back({Field::kValue, pos_, kScalar[type]});
      pos_ += kScalar[type];
    }
  }
  const std::vector<uint8_t>& b_;
  size_t pos_ = 0;
  std::vector<FieldPos> fields_;
};

std::vector<uint8_t> build(const GgufWriter& w) {
  return std::move(*w.to_bytes());
}

std::vector<uint8_t> pattern(size_t n, uint8_t mul) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(i * mul + 1);
  return v;
}

// Seed 0: a miniature model: every metadata type, tokenizer-like arrays, mixed tensor types.
std::vector<uint8_t> model_seed() {
  GgufWriter w;
  w.set_string("general.architecture", "llama");
  w.set_string("general.name", "fuzz-seed");
  w.set_u32("llama.block_count", 1);
  w.set_u32("llama.embedding_length", 64);
  w.set_u32("llama.expert_count", 2);
  w.set_f32("llama.rope.freq_base", 10000.f);
  w.set_f64("t.f64", 0.5);
  w.set_u8("t.u8", 1);
  w.set_i8("t.i8", -1);
  w.set_u16("t.u16", 2);
  w.set_i16("t.i16", -2);
  w.set_i64("t.i64", -3);
  w.set_u64("t.u64", 4);
  w.set_bool("t.bool", true);
  w.set_string_array("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>",
                                               "\xe2\x96\x81"
                                               "a",
                                               "b"});
  const float scores[] = {0.f, 0.f, 0.f, -1.f, -2.f};
  w.set_f32_array("tokenizer.ggml.scores", scores);
  const int32_t types[] = {2, 3, 3, 1, 1};
  w.set_i32_array("tokenizer.ggml.token_type", types);
  GgufArray inner(GgufType::kUint32);
  for (uint64_t x : {1u, 2u}) inner.push_back(GgufValue{GgufType::kUint32, x});
  GgufArray outer(GgufType::kArray);
  outer.push_back(GgufValue{GgufType::kArray, inner});
  w.set_value("t.nested", GgufValue{GgufType::kArray, outer});
  (void)w.add_tensor("token_embd.weight", GgmlType::F16, {32, 5}, pattern(320, 3));
  (void)w.add_tensor("blk.0.attn_norm.weight", GgmlType::F32, {32}, pattern(128, 5));
  (void)w.add_tensor("blk.0.ffn_gate_exps.weight", GgmlType::Q8_0, {64, 2, 2}, pattern(136 * 2, 7));
  (void)w.add_tensor("blk.0.ffn_down_exps.weight", GgmlType::Q4_K, {256, 1, 2}, pattern(288, 11));
  (void)w.add_tensor("output.weight", GgmlType::Q6_K, {256, 1}, pattern(210, 13));
  return build(w);
}

// Seed 1: custom alignment, 4-D tensor, Q4_0.
std::vector<uint8_t> aligned_seed() {
  GgufWriter w;
  w.set_alignment(64);
  w.set_string("general.architecture", "llama");
  (void)w.add_tensor("a", GgmlType::Q4_0, {32, 2, 1, 3}, pattern(18 * 6, 17));
  (void)w.add_tensor("b", GgmlType::F32, {3}, pattern(12, 19));
  return build(w);
}

// Seed 2: metadata only, GGUF v2.
std::vector<uint8_t> v2_seed() {
  GgufWriter w;
  w.set_string("general.name", "v2");
  w.set_string_array("s", {"x", "", "yz"});
  auto b = build(w);
  b[4] = 2;
  return b;
}

uint64_t interesting(std::mt19937_64& rng, uint64_t old) {
  static constexpr uint64_t kValues[] = {0,
                                         1,
                                         2,
                                         3,
                                         4,
                                         5,
                                         13,
                                         31,
                                         32,
                                         63,
                                         255,
                                         256,
                                         65535,
                                         0x7fffffff,
                                         0x80000000,
                                         0xffffffff,
                                         1ull << 32,
                                         1ull << 40,
                                         0x7fffffffffffffff,
                                         0x8000000000000000,
                                         0xffffffffffffffff};
  switch (rng() % 4) {
    case 0:
      return old + 1;
    case 1:
      return old - 1;
    case 2:
      return rng();
    default:
      return kValues[rng() % std::size(kValues)];
  }
}

std::string mutate_once(std::vector<uint8_t>& b, const std::vector<FieldPos>& fields,
                        std::mt19937_64& rng) {
  if (b.empty()) return "empty";
  const size_t n = b.size();
  switch (rng() % 8) {
    case 0: {
      const int flips = 1 + static_cast<int>(rng() % 8);
      for (int k = 0; k < flips; ++k) b[rng() % n] ^= static_cast<uint8_t>(1u << (rng() % 8));
      return "bitflip";
    }
    case 1: {
      static constexpr uint8_t kBytes[] = {0, 1, 0x7f, 0x80, 0xff, 9, 12};
      b[rng() % n] = kBytes[rng() % std::size(kBytes)];
      return "byte";
    }
    case 2:
      b.resize(rng() % n);
      return "truncate";
    case 3: {
      const size_t at = rng() % n, len = 1 + rng() % 16;
      b.insert(b.begin() + static_cast<std::ptrdiff_t>(at), len, static_cast<uint8_t>(rng()));
      return "insert";
    }
    case 4: {
      const size_t at = rng() % n, len = std::min<size_t>(1 + rng() % 16, n - at);
      b.erase(b.begin() + static_cast<std::ptrdiff_t>(at),
              b.begin() + static_cast<std::ptrdiff_t>(at + len));
      return "delete";
    }
    case 5: {  // copy a chunk of the file over another place
      const size_t from = rng() % n, to = rng() % n;
      const size_t len = std::min({static_cast<size_t>(1 + rng() % 64), n - from, n - to});
      std::memmove(b.data() + to, b.data() + from, len);
      return "splice";
    }
    default: {  // structure-aware: corrupt a length / count / type / dim / offset field
      if (fields.empty()) return "none";
      const FieldPos& f = fields[rng() % fields.size()];
      if (f.pos + f.width > b.size()) return "none";
      uint64_t old = 0;
      std::memcpy(&old, b.data() + f.pos, f.width);
      uint64_t v = interesting(rng, old);
      if (f.role == Field::kOffset && rng() % 2) v = old + 32 * (1 + rng() % 4);  // aligned
      std::memcpy(b.data() + f.pos, &v, f.width);
      static constexpr const char* kNames[] = {"count", "length", "valuetype", "ndims",
                                               "dim",   "ttype",  "offset",    "value"};
      return std::string("field-") + kNames[static_cast<int>(f.role)];
    }
  }
}

}  // namespace

std::vector<std::vector<uint8_t>> make_seeds() {
  return {model_seed(), aligned_seed(), v2_seed()};
}

std::vector<uint8_t> make_mutant(const std::vector<std::vector<uint8_t>>& seeds, uint64_t seed,
                                 uint64_t index, std::string* kind) {
  std::seed_seq sq{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32),
                   static_cast<uint32_t>(index), static_cast<uint32_t>(index >> 32)};
  std::mt19937_64 rng(sq);
  std::vector<uint8_t> b = seeds[rng() % seeds.size()];
  const auto fields = Walker(b).walk();
  const int n_mut = 1 + static_cast<int>(rng() % 3);
  std::string k;
  for (int m = 0; m < n_mut; ++m) {
    if (!k.empty()) k += "+";
    k += mutate_once(b, fields, rng);
  }
  if (kind != nullptr) *kind = k;
  return b;
}

}  // namespace moe::fuzz
