// GgufWriter: metadata + tensor directory in memory, tensor bytes buffered or produced at write
// time, file written through AtomicFile (a private temporary file in the target's directory,
// created O_EXCL | O_NOFOLLOW under a random name, fsynced and renamed into place): readers only
// ever see a complete file, a link planted in the directory cannot redirect the write, and two
// writers of the same path never write into each other's temporary file — the last rename wins.
#include "core/gguf/gguf_writer.h"

#include <cstring>
#include <memory>

#include "core/util/atomic_file.h"

namespace moe {
namespace {

constexpr uint32_t kVersion = 3;

// Serialises little-endian values into a small buffer that is flushed to a TensorSink.
class Emitter {
 public:
  explicit Emitter(const TensorSink& out) : out_(out) {}
  template <class T>
  void put(T v) {
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    buf_.insert(buf_.end(), p, p + sizeof(T));
  }
  void put_string(std::string_view s) {
    put<uint64_t>(s.size());
    buf_.insert(buf_.end(), s.begin(), s.end());
  }
  void bytes(std::span<const uint8_t> b) { buf_.insert(buf_.end(), b.begin(), b.end()); }
  void zeros(uint64_t n) { buf_.insert(buf_.end(), n, 0); }
  Status flush() {
    if (buf_.empty()) return {};
    Status st = out_(buf_);
    buf_.clear();
    return st;
  }
  uint64_t pending() const { return buf_.size(); }

 private:
  const TensorSink& out_;
  std::vector<uint8_t> buf_;
};

GgufValue scalar(GgufType t, uint64_t u) {
  return GgufValue{t, u};
}
GgufValue scalar_i(GgufType t, int64_t i) {
  return GgufValue{t, i};
}

// Checks that `type` and the variant alternative agree, recursively.
Status check_value(const GgufValue& v, std::string_view key) {
  bool good = false;
  switch (v.type) {
    case GgufType::kUint8:
    case GgufType::kUint16:
    case GgufType::kUint32:
    case GgufType::kUint64:
      good = std::holds_alternative<uint64_t>(v.v);
      break;
    case GgufType::kInt8:
    case GgufType::kInt16:
    case GgufType::kInt32:
    case GgufType::kInt64:
      good = std::holds_alternative<int64_t>(v.v);
      break;
    case GgufType::kFloat32:
    case GgufType::kFloat64:
      good = std::holds_alternative<double>(v.v);
      break;
    case GgufType::kBool:
      good = std::holds_alternative<bool>(v.v);
      break;
    case GgufType::kString:
      good = std::holds_alternative<std::string>(v.v);
      break;
    case GgufType::kArray: {
      // Scalar and string elements are type-checked as they are appended (GgufArray).
      const auto* a = std::get_if<GgufArray>(&v.v);
      good = a != nullptr;
      if (good) {
        for (const auto& it : a->nested()) MOE_TRY(check_value(it, key));
      }
      break;
    }
  }
  if (!good) return make_error("GGUF writer: value of '", key, "' does not match its type");
  return {};
}

void emit_value(Emitter& e, const GgufValue& v) {
  switch (v.type) {
    case GgufType::kUint8:
      e.put(static_cast<uint8_t>(std::get<uint64_t>(v.v)));
      break;
    case GgufType::kInt8:
      e.put(static_cast<int8_t>(std::get<int64_t>(v.v)));
      break;
    case GgufType::kUint16:
      e.put(static_cast<uint16_t>(std::get<uint64_t>(v.v)));
      break;
    case GgufType::kInt16:
      e.put(static_cast<int16_t>(std::get<int64_t>(v.v)));
      break;
    case GgufType::kUint32:
      e.put(static_cast<uint32_t>(std::get<uint64_t>(v.v)));
      break;
    case GgufType::kInt32:
      e.put(static_cast<int32_t>(std::get<int64_t>(v.v)));
      break;
    case GgufType::kUint64:
      e.put(std::get<uint64_t>(v.v));
      break;
    case GgufType::kInt64:
      e.put(std::get<int64_t>(v.v));
      break;
    case GgufType::kFloat32:
      e.put(static_cast<float>(std::get<double>(v.v)));
      break;
    case GgufType::kFloat64:
      e.put(std::get<double>(v.v));
      break;
    case GgufType::kBool:
      e.put(static_cast<uint8_t>(std::get<bool>(v.v) ? 1 : 0));
      break;
    case GgufType::kString:
      e.put_string(std::get<std::string>(v.v));
      break;
    case GgufType::kArray: {
      const auto& a = std::get<GgufArray>(v.v);
      e.put(static_cast<uint32_t>(a.elem_type()));
      e.put<uint64_t>(a.size());
      e.bytes(a.encoded());  // scalars and strings are kept encoded as on disk
      for (const auto& it : a.nested()) emit_value(e, it);
      break;
    }
  }
}

uint64_t align_up(uint64_t x, uint64_t a) {
  return (x + a - 1) / a * a;
}

}  // namespace

void GgufWriter::set_alignment(uint32_t alignment) {
  MOE_CHECK(alignment != 0 && (alignment & (alignment - 1)) == 0,
            "GGUF alignment must be a power of two");
  alignment_ = alignment;
  set_u32("general.alignment", alignment);
}

void GgufWriter::set_value(std::string_view key, GgufValue v) {
  for (auto& kv : kvs_) {
    if (kv.key == key) {
      kv.value = std::move(v);
      return;
    }
  }
  kvs_.push_back(GgufKv{std::string(key), std::move(v)});
}

bool GgufWriter::has_key(std::string_view key) const {
  for (const auto& kv : kvs_) {
    if (kv.key == key) return true;
  }
  return false;
}

void GgufWriter::set_u8(std::string_view k, uint8_t v) {
  set_value(k, scalar(GgufType::kUint8, v));
}
void GgufWriter::set_i8(std::string_view k, int8_t v) {
  set_value(k, scalar_i(GgufType::kInt8, v));
}
void GgufWriter::set_u16(std::string_view k, uint16_t v) {
  set_value(k, scalar(GgufType::kUint16, v));
}
void GgufWriter::set_i16(std::string_view k, int16_t v) {
  set_value(k, scalar_i(GgufType::kInt16, v));
}
void GgufWriter::set_u32(std::string_view k, uint32_t v) {
  set_value(k, scalar(GgufType::kUint32, v));
}
void GgufWriter::set_i32(std::string_view k, int32_t v) {
  set_value(k, scalar_i(GgufType::kInt32, v));
}
void GgufWriter::set_u64(std::string_view k, uint64_t v) {
  set_value(k, scalar(GgufType::kUint64, v));
}
void GgufWriter::set_i64(std::string_view k, int64_t v) {
  set_value(k, scalar_i(GgufType::kInt64, v));
}
void GgufWriter::set_f32(std::string_view k, float v) {
  set_value(k, GgufValue{GgufType::kFloat32, static_cast<double>(v)});
}
void GgufWriter::set_f64(std::string_view k, double v) {
  set_value(k, GgufValue{GgufType::kFloat64, v});
}
void GgufWriter::set_bool(std::string_view k, bool v) {
  set_value(k, GgufValue{GgufType::kBool, v});
}
void GgufWriter::set_string(std::string_view k, std::string_view v) {
  set_value(k, GgufValue{GgufType::kString, std::string(v)});
}

namespace {
// The host is little-endian (x86-64 / aarch64): a span of T is already the packed encoding.
template <class T>
GgufValue make_array(GgufType elem, std::span<const T> v) {
  const std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(v.data()), v.size_bytes());
  return GgufValue{GgufType::kArray, GgufArray::packed(elem, bytes)};
}
}  // namespace

