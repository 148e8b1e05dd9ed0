#include "netlink/model_fingerprint.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "core/store/routing_profile.h"
#include "netlink/crc32c.h"

namespace moe::net {

Result<std::string> model_fingerprint(const std::string& gguf_path) {
  auto id = model_identity_of(gguf_path);  // size + header hash (reads the header only)
  if (!id.ok()) return id.error();
  const int fd = ::open(gguf_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return make_error(gguf_path, ": cannot open (", std::strerror(errno), ")");
  constexpr uint64_t kSamples = 64, kSample = 64 << 10;
  std::vector<uint8_t> buf(kSample);
  uint32_t crc = 0;
  const uint64_t size = id->file_size;
  for (uint64_t i = 0; i < kSamples; ++i) {
    const uint64_t at = size > kSample ? (size - kSample) / (kSamples - 1) * i : 0;
    const ssize_t n = ::pread(fd, buf.data(), kSample, static_cast<off_t>(at));
    if (n < 0) {
      const int e = errno;
      ::close(fd);
      return make_error(gguf_path, ": read failed (", std::strerror(e), ")");
    }
    crc = crc32c({buf.data(), static_cast<size_t>(n)}, crc);
  }
  ::close(fd);
  char out[96];
  std::snprintf(out, sizeof(out), "%llx-%s-%08x", static_cast<unsigned long long>(size),
                id->header_hash.c_str(), crc);
  return std::string(out);
}

}  // namespace moe::net
