#include "core/store/direct_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>

namespace moe {
namespace {

std::mutex g_fallback_mu;  // serialises the one-time switch to buffered reads

}  // namespace

Result<std::unique_ptr<DirectReader>> DirectReader::open(const std::string& path, bool direct) {
  std::unique_ptr<DirectReader> r(new DirectReader());
  r->path_ = path;
  if (direct) {
    r->fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_DIRECT);
    if (r->fd_ >= 0) {
      r->direct_ = true;
      r->note_ = "O_DIRECT";
    } else if (errno != EINVAL) {
      return make_error(path, ": cannot open for expert reads: ", std::strerror(errno));
    }
  }
  if (r->fd_ < 0) {
    const int open_errno = direct ? EINVAL : 0;
    r->fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (r->fd_ < 0)
      return make_error(path, ": cannot open for expert reads: ", std::strerror(errno));
    r->note_ = open_errno ? "buffered + fadvise(DONTNEED): O_DIRECT refused by the file system"
                          : "buffered + fadvise(DONTNEED)";
  }
  struct stat st {};
  if (fstat(r->fd_, &st) != 0) return make_error(path, ": fstat: ", std::strerror(errno));
  r->size_ = static_cast<uint64_t>(st.st_size);
  return r;
}

DirectReader::~DirectReader() {
  if (fd_ >= 0) ::close(fd_);
}

// Some file systems accept O_DIRECT at open() and refuse the reads (EINVAL): switch the
// descriptor to buffered reads once, for every thread.
Status DirectReader::fall_back(int err) const {
  std::lock_guard<std::mutex> lock(g_fallback_mu);
  if (!direct_) return {};
  const int flags = fcntl(fd_, F_GETFL);
  if (flags < 0 || fcntl(fd_, F_SETFL, flags & ~O_DIRECT) != 0) {
    return make_error(path_, ": O_DIRECT read refused (", std::strerror(err),
                      ") and cannot switch to buffered reads");
  }
  direct_ = false;
  note_ = std::string("buffered + fadvise(DONTNEED): O_DIRECT reads refused (") +
          std::strerror(err) + ")";
  return {};
}

Status DirectReader::read(uint64_t offset, uint64_t len, uint8_t* buf) const {
  const uint64_t begin = align_down(offset);
  const uint64_t end = offset + len;
  if (end > size_) {
    return make_error(path_, ": bytes [", std::to_string(offset), ", ", std::to_string(end),
                      ") lie past the end of the file (", std::to_string(size_), " bytes)");
  }
  // The aligned tail may pass the end of the file: pread then stops at the end (short read).
  const uint64_t want = std::min(align_up(end), align_up(size_)) - begin;
  uint64_t done = 0;
  bool retried = false;
  while (begin + done < end) {
    const ssize_t n = ::pread(fd_, buf + done, want - done, static_cast<off_t>(begin + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      if (err == EINVAL && direct_ && !retried) {
        MOE_TRY(fall_back(err));
        retried = true;
        continue;
      }
      return make_error(path_, ": reading bytes [", std::to_string(offset), ", ",
                        std::to_string(end), "): ", std::strerror(err));
    }
    if (n == 0) break;
    done += static_cast<uint64_t>(n);
  }
  if (begin + done < end) {
    return make_error(path_, ": short read at bytes [", std::to_string(offset), ", ",
                      std::to_string(end), "): the file ends at ", std::to_string(begin + done));
  }
  if (!direct_) {
    posix_fadvise(fd_, static_cast<off_t>(begin), static_cast<off_t>(want), POSIX_FADV_DONTNEED);
  }
  return {};
}

}  // namespace moe
