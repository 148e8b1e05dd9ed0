// GgufFile: mapping the file, lifetime, and typed metadata lookups. Parsing is in gguf_parse.cpp.
#include "core/gguf/gguf_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <limits>
#include <new>

namespace moe {
namespace {

// The header's allocations are budgeted (gguf_cursor.h), so this only happens when the machine
// itself is out of memory; the caller still gets an Error naming the file, never an exception.
Error out_of_memory(const std::string& path) {
  return make_error(path, ": out of memory while reading the GGUF header");
}

}  // namespace

Result<std::unique_ptr<GgufFile>> GgufFile::open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return make_error(path, ": cannot open: ", std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int e = errno;
    ::close(fd);
    return make_error(path, ": cannot stat: ", std::strerror(e));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return make_error(path, ": not a regular file");
  }
  if (st.st_size == 0) {
    ::close(fd);
    return make_error(path, ": empty file, not a GGUF file");
  }
  const size_t len = static_cast<size_t>(st.st_size);
  void* map = ::mmap(nullptr, len, PROT_READ, MAP_PRIVATE, fd, 0);
  if (map == MAP_FAILED) {
    const int e = errno;
    ::close(fd);
    return make_error(path, ": cannot mmap ", std::to_string(len), " bytes: ", std::strerror(e));
  }
  std::unique_ptr<GgufFile> f;
  try {
    f.reset(new GgufFile());
  } catch (const std::bad_alloc&) {
    ::munmap(map, len);
    ::close(fd);
    return out_of_memory(path);
  }
  f->fd_ = fd;  // owned by f from here: unmapped and closed by its destructor
  f->map_ = map;
  f->map_len_ = len;
  f->bytes_ = std::span<const uint8_t>(static_cast<const uint8_t*>(map), len);
  try {
    f->path_ = path;
    MOE_TRY(f->parse_all());
  } catch (const std::bad_alloc&) {
    return out_of_memory(path);
  }
  return f;
}

Result<std::unique_ptr<GgufFile>> GgufFile::parse(std::span<const uint8_t> bytes,
                                                  std::string name) {
  try {
    std::unique_ptr<GgufFile> f(new GgufFile());
    f->path_ = name;
    f->bytes_ = bytes;
    MOE_TRY(f->parse_all());
    return f;
  } catch (const std::bad_alloc&) {
    return out_of_memory(name);
  }
}

GgufFile::~GgufFile() {
  if (map_ != nullptr) ::munmap(map_, map_len_);
  if (fd_ >= 0) ::close(fd_);
}

const GgufValue* GgufFile::find(std::string_view key) const {
  auto it = kv_index_.find(key);
  return it == kv_index_.end() ? nullptr : &kvs_[it->second].value;
}

