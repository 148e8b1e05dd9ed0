#pragma once
// Read-only view of a GGUF file (v2, v3), memory-mapped. Parsing validates everything a later
// reader would trust (lengths, counts, types, offsets, alignment) and fails with an Error whose
// message names the file and the problem; it never crashes on hostile input.
// Spec: https://github.com/ggml-org/ggml/blob/master/docs/gguf.md
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/gguf/gguf_value.h"
#include "core/quant/types.h"
#include "core/util/status.h"

namespace moe {

/// One tensor of the directory. shape[0] is the fastest-varying dimension (ggml's ne[0]):
/// a weight matrix of n_out rows of n_in elements has shape {n_in, n_out}.
struct TensorInfo {
  std::string name;
  GgmlType type;
  std::vector<int64_t> shape;  ///< 1..4 dims
  int64_t n_elements = 0;
  uint64_t offset = 0;  ///< from the start of the file (data section + relative offset)
  uint64_t n_bytes = 0;
  const uint8_t* data = nullptr;  ///< into the mapping; valid while the GgufFile lives

  int64_t ne(int i) const { return i < static_cast<int>(shape.size()) ? shape[i] : 1; }
};

class GgufCursor;  // parsing helpers (gguf_cursor.h)
class GgufMemoryBudget;

class GgufFile {
 public:
  /// Maps and parses `path`.
  static Result<std::unique_ptr<GgufFile>> open(const std::string& path);
  /// Parses bytes already in memory (fuzzing, tests). `name` appears in error messages.
  /// The bytes must outlive the returned object.
  static Result<std::unique_ptr<GgufFile>> parse(std::span<const uint8_t> bytes,
                                                 std::string name = "<memory>");
  ~GgufFile();
  GgufFile(const GgufFile&) = delete;
  GgufFile& operator=(const GgufFile&) = delete;

  const std::string& path() const { return path_; }
  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }  ///< start of the tensor data section
  uint64_t file_size() const { return bytes_.size(); }
  const uint8_t* base() const { return bytes_.data(); }
  int fd() const { return fd_; }  ///< -1 for parse(); later used for pread-based offloading

  // Metadata, in file order.
  const std::vector<GgufKv>& metadata() const { return kvs_; }
  const GgufValue* find(std::string_view key) const;
  bool has(std::string_view key) const { return find(key) != nullptr; }

  // Typed lookups. Integers convert between widths when the value fits; a missing key or a
  // wrong type is an Error naming the key, the file and the type found.
  Result<std::string> get_string(std::string_view key) const;
  Result<uint64_t> get_uint(std::string_view key) const;
  Result<int64_t> get_int(std::string_view key) const;
  Result<double> get_float(std::string_view key) const;  ///< any float or integer type
  Result<bool> get_bool(std::string_view key) const;
  Result<std::vector<std::string>> get_string_array(std::string_view key) const;
  Result<std::vector<float>> get_float_array(std::string_view key) const;
  Result<std::vector<int32_t>> get_int_array(std::string_view key) const;
  /// Convenience: the value or `fallback` when the key is absent (wrong type is still an error).
  Result<uint64_t> get_uint_or(std::string_view key, uint64_t fallback) const;
  Result<double> get_float_or(std::string_view key, double fallback) const;

  // Tensor directory, in file order.
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const TensorInfo* find_tensor(std::string_view name) const;

 private:
  GgufFile() = default;
  Status parse_all();
  Status parse_tensor_infos(GgufCursor& cur, uint64_t n_tensors, GgufMemoryBudget& budget);
  Status place_tensors();
  Error key_error(std::string_view key, const GgufValue* v, const char* expected) const;

  std::string path_;
  std::span<const uint8_t> bytes_;
  void* map_ = nullptr;
  size_t map_len_ = 0;
  int fd_ = -1;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  std::vector<GgufKv> kvs_;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, size_t, std::less<>> kv_index_, tensor_index_;
};

}  // namespace moe
