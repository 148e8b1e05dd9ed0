#pragma once
// Internal to the GGUF reader: a bounds-checked little-endian cursor over the file bytes.
// Every read checks the remaining length first, so a truncated or hostile file yields an Error
// naming the file, what was being read and where; nothing reads past the end.
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

#include "core/util/status.h"

namespace moe {

class GgufCursor {
 public:
  GgufCursor(std::span<const uint8_t> bytes, const std::string& name)
      : bytes_(bytes), name_(name) {}

  uint64_t pos() const { return pos_; }
  uint64_t size() const { return bytes_.size(); }
  uint64_t remaining() const { return bytes_.size() - pos_; }
  const std::string& name() const { return name_; }

  /// "<file>: <parts...>"
  template <class... Parts>
  Error error(Parts&&... parts) const {
    return make_error(name_, ": ", std::forward<Parts>(parts)...);
  }

  Status need(uint64_t n, std::string_view what) const {
    if (n <= remaining()) return {};
    return error("truncated file: ", what, " at byte ", std::to_string(pos_), " needs ",
                 std::to_string(n), " bytes but only ", std::to_string(remaining()), " remain");
  }

  /// Reads one little-endian scalar (the host is little-endian: x86-64 / aarch64).
  template <class T>
  Result<T> read(std::string_view what) {
    static_assert(std::is_trivially_copyable_v<T>);
    MOE_TRY(need(sizeof(T), what));
    T v;
    std::memcpy(&v, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }

  /// u64 length + bytes. The length is checked against the remaining bytes before allocating.
  Result<std::string> read_string(std::string_view what) {
    auto len = read<uint64_t>(what);
    if (!len) return len.error();
    if (*len > remaining()) {
      return error("length of ", what, " at byte ", std::to_string(pos_ - 8), " is ",
                   std::to_string(*len), " but only ", std::to_string(remaining()),
                   " bytes remain in the file");
    }
    std::string s(reinterpret_cast<const char*>(bytes_.data() + pos_), *len);
    pos_ += *len;
    return s;
  }

 private:
  std::span<const uint8_t> bytes_;
  const std::string& name_;
  uint64_t pos_ = 0;
};

}  // namespace moe