void GgufWriter::set_string_array(std::string_view k, const std::vector<std::string>& v) {
  GgufArray a(GgufType::kString);
  for (const auto& s : v) a.push_back(GgufValue{GgufType::kString, s});
  set_value(k, GgufValue{GgufType::kArray, std::move(a)});
}
void GgufWriter::set_f32_array(std::string_view k, std::span<const float> v) {
  set_value(k, make_array(GgufType::kFloat32, v));
}
void GgufWriter::set_i32_array(std::string_view k, std::span<const int32_t> v) {
  set_value(k, make_array(GgufType::kInt32, v));
}
void GgufWriter::set_u32_array(std::string_view k, std::span<const uint32_t> v) {
  set_value(k, make_array(GgufType::kUint32, v));
}
void GgufWriter::set_i64_array(std::string_view k, std::span<const int64_t> v) {
  set_value(k, make_array(GgufType::kInt64, v));
}

Result<uint64_t> GgufWriter::tensor_bytes(GgmlType type, std::span<const int64_t> shape) {
  const TypeTraits* tt = type_traits(type);
  if (tt == nullptr) return make_error("GGUF writer: unknown tensor type");
  if (shape.empty() || shape.size() > 4) return make_error("GGUF writer: tensors have 1..4 dims");
  uint64_t n = 1;
  for (int64_t d : shape) {
    if (d <= 0) return make_error("GGUF writer: tensor dimension ", std::to_string(d), " <= 0");
    if (__builtin_mul_overflow(n, static_cast<uint64_t>(d), &n)) {
      return make_error("GGUF writer: tensor element count overflows");
    }
  }
  if (shape[0] % tt->block_size != 0) {
    return make_error("GGUF writer: row length ", std::to_string(shape[0]),
                      " is not a multiple of the ", tt->name, " block size ",
                      std::to_string(tt->block_size));
  }
  return n / static_cast<uint64_t>(tt->block_size) * tt->type_size;
}

