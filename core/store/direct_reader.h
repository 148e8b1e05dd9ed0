#pragma once
// Reads byte ranges of the model file past the page cache, for the tiered store's disk tier:
// the file is opened a second time with O_DIRECT (the GGUF mapping is never touched for expert
// bytes, or the page cache would fill and the RAM budget would be a lie). O_DIRECT needs the
// buffer address, file offset and length aligned to the device's logical block; we read the
// aligned superset [align_down(off), align_up(off + len)) into an aligned buffer and the caller
// points its views at buffer + (off - align_down(off)). Where O_DIRECT is refused (tmpfs,
// some FUSE file systems) the reader falls back to buffered pread followed by
// posix_fadvise(DONTNEED) on the range, and says so in note().
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "core/util/status.h"

namespace moe {

class DirectReader {
 public:
  /// The alignment of offsets, lengths and buffers (a multiple of every common logical block).
  static constexpr uint64_t kAlign = 4096;
  static uint64_t align_down(uint64_t x) { return x & ~(kAlign - 1); }
  static uint64_t align_up(uint64_t x) { return (x + kAlign - 1) & ~(kAlign - 1); }
  /// Bytes of the aligned superset read for [offset, offset + len).
  static uint64_t span_bytes(uint64_t offset, uint64_t len) {
    return align_up(offset + len) - align_down(offset);
  }

  /// Opens `path` for reading; `direct` false forces the buffered fallback (tests).
  static Result<std::unique_ptr<DirectReader>> open(const std::string& path, bool direct = true);
  ~DirectReader();
  DirectReader(const DirectReader&) = delete;
  DirectReader& operator=(const DirectReader&) = delete;

  /// Reads the aligned superset of [offset, offset + len) into `buf` (kAlign-aligned, at least
  /// span_bytes(offset, len) long). Thread-safe (pread). Errors name the range and errno; a
  /// range past the end of the file is a short read.
  Status read(uint64_t offset, uint64_t len, uint8_t* buf) const;
  bool direct() const { return direct_.load(std::memory_order_relaxed); }
  /// "O_DIRECT", or "buffered + fadvise(DONTNEED): O_DIRECT refused (Invalid argument)".
  const std::string& note() const { return note_; }
  uint64_t file_size() const { return size_; }
  int fd() const { return fd_; }  ///< for posix_fadvise on the same file

 private:
  DirectReader() = default;
  Status fall_back(int err) const;

  std::string path_;
  mutable int fd_ = -1;
  mutable std::atomic<bool> direct_{false};
  mutable std::string note_;
  uint64_t size_ = 0;
};

}  // namespace moe
