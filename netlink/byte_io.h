#pragma once
// Little-endian fields in a byte buffer, for the frame payloads (docs/protocol.md). The reader
// never reads past its span: a short or hostile payload makes it fail (ok() false, with the
// field it was reading), never crash; every count it returns is bounded by the bytes left.
#include <bit>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace moe::net {

static_assert(std::endian::native == std::endian::little, "the wire format is little-endian");

class ByteWriter {
 public:
  explicit ByteWriter(std::vector<uint8_t>& out) : out_(out) {}
  template <class T>
  void put(T v) {
    static_assert(std::is_trivially_copyable_v<T>);
    const size_t at = out_.size();
    out_.resize(at + sizeof(T));
    std::memcpy(out_.data() + at, &v, sizeof(T));
  }
  void bytes(std::span<const uint8_t> b) { out_.insert(out_.end(), b.begin(), b.end()); }
  /// n more bytes at the end, to be written through the pointer (one resize for a whole row
  /// instead of one per element).
  uint8_t* extend(size_t n) {
    const size_t at = out_.size();
    out_.resize(at + n);
    return out_.data() + at;
  }
  /// u32 length, then the bytes.
  void str(std::string_view s) {
    put(static_cast<uint32_t>(s.size()));
    bytes({reinterpret_cast<const uint8_t*>(s.data()), s.size()});
  }

 private:
  std::vector<uint8_t>& out_;
};

class ByteReader {
 public:
  explicit ByteReader(std::span<const uint8_t> in) : in_(in) {}

  /// Reads a T, or fails naming `what` (the reader then stays failed and returns zeros).
  template <class T>
  T get(const char* what) {
    static_assert(std::is_trivially_copyable_v<T>);
    T v{};
    if (!need(sizeof(T), what)) return v;
    std::memcpy(&v, in_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  /// n bytes as a view into the input (empty on failure).
  std::span<const uint8_t> bytes(size_t n, const char* what) {
    if (!need(n, what)) return {};
    const auto s = in_.subspan(pos_, n);
    pos_ += n;
    return s;
  }
  /// A u32-length string of at most max_len bytes.
  std::string str(const char* what, size_t max_len) {
    const uint32_t n = get<uint32_t>(what);
    if (ok_ && n > max_len) {
      fail(what, "is longer than its limit");
      return {};
    }
    const auto b = bytes(n, what);
    return {reinterpret_cast<const char*>(b.data()), b.size()};
  }

  bool ok() const { return ok_; }
  /// The first failure: "truncated at <field>" or "<field> is ...".
  const std::string& error() const { return error_; }
  size_t remaining() const { return ok_ ? in_.size() - pos_ : 0; }
  /// Marks the payload bad (range checks of decoded values).
  void fail(const char* what, const char* why) {
    if (!ok_) return;
    ok_ = false;
    error_ = std::string(what) + " " + why;
  }

 private:
  bool need(size_t n, const char* what) {
    if (!ok_) return false;
    if (in_.size() - pos_ < n) {
      ok_ = false;
      error_ = std::string("truncated at ") + what;
      return false;
    }
    return true;
  }
  std::span<const uint8_t> in_;
  size_t pos_ = 0;
  bool ok_ = true;
  std::string error_;
};

}  // namespace moe::net
