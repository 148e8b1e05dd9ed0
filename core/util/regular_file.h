#pragma once
// Input files a person names (a text to score, a scenario JSON): only regular files, read with a
// size limit. `/dev/zero` would be read until memory runs out, a FIFO would block the open
// forever, a directory reads as nothing; each is refused at once with a message that says what
// the path is. The open never blocks (O_NONBLOCK) and the type is checked on the opened file
// (fstat), so the check and the read see the same file.
#include <cstdint>
#include <string>
#include <string_view>

#include "core/util/status.h"

namespace moe {

/// A regular file opened for reading. Move-only; closes on destruction.
class RegularFile {
 public:
  /// Opens `path`; an error names it and `what` ("text file") and says why: missing,
  /// unreadable, or not a regular file (a FIFO, a device, a directory, a socket).
  static Result<RegularFile> open(const std::string& path, std::string_view what);
  RegularFile(RegularFile&& o) noexcept;
  RegularFile& operator=(RegularFile&& o) noexcept;
  RegularFile(const RegularFile&) = delete;
  RegularFile& operator=(const RegularFile&) = delete;
  ~RegularFile();

  const std::string& path() const { return path_; }
  /// Size in bytes when opened.
  uint64_t size() const { return size_; }
  /// Up to `n` bytes from `offset` (fewer at the end of the file).
  Result<std::string> read(uint64_t offset, uint64_t n) const;

 private:
  RegularFile() = default;
  std::string path_;
  int fd_ = -1;
  uint64_t size_ = 0;
};

/// "12.3 MiB" (one decimal; bytes below 1 KiB as "512 bytes").
std::string format_bytes(uint64_t bytes);

/// The whole of a regular file of at most `max_bytes`; a larger file is refused before
/// anything is read ("x.json: the scenario file is 3.0 MiB; the limit is 1.0 MiB"), and so is a
/// file that grows past the limit while it is read.
Result<std::string> read_regular_file(const std::string& path, uint64_t max_bytes,
                                      std::string_view what);

/// Standard input (a pipe or a file), at most `max_bytes`; more is an error naming the limit.
Result<std::string> read_stdin_capped(uint64_t max_bytes);

}  // namespace moe
