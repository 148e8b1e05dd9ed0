#include "core/util/regular_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

namespace moe {
namespace {

const char* kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

// Reads from `fd` until `n` bytes, the end, or an error; pread when `offset` >= 0.
Result<std::string> read_fd(int fd, int64_t offset, uint64_t n, const std::string& name) {
  std::string out;
  constexpr uint64_t kStep = 1 << 20;
  while (out.size() < n) {
    const uint64_t want = std::min<uint64_t>(kStep, n - out.size());
    const size_t old = out.size();
    out.resize(old + want);
    const ssize_t got =
        offset >= 0 ? ::pread(fd, out.data() + old, want, offset + static_cast<int64_t>(old))
                    : ::read(fd, out.data() + old, want);
    if (got < 0 && errno == EINTR) {
      out.resize(old);
      continue;
    }
    if (got < 0) return make_error(name, ": read failed: ", std::strerror(errno));
    out.resize(old + static_cast<size_t>(got));
    if (got == 0) break;
  }
  return out;
}

std::string too_big(const std::string& path, std::string_view what, uint64_t size,
                    uint64_t max_bytes, bool at_least) {
  return path + ": the " + std::string(what) + " is " + (at_least ? "more than " : "") +
         format_bytes(size) + "; the limit is " + format_bytes(max_bytes);
}

}  // namespace

std::string format_bytes(uint64_t bytes) {
  if (bytes < 1024) return std::to_string(bytes) + " bytes";
  const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes) / 1024;
  int u = 0;
  while (v >= 1024 && u < 3) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
  return buf;
}

Result<RegularFile> RegularFile::open(const std::string& path, std::string_view what) {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    return make_error(path, ": cannot open ", std::string(what), ": ", std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int e = errno;
    ::close(fd);
    return make_error(path, ": cannot open ", std::string(what), ": ", std::strerror(e));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return make_error(path, ": is ", kind_of(st.st_mode), ", not a regular file; give a ",
                      std::string(what));
  }
  RegularFile f;
  f.path_ = path;
  f.fd_ = fd;
  f.size_ = static_cast<uint64_t>(st.st_size);
  return f;
}

RegularFile::RegularFile(RegularFile&& o) noexcept
    : path_(std::move(o.path_)), fd_(std::exchange(o.fd_, -1)), size_(o.size_) {}

RegularFile& RegularFile::operator=(RegularFile&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    path_ = std::move(o.path_);
    fd_ = std::exchange(o.fd_, -1);
    size_ = o.size_;
  }
  return *this;
}

RegularFile::~RegularFile() {
  if (fd_ >= 0) ::close(fd_);
}

Result<std::string> RegularFile::read(uint64_t offset, uint64_t n) const {
  return read_fd(fd_, static_cast<int64_t>(offset), n, path_);
}

Result<std::string> read_regular_file(const std::string& path, uint64_t max_bytes,
                                      std::string_view what) {
  auto f = RegularFile::open(path, what);
  if (!f.ok()) return f.error();
  if (f->size() > max_bytes) return Error{too_big(path, what, f->size(), max_bytes, false)};
  // One byte past the limit tells a file that grew while we read it.
  auto text = f->read(0, max_bytes + 1);
  if (text.ok() && text->size() > max_bytes) {
    return Error{too_big(path, what, max_bytes, max_bytes, true)};
  }
  return text;
}

Result<std::string> read_stdin_capped(uint64_t max_bytes) {
  auto text = read_fd(STDIN_FILENO, -1, max_bytes + 1, "standard input");
  if (text.ok() && text->size() > max_bytes) {
    return make_error("standard input: more than ", format_bytes(max_bytes), "; the limit is ",
                      format_bytes(max_bytes));
  }
  return text;
}

}  // namespace moe
