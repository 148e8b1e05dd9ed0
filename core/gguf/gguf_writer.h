#pragma once
// Builds a GGUF v3 file: metadata (every value type, arrays of strings / numbers / arrays) and
// tensors whose bytes come either from a buffer or from a callback run at write time, so a
// 26 GB model is streamed to disk without being held in memory. write() goes through
// AtomicFile (core/util/atomic_file.h): a private, randomly named temporary file beside the
// target, fsynced and renamed on success; no partial file is left behind on error.
//
// Layout written (GGUF spec): header, KVs, tensor infos, padding to `alignment`, tensor data
// with each tensor starting at a multiple of `alignment` from the data section start.
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/gguf/gguf_value.h"
#include "core/quant/types.h"
#include "core/util/status.h"

namespace moe {

/// Receives a chunk of a tensor's bytes (any chunk size; chunks are concatenated in order).
using TensorSink = std::function<Status(std::span<const uint8_t> chunk)>;
/// Produces a tensor's bytes by calling `sink` one or more times. It must emit exactly the
/// tensor's byte size (checked). Called once, during write(), in tensor order.
using TensorProducer = std::function<Status(const TensorSink& sink)>;

class GgufWriter {
 public:
  GgufWriter() = default;

  /// Tensor data alignment (power of two, >= 1; default 32), also written as general.alignment.
  void set_alignment(uint32_t alignment);
  uint32_t alignment() const { return alignment_; }

  // Typed metadata setters. Setting a key again replaces its value (keeps its position).
  void set_u8(std::string_view key, uint8_t v);
  void set_i8(std::string_view key, int8_t v);
  void set_u16(std::string_view key, uint16_t v);
  void set_i16(std::string_view key, int16_t v);
  void set_u32(std::string_view key, uint32_t v);
  void set_i32(std::string_view key, int32_t v);
  void set_u64(std::string_view key, uint64_t v);
  void set_i64(std::string_view key, int64_t v);
  void set_f32(std::string_view key, float v);
  void set_f64(std::string_view key, double v);
  void set_bool(std::string_view key, bool v);
  void set_string(std::string_view key, std::string_view v);
  void set_string_array(std::string_view key, const std::vector<std::string>& v);
  void set_f32_array(std::string_view key, std::span<const float> v);
  void set_i32_array(std::string_view key, std::span<const int32_t> v);
  void set_u32_array(std::string_view key, std::span<const uint32_t> v);
  void set_i64_array(std::string_view key, std::span<const int64_t> v);
  /// Any value, including nested arrays (GgufArray of GgufArray). The value's `type` and the
  /// variant alternative must agree (checked at write time).
  void set_value(std::string_view key, GgufValue v);
  bool has_key(std::string_view key) const;
  const std::vector<GgufKv>& metadata() const { return kvs_; }

  /// Adds a tensor whose bytes are copied from `data` now. shape[0] is the fastest dimension
  /// ({n_in, n_out} for a weight matrix). Error: duplicate name, 0 or > 4 dims, a dim <= 0,
  /// shape[0] not a multiple of the type's block size, data size != expected size.
  Status add_tensor(std::string_view name, GgmlType type, std::vector<int64_t> shape,
                    std::span<const uint8_t> data);
  /// Adds a tensor whose bytes `producer` emits at write time (same checks, minus the size,
  /// which is checked while writing).
  Status add_tensor(std::string_view name, GgmlType type, std::vector<int64_t> shape,
                    TensorProducer producer);
  size_t n_tensors() const { return tensors_.size(); }

  /// Writes the file: "path.tmp.<random>" (created exclusively, never through a link), fsync,
  /// rename(), fsync of the directory. On error the temporary file is removed.
  Status write(const std::string& path) const;
  /// The whole file in memory (tests, fuzz corpus seeds).
  Result<std::vector<uint8_t>> to_bytes() const;

  /// Expected byte size of a tensor (error for bad shapes / types).
  static Result<uint64_t> tensor_bytes(GgmlType type, std::span<const int64_t> shape);

 private:
  struct PendingTensor {
    std::string name;
    GgmlType type;
    std::vector<int64_t> shape;
    uint64_t n_bytes = 0;
    std::vector<uint8_t> data;  // when producer is empty
    TensorProducer producer;
  };
  Status check_new_tensor(std::string_view name, GgmlType type, const std::vector<int64_t>& shape,
                          uint64_t* n_bytes) const;
  Status write_to(const TensorSink& out) const;

  uint32_t alignment_ = 32;
  std::vector<GgufKv> kvs_;
  std::vector<PendingTensor> tensors_;
};

}  // namespace moe