const TensorInfo* GgufFile::find_tensor(std::string_view name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

Error GgufFile::key_error(std::string_view key, const GgufValue* v, const char* expected) const {
  if (v == nullptr) return make_error(path_, ": missing metadata key '", key, "'");
  std::string found = gguf_type_name(v->type);
  if (const auto* a = std::get_if<GgufArray>(&v->v)) {
    found += std::string(" of ") + gguf_type_name(a->elem_type());
  }
  return make_error(path_, ": metadata key '", key, "' has type ", found, ", expected ", expected);
}

namespace {

// An integer metadata value as sign + magnitude (covers both u64 and i64 exactly).
struct IntValue {
  bool ok = false, negative = false;
  uint64_t magnitude = 0;
};

IntValue as_int(const GgufValue& v) {
  if (const auto* u = std::get_if<uint64_t>(&v.v)) return {true, false, *u};
  if (const auto* i = std::get_if<int64_t>(&v.v)) {
    // -(i + 1) + 1 avoids negating INT64_MIN.
    if (*i < 0) return {true, true, static_cast<uint64_t>(-(*i + 1)) + 1};
    return {true, false, static_cast<uint64_t>(*i)};
  }
  return {};
}

double to_double(const IntValue& x) {
  const double m = static_cast<double>(x.magnitude);
  return x.negative ? -m : m;
}

bool numeric_elem(GgufType t) {
  return t != GgufType::kString && t != GgufType::kArray && t != GgufType::kBool;
}

}  // namespace

Result<std::string> GgufFile::get_string(std::string_view key) const {
  const GgufValue* v = find(key);
  if (v == nullptr || v->type != GgufType::kString) return key_error(key, v, "string");
  return std::get<std::string>(v->v);
}

Result<uint64_t> GgufFile::get_uint(std::string_view key) const {
  const GgufValue* v = find(key);
  const IntValue x = v ? as_int(*v) : IntValue{};
  if (!x.ok) return key_error(key, v, "an unsigned integer");
  if (x.negative) {
    return make_error(path_, ": metadata key '", key, "' is negative, expected unsigned");
  }
  return x.magnitude;
}

Result<int64_t> GgufFile::get_int(std::string_view key) const {
  const GgufValue* v = find(key);
  const IntValue x = v ? as_int(*v) : IntValue{};
  if (!x.ok) return key_error(key, v, "an integer");
  if (x.negative) return std::get<int64_t>(v->v);
  if (x.magnitude > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return make_error(path_, ": metadata key '", key, "' does not fit in int64");
  }
  return static_cast<int64_t>(x.magnitude);
}

Result<double> GgufFile::get_float(std::string_view key) const {
  const GgufValue* v = find(key);
  if (v != nullptr) {
    if (const auto* d = std::get_if<double>(&v->v)) return *d;
    const IntValue x = as_int(*v);
    if (x.ok) return to_double(x);
  }
  return key_error(key, v, "a number");
}

Result<bool> GgufFile::get_bool(std::string_view key) const {
  const GgufValue* v = find(key);
  if (v == nullptr || v->type != GgufType::kBool) return key_error(key, v, "bool");
  return std::get<bool>(v->v);
}

Result<std::vector<std::string>> GgufFile::get_string_array(std::string_view key) const {
  const GgufValue* v = find(key);
  const auto* a = v ? std::get_if<GgufArray>(&v->v) : nullptr;
  if (a == nullptr || a->elem_type() != GgufType::kString) {
    return key_error(key, v, "array of string");
  }
  std::vector<std::string> out;
  out.reserve(a->size());
  for (size_t k = 0; k < a->size(); ++k) out.emplace_back(a->string_at(k));
  return out;
}

Result<std::vector<float>> GgufFile::get_float_array(std::string_view key) const {
  const GgufValue* v = find(key);
  const auto* a = v ? std::get_if<GgufArray>(&v->v) : nullptr;
  if (a == nullptr || !numeric_elem(a->elem_type())) return key_error(key, v, "array of numbers");
  std::vector<float> out;
  out.reserve(a->size());
  for (size_t k = 0; k < a->size(); ++k) {
    const GgufValue it = a->at(k);
    if (const auto* d = std::get_if<double>(&it.v)) {
      out.push_back(static_cast<float>(*d));
    } else {
      out.push_back(static_cast<float>(to_double(as_int(it))));
    }
  }
  return out;
}

Result<std::vector<int32_t>> GgufFile::get_int_array(std::string_view key) const {
  const GgufValue* v = find(key);
  const auto* a = v ? std::get_if<GgufArray>(&v->v) : nullptr;
  if (a == nullptr || !numeric_elem(a->elem_type()) || a->elem_type() == GgufType::kFloat32 ||
      a->elem_type() == GgufType::kFloat64) {
    return key_error(key, v, "array of integers");
  }
  std::vector<int32_t> out;
  out.reserve(a->size());
  for (size_t k = 0; k < a->size(); ++k) {
    const IntValue x = as_int(a->at(k));
    const uint64_t limit = x.negative ? 0x80000000ull : 0x7fffffffull;
    if (x.magnitude > limit) {
      return make_error(path_, ": metadata array '", key, "' holds a value outside int32");
    }
    out.push_back(x.negative ? static_cast<int32_t>(-static_cast<int64_t>(x.magnitude))
                             : static_cast<int32_t>(x.magnitude));
  }
  return out;
}

Result<uint64_t> GgufFile::get_uint_or(std::string_view key, uint64_t fallback) const {
  if (!has(key)) return fallback;
  return get_uint(key);
}

Result<double> GgufFile::get_float_or(std::string_view key, double fallback) const {
  if (!has(key)) return fallback;
  return get_float(key);
}

}  // namespace moe