Status GgufWriter::check_new_tensor(std::string_view name, GgmlType type,
                                    const std::vector<int64_t>& shape, uint64_t* n_bytes) const {
  if (name.empty()) return make_error("GGUF writer: empty tensor name");
  for (const auto& t : tensors_) {
    if (t.name == name) return make_error("GGUF writer: duplicate tensor '", name, "'");
  }
  auto nb = tensor_bytes(type, shape);
  if (!nb) return make_error(nb.message(), " (tensor '", name, "')");
  *n_bytes = *nb;
  return {};
}

Status GgufWriter::add_tensor(std::string_view name, GgmlType type, std::vector<int64_t> shape,
                              std::span<const uint8_t> data) {
  uint64_t n_bytes = 0;
  MOE_TRY(check_new_tensor(name, type, shape, &n_bytes));
  if (data.size() != n_bytes) {
    return make_error("GGUF writer: tensor '", name, "' has ", std::to_string(data.size()),
                      " bytes, expected ", std::to_string(n_bytes));
  }
  tensors_.push_back(PendingTensor{std::string(name),
                                   type,
                                   std::move(shape),
                                   n_bytes,
                                   std::vector<uint8_t>(data.begin(), data.end()),
                                   {}});
  return {};
}

Status GgufWriter::add_tensor(std::string_view name, GgmlType type, std::vector<int64_t> shape,
                              TensorProducer producer) {
  uint64_t n_bytes = 0;
  MOE_TRY(check_new_tensor(name, type, shape, &n_bytes));
  if (!producer) return make_error("GGUF writer: tensor '", name, "' has no producer");
  tensors_.push_back(
      PendingTensor{std::string(name), type, std::move(shape), n_bytes, {}, std::move(producer)});
  return {};
}

Status GgufWriter::write_to(const TensorSink& out) const {
  for (const auto& kv : kvs_) {
    if (kv.key.empty()) return make_error("GGUF writer: empty metadata key");
    MOE_TRY(check_value(kv.value, kv.key));
    if (kv.key == "general.alignment") {
      const auto* a = std::get_if<uint64_t>(&kv.value.v);
      if (a == nullptr || *a != alignment_) {
        return make_error("GGUF writer: general.alignment must be set with set_alignment()");
      }
    }
  }
  Emitter e(out);
  e.put<uint32_t>(0x46554747);  // "GGUF"
  e.put<uint32_t>(kVersion);
  e.put<uint64_t>(tensors_.size());
  e.put<uint64_t>(kvs_.size());
  for (const auto& kv : kvs_) {
    e.put_string(kv.key);
    e.put(static_cast<uint32_t>(kv.value.type));
    emit_value(e, kv.value);
  }
  uint64_t offset = 0;  // relative to the data section
  for (const auto& t : tensors_) {
    e.put_string(t.name);
    e.put<uint32_t>(static_cast<uint32_t>(t.shape.size()));
    for (int64_t d : t.shape) e.put<uint64_t>(static_cast<uint64_t>(d));
    e.put(static_cast<uint32_t>(t.type));
    e.put<uint64_t>(offset);
    offset = align_up(offset + t.n_bytes, alignment_);
  }
  e.zeros(align_up(e.pending(), alignment_) - e.pending());
  MOE_TRY(e.flush());
  for (const auto& t : tensors_) {
    if (t.producer) {
      uint64_t written = 0;
      const TensorSink counting = [&](std::span<const uint8_t> chunk) -> Status {
        written += chunk.size();
        if (written > t.n_bytes) {
          return make_error("GGUF writer: tensor '", t.name, "' producer emitted more than ",
                            std::to_string(t.n_bytes), " bytes");
        }
        return out(chunk);
      };
      MOE_TRY(t.producer(counting));
      if (written != t.n_bytes) {
        return make_error("GGUF writer: tensor '", t.name, "' producer emitted ",
                          std::to_string(written), " bytes, expected ", std::to_string(t.n_bytes));
      }
    } else {
      MOE_TRY(out(t.data));
    }
    e.zeros(align_up(t.n_bytes, alignment_) - t.n_bytes);
    MOE_TRY(e.flush());
  }
  return {};
}

Result<std::vector<uint8_t>> GgufWriter::to_bytes() const {
  std::vector<uint8_t> bytes;
  MOE_TRY(write_to([&](std::span<const uint8_t> c) -> Status {
    bytes.insert(bytes.end(), c.begin(), c.end());
    return {};
  }));
  return bytes;
}

Status GgufWriter::write(const std::string& path) const {
  auto file = AtomicFile::create(path);
  if (!file) return file.error();
  Status st = write_to([&](std::span<const uint8_t> c) { return file->write(c); });
  // Errors of the content (not of the file) say "GGUF writer: ..."; name the file they were for.
  if (!st.ok() && st.message().rfind(file->temp_path(), 0) != 0) {
    return make_error(path, ": ", st.message());
  }
  MOE_TRY(st);
  return file->commit();  // on any error the temporary file is removed
}

}  // namespace moe
