#include "netlink/sync_stream.h"

#include <openssl/err.h>
#include <poll.h>
#include <sys/socket.h>
#include <sched.h>
#include <unistd.h>

#include <fcntl.h>
#include <algorithm>
#include <cerrno>
#include <cstring>

namespace moe::net {
namespace {

using Clock = std::chrono::steady_clock;

int bio_fd(BIO* b) {
  return static_cast<int>(reinterpret_cast<intptr_t>(BIO_get_data(b)));
}

// A socket BIO that sends with MSG_NOSIGNAL: OpenSSL's own socket BIO write()s, and a device
// that hangs up mid-request would kill the host with SIGPIPE instead of failing the call.
int bio_write(BIO* b, const char* data, int n) {
  BIO_clear_retry_flags(b);
  const ssize_t w = ::send(bio_fd(b), data, static_cast<size_t>(n), MSG_NOSIGNAL);
  if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
    BIO_set_retry_write(b);
  }
  return static_cast<int>(w);
}

int bio_read(BIO* b, char* data, int n) {
  BIO_clear_retry_flags(b);
  const ssize_t r = ::recv(bio_fd(b), data, static_cast<size_t>(n), 0);
  if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) BIO_set_retry_read(b);
  return static_cast<int>(r);
}

long bio_ctrl(BIO*, int cmd, long, void*) {
  return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

int bio_create(BIO* b) {
  BIO_set_init(b, 1);
  return 1;
}

BIO* new_socket_bio(int fd) {
  static BIO_METHOD* const method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "moe socket");
    BIO_meth_set_write(m, bio_write);
    BIO_meth_set_read(m, bio_read);
    BIO_meth_set_ctrl(m, bio_ctrl);
    BIO_meth_set_create(m, bio_create);
    return m;
  }();
  BIO* b = BIO_new(method);
  if (b != nullptr) BIO_set_data(b, reinterpret_cast<void*>(static_cast<intptr_t>(fd)));
  return b;
}

SyncStream::IoResult os_error(const char* what, int err) {
  if (err == ECONNRESET || err == EPIPE) {
    return {SyncStream::Outcome::kClosed, std::string(what) + ": connection reset by peer"};
  }
  return {SyncStream::Outcome::kError, std::string(what) + ": " + std::strerror(err)};
}

}  // namespace

SSL* new_socket_tls_session(SSL_CTX* ctx, int fd) {
  SSL* ssl = SSL_new(ctx);
  BIO* bio = ssl != nullptr ? new_socket_bio(fd) : nullptr;
  if (bio == nullptr) {
    SSL_free(ssl);
    return nullptr;
  }
  SSL_set_bio(ssl, bio, bio);
  // Take every record that has arrived in one recv instead of one record per call.
  SSL_set_read_ahead(ssl, 1);
  SSL_set_default_read_buffer_len(ssl, kTlsReadAhead);
  return ssl;
}

SyncStream::SyncStream(int fd, SSL_CTX* tls) : fd_(fd) {
  ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);
  if (tls == nullptr) return;
  ssl_ = new_socket_tls_session(tls, fd_);
  tls_unavailable_ = ssl_ == nullptr;  // handshake() reports it
}

SyncStream::~SyncStream() {
  if (ssl_ != nullptr) SSL_free(ssl_);
  close();
}

void SyncStream::close() {
  if (fd_ < 0) return;
  ::shutdown(fd_, SHUT_RDWR);
  ::close(fd_);
  fd_ = -1;
}

SyncStream::IoResult SyncStream::wait(short events, Deadline deadline, Deadline spin_until) {
  while (fd_ >= 0 && Clock::now() < std::min(spin_until, deadline)) {
    pollfd p{fd_, events, 0};
    if (::poll(&p, 1, 0) > 0) return {};
    sched_yield();  // the peer may be waiting for this very CPU
  }
  for (;;) {
    if (fd_ < 0) return {Outcome::kClosed, "the connection is closed"};
    const auto left = deadline - Clock::now();
    if (left <= Clock::duration::zero()) return {Outcome::kTimeout, {}};
    // Round up: a wait of 0 ms would spin until the deadline.
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
    pollfd p{fd_, events, 0};
    const int r = ::poll(&p, 1, static_cast<int>(std::min<long long>(ms, 1 << 30)));
    if (r > 0) return {};  // ready, or an error/hang-up that the next call reports
    if (r < 0 && errno != EINTR) return os_error("poll", errno);
  }
}

