#pragma once
// Replaces a file whole or not at all, without trusting the directory it lives in.
//   1. the data goes to a new temporary file in the target's directory, created with
//      O_CREAT | O_EXCL | O_NOFOLLOW under a random name: a file or symlink planted at that
//      name makes the open fail (it is retried under another name), so a write can never be
//      redirected through a link to another file;
//   2. commit(): fsync the data, rename() over the target (a planted symlink at the target is
//      replaced by the file, never followed), fsync the directory so the rename survives a
//      power cut;
//   3. destroyed without commit(): the temporary file is removed.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "core/util/status.h"

namespace moe {

class AtomicFile {
 public:
  /// Creates the temporary file beside `path` ("<path>.tmp.<16 random hex digits>").
  static Result<AtomicFile> create(const std::string& path);
  AtomicFile(AtomicFile&& other) noexcept;
  AtomicFile& operator=(AtomicFile&& other) noexcept;
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  ~AtomicFile();  ///< removes the temporary file unless commit() succeeded

  /// Appends bytes (buffered). Errors name the temporary file.
  Status write(std::span<const uint8_t> bytes);
  /// Flushes, fsyncs, renames onto the target and fsyncs the directory.
  Status commit();

  const std::string& path() const { return path_; }
  const std::string& temp_path() const { return tmp_; }

  /// One exclusive, no-follow creation attempt of `path` with mode 0666 & ~umask (exposed for
  /// tests): an Error naming the file when it exists, whatever it is (file, link, directory).
  static Result<int> create_exclusive(const std::string& path);

 private:
  AtomicFile() = default;
  Status flush();
  void discard();

  std::string path_, tmp_;
  int fd_ = -1;
  std::string buf_;  ///< pending bytes, written in ~1 MiB blocks
};

/// Replaces `path` with `text` whole (create, write, commit). Errors name the file.
Status write_file_atomic(const std::string& path, std::string_view text);

}  // namespace moe
