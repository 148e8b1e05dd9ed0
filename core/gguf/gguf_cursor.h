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

  /// A description of what is being read, built only when it is needed for an error message:
  /// `what` is text or a callable returning text (per-element reads must not build strings).
  template <class What>
  static std::string describe(const What& what) {
    if constexpr (std::is_invocable_v<const What&>) {
      return what();
    } else {
      return std::string(what);
    }
  }

  template <class What>
  Status need(uint64_t n, const What& what) const {
    if (n <= remaining()) return {};
    return error("truncated file: ", describe(what), " at byte ", std::to_string(pos_), " needs ",
                 std::to_string(n), " bytes but only ", std::to_string(remaining()), " remain");
  }

  /// Reads one little-endian scalar (the host is little-endian: x86-64 / aarch64).
  template <class T, class What>
  Result<T> read(const What& what) {
    static_assert(std::is_trivially_copyable_v<T>);
    if (sizeof(T) > remaining()) return need(sizeof(T), what).error();
    T v;
    std::memcpy(&v, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }

  /// u64 length + bytes, length checked against the remaining bytes. The bytes are not copied:
  /// the view points into the file.
  template <class What>
  Result<std::string_view> read_string_view(const What& what) {
    auto len = read<uint64_t>(what);
    if (!len) return len.error();
    if (*len > remaining()) {
      return error("length of ", describe(what), " at byte ", std::to_string(pos_ - 8), " is ",
                   std::to_string(*len), " but only ", std::to_string(remaining()),
                   " bytes remain in the file");
    }
    std::string_view s(reinterpret_cast<const char*>(bytes_.data() + pos_), *len);
    pos_ += *len;
    return s;
  }

  /// The bytes at the current position (valid while the file is).
  const uint8_t* here() const { return bytes_.data() + pos_; }
  /// Moves past n bytes; n <= remaining() (checked by the caller).
  void skip(uint64_t n) { pos_ += n; }

 private:
  std::span<const uint8_t> bytes_;
  const std::string& name_;
  uint64_t pos_ = 0;
};

/// The heap a parsed header will hold (keys, strings, string offsets, nested array values, the
/// tensor directory), charged before each allocation: whatever a header says, parsing it costs
/// at most kMaxHeaderMemory (plus the pages of the file itself). Real models need a few MB:
/// Llama 3's 128k tokens and 280k merges are 3.3 MB of string offsets.
class GgufMemoryBudget {
 public:
  static constexpr uint64_t kMaxHeaderMemory = uint64_t{64} << 20;

  template <class What>
  Status charge(const GgufCursor& cur, uint64_t bytes, const What& what) {
    if (bytes <= kMaxHeaderMemory - used_) {
      used_ += bytes;
      return {};
    }
    return cur.error(GgufCursor::describe(what), " at byte ", std::to_string(cur.pos()),
                     " would take the parsed header past ", std::to_string(kMaxHeaderMemory >> 20),
                     " MiB of memory");
  }
  uint64_t used() const { return used_; }

 private:
  uint64_t used_ = 0;
};

}  // namespace moe
