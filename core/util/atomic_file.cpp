#include "core/util/atomic_file.h"

#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <utility>

namespace moe {
namespace {

constexpr size_t kBufferBytes = size_t{1} << 20;
constexpr int kMaxAttempts = 16;  // a collision with a random 64-bit name means a hostile dir

uint64_t random_u64() {
  uint64_t v = 0;
  if (::getrandom(&v, sizeof v, 0) == static_cast<ssize_t>(sizeof v)) return v;
  std::random_device rd;  // getrandom unavailable (old kernel, seccomp): the library's source
  return (static_cast<uint64_t>(rd()) << 32) ^ rd();
}

std::string errno_text(int e) {
  return std::strerror(e);
}

int open_exclusive(const std::string& path) {
  return ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
}

}  // namespace

Result<int> AtomicFile::create_exclusive(const std::string& path) {
  const int fd = open_exclusive(path);
  if (fd < 0) return make_error(path, ": cannot create: ", errno_text(errno));
  return fd;
}

Result<AtomicFile> AtomicFile::create(const std::string& path) {
  AtomicFile f;
  f.path_ = path;
  for (int attempt = 0;; ++attempt) {
    char suffix[24];
    std::snprintf(suffix, sizeof suffix, ".tmp.%016llx",
                  static_cast<unsigned long long>(random_u64()));
    const std::string tmp = path + suffix;
    const int fd = open_exclusive(tmp);
    if (fd >= 0) {
      f.tmp_ = tmp;
      f.fd_ = fd;
      return f;
    }
    const int e = errno;
    if (e != EEXIST || attempt + 1 >= kMaxAttempts) {
      return make_error(path, ": cannot create a temporary file ", tmp, ": ", errno_text(e));
    }
  }
}

AtomicFile::AtomicFile(AtomicFile&& other) noexcept
    : path_(std::move(other.path_)),
      tmp_(std::move(other.tmp_)),
      fd_(std::exchange(other.fd_, -1)),
      buf_(std::move(other.buf_)) {}

AtomicFile& AtomicFile::operator=(AtomicFile&& other) noexcept {
  if (this != &other) {
    discard();
    path_ = std::move(other.path_);
    tmp_ = std::move(other.tmp_);
    fd_ = std::exchange(other.fd_, -1);
    buf_ = std::move(other.buf_);
  }
  return *this;
}

AtomicFile::~AtomicFile() {
  discard();
}

void AtomicFile::discard() {
  if (fd_ < 0) return;
  ::close(fd_);
  fd_ = -1;
  ::unlink(tmp_.c_str());  // our own file: created O_EXCL, never a link
}

Status AtomicFile::flush() {
  size_t done = 0;
  while (done < buf_.size()) {
    const ssize_t n = ::write(fd_, buf_.data() + done, buf_.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return make_error(tmp_, ": write failed: ", errno_text(errno));
    }
    done += static_cast<size_t>(n);
  }
  buf_.clear();
  return {};
}

Status AtomicFile::write(std::span<const uint8_t> bytes) {
  if (fd_ < 0) return make_error(path_, ": write after commit or failure");
  buf_.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  if (buf_.size() >= kBufferBytes) return flush();
  return {};
}

Status AtomicFile::commit() {
  if (fd_ < 0) return make_error(path_, ": commit after commit or failure");
  MOE_TRY(flush());
  if (::fsync(fd_) != 0) return make_error(tmp_, ": fsync failed: ", errno_text(errno));
  if (::close(std::exchange(fd_, -1)) != 0) {
    const int e = errno;
    ::unlink(tmp_.c_str());
    return make_error(tmp_, ": close failed: ", errno_text(e));
  }
  if (std::rename(tmp_.c_str(), path_.c_str()) != 0) {
    const int e = errno;
    ::unlink(tmp_.c_str());
    return make_error(path_, ": cannot rename ", tmp_, ": ", errno_text(e));
  }
  // The rename is durable only once the directory entry is on disk.
  const std::filesystem::path parent = std::filesystem::path(path_).parent_path();
  const std::string dir = parent.empty() ? std::string(".") : parent.string();
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return make_error(dir, ": cannot open the directory to sync it: ", errno_text(errno));
  const bool synced = ::fsync(dfd) == 0;
  const int e = errno;
  ::close(dfd);
  if (!synced) return make_error(dir, ": fsync of the directory failed: ", errno_text(e));
  return {};
}

Status write_file_atomic(const std::string& path, std::string_view text) {
  auto f = AtomicFile::create(path);
  if (!f.ok()) return f.error();
  MOE_TRY(f->write({reinterpret_cast<const uint8_t*>(text.data()), text.size()}));
  return f->commit();
}

}  // namespace moe