TlsFailure classify_tls_failure(SSL* ssl, int r) {
  using K = TlsFailure::Kind;
  switch (SSL_get_error(ssl, r)) {
    case SSL_ERROR_WANT_READ:
      return {K::kWantRead, {}};
    case SSL_ERROR_WANT_WRITE:
      return {K::kWantWrite, {}};
    case SSL_ERROR_ZERO_RETURN:
      return {K::kClosed, "the peer ended the TLS session", 0, 0, true};
    case SSL_ERROR_SYSCALL: {
      const int err = errno;
      if (err == 0) return {K::kClosed, "connection closed by the peer"};
      if (err == ECONNRESET || err == EPIPE)
        return {K::kClosed, "connection reset by peer", 0, err};
      return {K::kError, std::strerror(err), 0, err};
    }
    default:
      break;
  }
  const unsigned long e = ERR_peek_error();
  char text[256] = "TLS error";
  if (e != 0) ERR_error_string_n(e, text, sizeof(text));
  ERR_clear_error();
  if (ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
    return {K::kClosed, "connection closed by the peer"};
  }
  return {K::kError, text, e, 0};
}

SyncStream::IoResult SyncStream::after_tls(int r, Deadline deadline, Deadline spin_until) {
  const TlsFailure f = classify_tls_failure(ssl_, r);
  switch (f.kind) {
    case TlsFailure::Kind::kWantRead:
      return wait(POLLIN, deadline, spin_until);
    case TlsFailure::Kind::kWantWrite:
      return wait(POLLOUT, deadline);
    case TlsFailure::Kind::kClosed:
      return {Outcome::kClosed, f.detail};
    case TlsFailure::Kind::kError:
      break;
  }
  return {Outcome::kError, "TLS: " + f.detail};
}

SyncStream::IoResult SyncStream::handshake(Deadline deadline) {
  if (tls_unavailable_) return {Outcome::kError, "cannot create a TLS session (out of memory?)"};
  if (ssl_ == nullptr) return {};
  for (;;) {
    ERR_clear_error();
    errno = 0;
    const int r = SSL_connect(ssl_);
    if (r == 1) return {};
    if (auto res = after_tls(r, deadline); !res.ok()) return res;
  }
}

SyncStream::IoResult SyncStream::write(std::span<const uint8_t> bytes, Deadline deadline) {
  size_t done = 0;
  while (done < bytes.size()) {
    if (fd_ < 0) return {Outcome::kClosed, "the connection is closed"};
    if (ssl_ != nullptr) {
      const auto op = [&](size_t* n) {
        return SSL_write_ex(ssl_, bytes.data() + done, bytes.size() - done, n);
      };
      if (auto res = tls_step(op, done, deadline); !res.ok()) return res;
      continue;
    }
    const ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n >= 0) {
      done += static_cast<size_t>(n);
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (auto res = wait(POLLOUT, deadline); !res.ok()) return res;
    } else if (errno != EINTR) {
      return os_error("send", errno);
    }
  }
  return {};
}

SyncStream::IoResult SyncStream::read(std::span<uint8_t> bytes, Deadline deadline,
                                      Deadline spin_until) {
  size_t done = 0;
  while (done < bytes.size()) {
    if (fd_ < 0) return {Outcome::kClosed, "the connection is closed"};
    if (ssl_ != nullptr) {
      const auto op = [&](size_t* n) {
        return SSL_read_ex(ssl_, bytes.data() + done, bytes.size() - done, n);
      };
      if (auto res = tls_step(op, done, deadline, spin_until); !res.ok()) return res;
      continue;
    }
    const ssize_t n = ::recv(fd_, bytes.data() + done, bytes.size() - done, 0);
    if (n > 0) {
      done += static_cast<size_t>(n);
    } else if (n == 0) {
      return {Outcome::kClosed, "connection closed by the peer"};
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (auto res = wait(POLLIN, deadline, spin_until); !res.ok()) return res;
    } else if (errno != EINTR) {
      return os_error("recv", errno);
    }
  }
  return {};
}

}  // namespace moe::net
