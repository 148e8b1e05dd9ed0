// GGUF parsing and validation (GgufFile::parse_all and helpers). Layout, all little-endian:
//   magic "GGUF" | u32 version | u64 n_tensors | u64 n_kv | n_kv x KV | n_tensors x TensorInfo
//   | padding to general.alignment | tensor data (each tensor at a multiple of the alignment)
//   KV = string key | u32 type | value;  string = u64 length | bytes;
//   array = u32 elem type | u64 count | count x value
//   TensorInfo = string name | u32 n_dims | n_dims x u64 ne | u32 ggml type | u64 offset
// Every length and count is bounded by the bytes left in the file before anything is
// allocated, and every product / sum is overflow-checked.
#include <algorithm>
#include <string>
#include <vector>

#include "core/gguf/gguf_cursor.h"
#include "core/gguf/gguf_file.h"

namespace moe {
namespace {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" read as little-endian u32
constexpr int kMaxArrayDepth = 8;        // nested arrays deeper than this are hostile
constexpr uint64_t kMaxKeyLength = 65535;
constexpr uint64_t kMaxTensorNameLength = 1024;
constexpr uint64_t kMinKvBytes = 8 + 1 + 4 + 1;  // key length, 1-char key, type, u8 value
constexpr uint64_t kMinTensorInfoBytes = 8 + 1 + 4 + 8 + 4 + 8;
// Heap bytes per key / tensor beyond their names: the vector entry and the index's map node.
constexpr uint64_t kKvOverhead = sizeof(GgufKv) + 64;
constexpr uint64_t kTensorOverhead = sizeof(TensorInfo) + 4 * sizeof(int64_t) + 64;

bool known_value_type(uint32_t t) {
  return t <= static_cast<uint32_t>(GgufType::kFloat64);
}

// Smallest on-disk size of one value of type t (used to bound array counts).
uint64_t min_value_bytes(GgufType t) {
  if (t == GgufType::kString) return 8;
  if (t == GgufType::kArray) return 4 + 8;
  return gguf_scalar_size(t);
}

template <class T, class Stored, class What>
Result<GgufValue> read_scalar(GgufCursor& cur, GgufType type, const What& what) {
  auto r = cur.read<T>(what);
  if (!r) return r.error();
  GgufValue v;
  v.type = type;
  v.v = static_cast<Stored>(*r);
  return v;
}

Result<GgufValue> read_value(GgufCursor& cur, GgufType type, std::string_view key, int depth,
                             GgufMemoryBudget& budget);

// An array's elements after its header: scalars and strings stay in the file (views), nested
// arrays are read recursively. No per-element string is built unless there is an error.
Result<GgufArray> read_array_items(GgufCursor& cur, GgufType elem, uint64_t count,
                                   std::string_view key, int depth, GgufMemoryBudget& budget) {
  auto elem_what = [&] { return "element of array '" + std::string(key) + "'"; };
  if (elem == GgufType::kArray) {
    MOE_TRY(budget.charge(cur, count * sizeof(GgufValue), [&] {
      return "array '" + std::string(key) + "' of " + std::to_string(count) + " arrays";
    }));
    GgufArray arr(elem);
    for (uint64_t k = 0; k < count; ++k) {
      auto item = read_value(cur, elem, key, depth + 1, budget);
      if (!item) return item.error();
      arr.push_back(std::move(*item));
    }
    return arr;
  }
  if (elem == GgufType::kString) {
    MOE_TRY(budget.charge(cur, count * sizeof(uint64_t), [&] {
      return "array '" + std::string(key) + "' of " + std::to_string(count) + " strings";
    }));
    const uint8_t* start = cur.here();
    const uint64_t start_pos = cur.pos();
    std::vector<uint64_t> offsets;
    offsets.reserve(count);
    for (uint64_t k = 0; k < count; ++k) {
      offsets.push_back(cur.pos() - start_pos);
      auto s = cur.read_string_view(elem_what);
      if (!s) return s.error();
    }
    return GgufArray::view_strings(start, cur.pos() - start_pos, std::move(offsets));
  }
  const uint64_t n_bytes = count * gguf_scalar_size(elem);  // <= remaining(), checked
  MOE_TRY(cur.need(n_bytes, elem_what));
  const uint8_t* data = cur.here();
  if (elem == GgufType::kBool) {
    for (uint64_t k = 0; k < count; ++k) {
      if (data[k] > 1) {
        return cur.error("bool element ", std::to_string(k), " of array '", key,
                         "' has byte value ", std::to_string(data[k]), " (must be 0 or 1)");
      }
    }
  }
  cur.skip(n_bytes);
  return GgufArray::view_packed(elem, data, count);
}

Result<GgufValue> read_value(GgufCursor& cur, GgufType type, std::string_view key, int depth,
                             GgufMemoryBudget& budget) {
  auto what = [&] { return "value of '" + std::string(key) + "'"; };
  switch (type) {
    case GgufType::kUint8:
      return read_scalar<uint8_t, uint64_t>(cur, type, what);
    case GgufType::kInt8:
      return read_scalar<int8_t, int64_t>(cur, type, what);
    case GgufType::kUint16:
      return read_scalar<uint16_t, uint64_t>(cur, type, what);
    case GgufType::kInt16:
      return read_scalar<int16_t, int64_t>(cur, type, what);
    case GgufType::kUint32:
      return read_scalar<uint32_t, uint64_t>(cur, type, what);
    case GgufType::kInt32:
      return read_scalar<int32_t, int64_t>(cur, type, what);
    case GgufType::kUint64:
      return read_scalar<uint64_t, uint64_t>(cur, type, what);
    case GgufType::kInt64:
      return read_scalar<int64_t, int64_t>(cur, type, what);
    case GgufType::kFloat32:
      return read_scalar<float, double>(cur, type, what);
    case GgufType::kFloat64:
      return read_scalar<double, double>(cur, type, what);
    case GgufType::kBool: {
      auto b = cur.read<uint8_t>(what);
      if (!b) return b.error();
      if (*b > 1) {
        return cur.error("bool ", what(), " has byte value ", std::to_string(*b),
                         " (must be 0 or 1)");
      }
      GgufValue v;
      v.type = type;
      v.v = *b != 0;
      return v;
    }
    case GgufType::kString: {
      auto s = cur.read_string_view(what);
      if (!s) return s.error();
      MOE_TRY(budget.charge(cur, s->size(), what));
      GgufValue v;
      v.type = type;
      v.v = std::string(*s);
      return v;
    }
    case GgufType::kArray: {
      if (depth >= kMaxArrayDepth) {
        return cur.error("array ", what(), " nests deeper than ", std::to_string(kMaxArrayDepth),
                         " levels");
      }
      auto et =
          cur.read<uint32_t>([&] { return "array element type of '" + std::string(key) + "'"; });
      if (!et) return et.error();
      if (!known_value_type(*et)) {
        return cur.error("array '", key, "' has unknown element type ", std::to_string(*et));
      }
      auto count = cur.read<uint64_t>([&] { return "array length of '" + std::string(key) + "'"; });
      if (!count) return count.error();
      const GgufType elem = static_cast<GgufType>(*et);
      if (*count > cur.remaining() / min_value_bytes(elem)) {
        return cur.error("array '", key, "' claims ", std::to_string(*count), " ",
                         gguf_type_name(elem), " elements but only ",
                         std::to_string(cur.remaining()), " bytes remain in the file");
      }
      auto arr = read_array_items(cur, elem, *count, key, depth, budget);
      if (!arr) return arr.error();
      GgufValue v;
      v.type = type;
      v.v = std::move(*arr);
      return v;
    }
  }
  return cur.error("unknown value type ", std::to_string(static_cast<uint32_t>(type)), " for '",
                   key, "'");
}

bool mul_overflows(uint64_t a, uint64_t b, uint64_t* out) {
  return __builtin_mul_overflow(a, b, out);
}

}  // namespace

Status GgufFile::parse_all() {
  GgufCursor cur(bytes_, path_);
  auto magic = cur.read<uint32_t>("magic");
  if (!magic) return cur.error("not a GGUF file (", std::to_string(bytes_.size()), " bytes)");
  if (*magic != kMagic) return cur.error("not a GGUF file (bad magic)");
  auto version = cur.read<uint32_t>("version");
  if (!version) return version.error();
  version_ = *version;
  if (version_ == 1) {
    return cur.error(
        "GGUF version 1 is not supported (32-bit counts; re-convert the model with a "
        "current llama.cpp to get GGUF v3)");
  }
  if (version_ != 2 && version_ != 3) {
    return cur.error("unsupported GGUF version ", std::to_string(version_),
                     (version_ >= 0x01000000u ? " (a big-endian file?)" : ""), "; supported: 2, 3");
  }
  auto n_tensors = cur.read<uint64_t>("tensor count");
  if (!n_tensors) return n_tensors.error();
  auto n_kv = cur.read<uint64_t>("metadata count");
  if (!n_kv) return n_kv.error();
  if (*n_kv > cur.remaining() / kMinKvBytes) {
    return cur.error("metadata count ", std::to_string(*n_kv), " cannot fit in the ",
                     std::to_string(cur.remaining()), " remaining bytes");
  }
  if (*n_tensors > cur.remaining() / kMinTensorInfoBytes) {
    return cur.error("tensor count ", std::to_string(*n_tensors), " cannot fit in the ",
                     std::to_string(cur.remaining()), " remaining bytes");
  }

  GgufMemoryBudget budget;
  kvs_.reserve(static_cast<size_t>(std::min<uint64_t>(*n_kv, 4096)));  // grows as keys arrive
  for (uint64_t i = 0; i < *n_kv; ++i) {
    const uint64_t at = cur.pos();
    auto key_what = [&] { return "metadata key #" + std::to_string(i); };
    auto key = cur.read_string_view(key_what);
    if (!key) return key.error();
    if (key->empty() || key->size() > kMaxKeyLength) {
      return cur.error("metadata key #", std::to_string(i), " at byte ", std::to_string(at),
                       " has invalid length ", std::to_string(key->size()));
    }
    MOE_TRY(budget.charge(cur, kKvOverhead + 2 * key->size(), key_what));
    auto type = cur.read<uint32_t>([&] { return "type of '" + std::string(*key) + "'"; });
    if (!type) return type.error();
    if (!known_value_type(*type)) {
      return cur.error("metadata '", *key, "' has unknown value type ", std::to_string(*type));
    }
    auto value = read_value(cur, static_cast<GgufType>(*type), *key, 0, budget);
    if (!value) return value.error();
    if (!kv_index_.emplace(std::string(*key), kvs_.size()).second) {
      return cur.error("duplicate metadata key '", *key, "'");
    }
    kvs_.push_back(GgufKv{std::string(*key), std::move(*value)});
  }

  // general.alignment: u32 by the spec; we accept any non-negative integer type.
  if (has("general.alignment")) {
    auto al = get_uint("general.alignment");
    if (!al) return al.error();
    if (*al == 0 || (*al & (*al - 1)) != 0 || *al > (1u << 30)) {
      return cur.error("general.alignment = ", std::to_string(*al),
                       " is not a power of two in [1, 2^30]");
    }
    alignment_ = *al;
  }

  MOE_TRY(parse_tensor_infos(cur, *n_tensors, budget));

  // The data section starts at the next multiple of the alignment after the tensor infos.
  data_offset_ = (cur.pos() + alignment_ - 1) / alignment_ * alignment_;
  return place_tensors();
}

Status GgufFile::parse_tensor_infos(GgufCursor& cur, uint64_t n_tensors, GgufMemoryBudget& budget) {
  tensors_.reserve(static_cast<size_t>(std::min<uint64_t>(n_tensors, 4096)));
  for (uint64_t i = 0; i < n_tensors; ++i) {
    auto idx = [&] { return "tensor #" + std::to_string(i); };
    auto name = cur.read_string_view([&] { return "name of " + idx(); });
    if (!name) return name.error();
    if (name->empty() || name->size() > kMaxTensorNameLength) {
      return cur.error(idx(), " has an invalid name length ", std::to_string(name->size()));
    }
    MOE_TRY(budget.charge(cur, kTensorOverhead + 2 * name->size(), idx));
    const std::string tn = "tensor '" + std::string(*name) + "'";  // <= 1 KiB, once per tensor
    auto n_dims = cur.read<uint32_t>([&] { return "dimension count of " + tn; });
    if (!n_dims) return n_dims.error();
    if (*n_dims == 0 || *n_dims > 4) {
      return cur.error(tn, " has ", std::to_string(*n_dims), " dimensions (must be 1..4)");
    }
    TensorInfo t;
    t.name = std::string(*name);
    uint64_t n_elements = 1;
    for (uint32_t d = 0; d < *n_dims; ++d) {
      auto ne = cur.read<uint64_t>([&] { return "shape of " + tn; });
      if (!ne) return ne.error();
      if (*ne == 0 || *ne > static_cast<uint64_t>(INT64_MAX)) {
        return cur.error(tn, " has invalid size ", std::to_string(static_cast<int64_t>(*ne)),
                         " in dimension ", std::to_string(d));
      }
      if (mul_overflows(n_elements, *ne, &n_elements) ||
          n_elements > static_cast<uint64_t>(INT64_MAX)) {
        return cur.error(tn, " has an element count that overflows 64 bits");
      }
      t.shape.push_back(static_cast<int64_t>(*ne));
    }
    t.n_elements = static_cast<int64_t>(n_elements);
    auto type = cur.read<uint32_t>([&] { return "type of " + tn; });
    if (!type) return type.error();
    const TypeTraits* tt = type_traits(*type);
    if (tt == nullptr) {
      return cur.error(tn, " has unknown ggml type id ", std::to_string(*type));
    }
    t.type = tt->type;
    if (t.shape[0] % tt->block_size != 0) {
      return cur.error(tn, " of type ", tt->name, " has a row length ", std::to_string(t.shape[0]),
                       " that is not a multiple of the block size ",
                       std::to_string(tt->block_size));
    }
    // n_bytes = n_elements / block_size * type_size (rows are whole blocks, checked above).
    if (mul_overflows(n_elements / static_cast<uint64_t>(tt->block_size), tt->type_size,
                      &t.n_bytes)) {
      return cur.error(tn, " has a byte size that overflows 64 bits");
    }
    auto offset = cur.read<uint64_t>([&] { return "data offset of " + tn; });
    if (!offset) return offset.error();
    if (*offset % alignment_ != 0) {
      return cur.error(tn, " data offset ", std::to_string(*offset),
                       " is not a multiple of the alignment ", std::to_string(alignment_));
    }
    t.offset = *offset;  // relative for now; made absolute in place_tensors()
    if (!tensor_index_.emplace(t.name, tensors_.size()).second) {
      return cur.error("duplicate tensor name '", t.name, "'");
    }
    tensors_.push_back(std::move(t));
  }
  return {};
}

Status GgufFile::place_tensors() {
  const uint64_t size = bytes_.size();
  for (auto& t : tensors_) {
    const uint64_t rel = t.offset;
    if (data_offset_ > size || rel > size - data_offset_ || t.n_bytes > size - data_offset_ - rel) {
      return make_error(path_, ": tensor '", t.name, "' data [", std::to_string(rel), ", +",
                        std::to_string(t.n_bytes), ") relative to the data section at byte ",
                        std::to_string(data_offset_), " lies outside the file (",
                        std::to_string(size), " bytes)");
    }
    t.offset = data_offset_ + rel;
    t.data = bytes_.data() + t.offset;
  }
  // Overlap check: sort the extents by start; each must begin at or after the previous end.
  std::vector<const TensorInfo*> order;
  order.reserve(tensors_.size());
  for (const auto& t : tensors_) order.push_back(&t);
  std::sort(order.begin(), order.end(),
            [](const TensorInfo* a, const TensorInfo* b) { return a->offset < b->offset; });
  for (size_t k = 1; k < order.size(); ++k) {
    const TensorInfo* p = order[k - 1];
    if (order[k]->offset < p->offset + p->n_bytes) {
      return make_error(path_, ": tensors '", p->name, "' and '", order[k]->name,
                        "' overlap in the data section");
    }
  }
  return {};
}

}  // namespace moe
