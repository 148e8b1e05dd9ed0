#pragma once
// A GGUF metadata value: a scalar, a string, or an array (of scalars, strings or arrays).
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace moe {

/// GGUF metadata value type ids (on-disk values).
// clang-format off
enum class GgufType : uint32_t {
  kUint8 = 0, kInt8 = 1, kUint16 = 2, kInt16 = 3, kUint32 = 4, kInt32 = 5, kFloat32 = 6,
  kBool = 7, kString = 8, kArray = 9, kUint64 = 10, kInt64 = 11, kFloat64 = 12,
};
// clang-format on

const char* gguf_type_name(GgufType t);  ///< "u8", "string", "array", ... ; "unknown type"
/// Size in bytes of a scalar type on disk (0 for string/array/unknown ids).
size_t gguf_scalar_size(GgufType t);

struct GgufValue;

/// Homogeneous array, stored compactly. Scalar elements (numbers, bools) stay packed as on disk
/// (little-endian, gguf_scalar_size() bytes each) and string elements stay encoded as on disk
/// (u64 length + bytes) with one u64 offset per element; only nested arrays are held as values.
/// An array parsed from a file is a view into the file's bytes (a 64 MiB u8 array costs no
/// heap); a copy always owns its bytes, so a copied value outlives the file it came from.
class GgufArray {
 public:
  // Out of line: GgufValue is incomplete here (clang instantiates vector<GgufValue> otherwise).
  GgufArray();
  explicit GgufArray(GgufType elem_type);
  GgufArray(const GgufArray& other);
  GgufArray& operator=(const GgufArray& other);
  GgufArray(GgufArray&& other) noexcept;
  GgufArray& operator=(GgufArray&& other) noexcept;
  ~GgufArray();

  /// An array of `count` packed scalars of type `elem` (not string/array) copied from `bytes`
  /// (count * gguf_scalar_size(elem) bytes, little-endian).
  static GgufArray packed(GgufType elem, std::span<const uint8_t> bytes);
  /// A view of `count` packed scalars at `data` (the parser: `data` outlives the array).
  static GgufArray view_packed(GgufType elem, const uint8_t* data, uint64_t count);
  /// A view of encoded strings: element k's u64 length is at data + offsets[k]; the encoded
  /// elements end at data + n_bytes (the parser).
  static GgufArray view_strings(const uint8_t* data, uint64_t n_bytes,
                                std::vector<uint64_t> offsets);

  GgufType elem_type() const { return elem_type_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  /// Element k (k < size()) as a value.
  GgufValue at(size_t k) const;
  /// Element k of a string array, pointing into the array's storage.
  std::string_view string_at(size_t k) const;
  /// The elements of a nested array (empty for scalar / string arrays).
  const std::vector<GgufValue>& nested() const { return nested_; }
  /// Scalar and string elements exactly as encoded in a GGUF file (empty for nested arrays).
  std::span<const uint8_t> encoded() const { return {base(), n_bytes_}; }

  /// Appends an element; `v.type` must be elem_type() (checked: a programming error otherwise).
  /// A nested array passed as an rvalue is moved in (and stays a view if it was one).
  void push_back(GgufValue v);
  /// Keeps the first n elements (n <= size()).
  void truncate(size_t n);

 private:
  const uint8_t* base() const { return external_ != nullptr ? external_ : owned_.data(); }
  void make_owned();

  GgufType elem_type_ = GgufType::kUint8;
  size_t size_ = 0;
  const uint8_t* external_ = nullptr;  ///< view into a file; null when the bytes are owned_
  size_t n_bytes_ = 0;                 ///< encoded bytes of the scalar / string elements
  std::vector<uint8_t> owned_;
  std::vector<uint64_t> offsets_;  ///< strings: start of element k's length, from base()
  std::vector<GgufValue> nested_;  ///< arrays of arrays
};

struct GgufValue {
  GgufType type = GgufType::kUint8;
  std::variant<uint64_t, int64_t, double, bool, std::string, GgufArray> v;
  // Integers are stored widened (unsigned in uint64_t, signed in int64_t), floats in double;
  // `type` keeps the on-disk type so a writer round-trips it exactly.
};

/// Short human-readable rendering: scalars as text, strings quoted, arrays as
/// "[a, b, ... (N items)]" with at most `max_items` shown.
std::string gguf_value_to_string(const GgufValue& v, size_t max_items = 8);

struct GgufKv {
  std::string key;
  GgufValue value;
};

}  // namespace moe
