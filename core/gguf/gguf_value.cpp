#include "core/gguf/gguf_value.h"

#include <cstdio>
#include <cstring>
#include <string>
#include <utility>

#include "core/util/check.h"

namespace moe {

const char* gguf_type_name(GgufType t) {
  switch (t) {
    case GgufType::kUint8:
      return "u8";
    case GgufType::kInt8:
      return "i8";
    case GgufType::kUint16:
      return "u16";
    case GgufType::kInt16:
      return "i16";
    case GgufType::kUint32:
      return "u32";
    case GgufType::kInt32:
      return "i32";
    case GgufType::kFloat32:
      return "f32";
    case GgufType::kBool:
      return "bool";
    case GgufType::kString:
      return "string";
    case GgufType::kArray:
      return "array";
    case GgufType::kUint64:
      return "u64";
    case GgufType::kInt64:
      return "i64";
    case GgufType::kFloat64:
      return "f64";
  }
  return "unknown type";
}

size_t gguf_scalar_size(GgufType t) {
  switch (t) {
    case GgufType::kUint8:
    case GgufType::kInt8:
    case GgufType::kBool:
      return 1;
    case GgufType::kUint16:
    case GgufType::kInt16:
      return 2;
    case GgufType::kUint32:
    case GgufType::kInt32:
    case GgufType::kFloat32:
      return 4;
    case GgufType::kUint64:
    case GgufType::kInt64:
    case GgufType::kFloat64:
      return 8;
    case GgufType::kString:
    case GgufType::kArray:
      return 0;
  }
  return 0;
}

namespace {

template <class T>
T load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

template <class T>
void append(std::vector<uint8_t>& out, T v) {
  const auto* p = reinterpret_cast<const uint8_t*>(&v);
  out.insert(out.end(), p, p + sizeof v);
}

// One packed little-endian scalar (the host is little-endian: x86-64 / aarch64).
GgufValue decode_scalar(GgufType t, const uint8_t* p) {
  switch (t) {
    case GgufType::kUint8:
      return {t, uint64_t{load<uint8_t>(p)}};
    case GgufType::kInt8:
      return {t, int64_t{load<int8_t>(p)}};
    case GgufType::kUint16:
      return {t, uint64_t{load<uint16_t>(p)}};
    case GgufType::kInt16:
      return {t, int64_t{load<int16_t>(p)}};
    case GgufType::kUint32:
      return {t, uint64_t{load<uint32_t>(p)}};
    case GgufType::kInt32:
      return {t, int64_t{load<int32_t>(p)}};
    case GgufType::kUint64:
      return {t, load<uint64_t>(p)};
    case GgufType::kInt64:
      return {t, load<int64_t>(p)};
    case GgufType::kFloat32:
      return {t, double{load<float>(p)}};
    case GgufType::kFloat64:
      return {t, load<double>(p)};
    case GgufType::kBool:
      return {t, p[0] != 0};
    case GgufType::kString:
    case GgufType::kArray:
      break;
  }
  MOE_CHECK(false, "decode_scalar: not a scalar type");
  return {};
}

// Appends v's on-disk bytes; false when the variant alternative does not match v.type.
bool encode_scalar(const GgufValue& v, std::vector<uint8_t>& out) {
  const auto* u = std::get_if<uint64_t>(&v.v);
  const auto* i = std::get_if<int64_t>(&v.v);
  const auto* d = std::get_if<double>(&v.v);
  switch (v.type) {
    case GgufType::kUint8:
      if (u) append(out, static_cast<uint8_t>(*u));
      return u != nullptr;
    case GgufType::kUint16:
      if (u) append(out, static_cast<uint16_t>(*u));
      return u != nullptr;
    case GgufType::kUint32:
      if (u) append(out, static_cast<uint32_t>(*u));
      return u != nullptr;
    case GgufType::kUint64:
      if (u) append(out, *u);
      return u != nullptr;
    case GgufType::kInt8:
      if (i) append(out, static_cast<int8_t>(*i));
      return i != nullptr;
    case GgufType::kInt16:
      if (i) append(out, static_cast<int16_t>(*i));
      return i != nullptr;
    case GgufType::kInt32:
      if (i) append(out, static_cast<int32_t>(*i));
      return i != nullptr;
    case GgufType::kInt64:
      if (i) append(out, *i);
      return i != nullptr;
    case GgufType::kFloat32:
      if (d) append(out, static_cast<float>(*d));
      return d != nullptr;
    case GgufType::kFloat64:
      if (d) append(out, *d);
      return d != nullptr;
    case GgufType::kBool: {
      const auto* b = std::get_if<bool>(&v.v);
      if (b) out.push_back(*b ? 1 : 0);
      return b != nullptr;
    }
    case GgufType::kString:
    case GgufType::kArray:
      break;
  }
  return false;
}

}  // namespace

GgufArray::GgufArray() = default;
GgufArray::GgufArray(GgufType elem_type) : elem_type_(elem_type) {}

GgufArray::GgufArray(const GgufArray& other)
    : elem_type_(other.elem_type_),
      size_(other.size_),
      n_bytes_(other.n_bytes_),
      owned_(other.base(), other.base() + other.n_bytes_),
      offsets_(other.offsets_),
      nested_(other.nested_) {}

GgufArray& GgufArray::operator=(const GgufArray& other) {
  if (this != &other) *this = GgufArray(other);
  return *this;
}

GgufArray::GgufArray(GgufArray&& other) noexcept
    : elem_type_(other.elem_type_),
      size_(std::exchange(other.size_, 0)),
      external_(std::exchange(other.external_, nullptr)),
      n_bytes_(std::exchange(other.n_bytes_, 0)),
      owned_(std::move(other.owned_)),
      offsets_(std::move(other.offsets_)),
      nested_(std::move(other.nested_)) {}

GgufArray& GgufArray::operator=(GgufArray&& other) noexcept {
  if (this != &other) {
    elem_type_ = other.elem_type_;
    size_ = std::exchange(other.size_, 0);
    external_ = std::exchange(other.external_, nullptr);
    n_bytes_ = std::exchange(other.n_bytes_, 0);
    owned_ = std::move(other.owned_);
    offsets_ = std::move(other.offsets_);
    nested_ = std::move(other.nested_);
  }
  return *this;
}

GgufArray::~GgufArray() = default;

GgufArray GgufArray::packed(GgufType elem, std::span<const uint8_t> bytes) {
  const size_t sz = gguf_scalar_size(elem);
  MOE_CHECK(sz > 0 && bytes.size() % sz == 0, "GgufArray::packed: not a whole number of scalars");
  GgufArray a(elem);
  a.owned_.assign(bytes.begin(), bytes.end());
  a.n_bytes_ = bytes.size();
  a.size_ = bytes.size() / sz;
  return a;
}

GgufArray GgufArray::view_packed(GgufType elem, const uint8_t* data, uint64_t count) {
  GgufArray a(elem);
  a.external_ = data;
  a.size_ = static_cast<size_t>(count);
  a.n_bytes_ = static_cast<size_t>(count * gguf_scalar_size(elem));
  return a;
}

GgufArray GgufArray::view_strings(const uint8_t* data, uint64_t n_bytes,
                                  std::vector<uint64_t> offsets) {
  GgufArray a(GgufType::kString);
  a.external_ = data;
  a.size_ = offsets.size();
  a.n_bytes_ = static_cast<size_t>(n_bytes);
  a.offsets_ = std::move(offsets);
  return a;
}

std::string_view GgufArray::string_at(size_t k) const {
  MOE_CHECK(elem_type_ == GgufType::kString && k < size_, "GgufArray::string_at: bad index");
  const uint8_t* p = base() + offsets_[k];
  uint64_t len = 0;
  std::memcpy(&len, p, sizeof len);
  return {reinterpret_cast<const char*>(p + sizeof len), static_cast<size_t>(len)};
}

GgufValue GgufArray::at(size_t k) const {
  MOE_CHECK(k < size_, "GgufArray::at: index out of range");
  if (elem_type_ == GgufType::kArray) return nested_[k];
  if (elem_type_ == GgufType::kString) return GgufValue{elem_type_, std::string(string_at(k))};
  return decode_scalar(elem_type_, base() + k * gguf_scalar_size(elem_type_));
}

void GgufArray::make_owned() {
  if (external_ == nullptr) return;
  owned_.assign(external_, external_ + n_bytes_);
  external_ = nullptr;
}

void GgufArray::push_back(GgufValue v) {
  MOE_CHECK(v.type == elem_type_, "GgufArray::push_back: element type differs from the array's");
  if (elem_type_ == GgufType::kArray) {
    MOE_CHECK(std::holds_alternative<GgufArray>(v.v), "GgufArray::push_back: not an array");
    nested_.push_back(std::move(v));
    ++size_;
    return;
  }
  make_owned();
  if (elem_type_ == GgufType::kString) {
    const auto* s = std::get_if<std::string>(&v.v);
    MOE_CHECK(s != nullptr, "GgufArray::push_back: a string element holds no string");
    offsets_.push_back(owned_.size());
    append(owned_, static_cast<uint64_t>(s->size()));
    owned_.insert(owned_.end(), s->begin(), s->end());
  } else {
    MOE_CHECK(encode_scalar(v, owned_), "GgufArray::push_back: value does not match its type");
  }
  n_bytes_ = owned_.size();
  ++size_;
}

void GgufArray::truncate(size_t n) {
  MOE_CHECK(n <= size_, "GgufArray::truncate: cannot grow");
  if (elem_type_ == GgufType::kArray) {
    nested_.resize(n);
  } else if (elem_type_ == GgufType::kString) {
    n_bytes_ = n < size_ ? offsets_[n] : n_bytes_;
    offsets_.resize(n);
  } else {
    n_bytes_ = n * gguf_scalar_size(elem_type_);
  }
  if (external_ == nullptr) owned_.resize(n_bytes_);
  size_ = n;
}

std::string gguf_value_to_string(const GgufValue& v, size_t max_items) {
  if (const auto* u = std::get_if<uint64_t>(&v.v)) return std::to_string(*u);
  if (const auto* i = std::get_if<int64_t>(&v.v)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&v.v)) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.9g", *d);
    return buf;
  }
  if (const auto* b = std::get_if<bool>(&v.v)) return *b ? "true" : "false";
  if (const auto* s = std::get_if<std::string>(&v.v)) {
    constexpr size_t kMaxChars = 80;
    std::string out = "\"";
    out += s->size() > kMaxChars ? s->substr(0, kMaxChars) + "..." : *s;
    out += "\"";
    return out;
  }
  const auto& arr = std::get<GgufArray>(v.v);
  std::string out = "[";
  for (size_t k = 0; k < arr.size() && k < max_items; ++k) {
    if (k) out += ", ";
    out += gguf_value_to_string(arr.at(k), max_items);
  }
  if (arr.size() > max_items) out += ", ...";
  out += "] (" + std::to_string(arr.size()) + " " + gguf_type_name(arr.elem_type()) + ")";
  return out;
}

}  // namespace moe
