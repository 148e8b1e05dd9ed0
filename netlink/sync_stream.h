#pragma once
// The host client's byte stream: deadline-bounded blocking reads and writes on a connected TCP
// socket, plaintext or TLS through OpenSSL directly on the socket, waiting in poll(2) with the
// time left. Why not Asio's ssl::stream (which the device's server keeps): it moves TLS data
// through a 17 KiB memory BIO, so every 16 KiB record is its own send or receive and its own
// trip through the reactor, and the multi-MiB frames of a prefill cost a reactor wake-up per
// record on a client that only ever waits for one reply. Here OpenSSL writes its records
// straight to the socket and reads every record that has arrived (up to kTlsReadAhead bytes) in
// one recv; the thread sleeps only when the kernel has nothing for it. Not thread-safe.
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <span>
#include <string>

namespace moe::net {

/// What a TLS read asks the socket for at once: many records per recv.
inline constexpr size_t kTlsReadAhead = 256 * 1024;

/// A TLS session of `ctx` on the socket `fd` (not owned; non-blocking): OpenSSL reads and writes
/// the socket itself (sending with MSG_NOSIGNAL: a peer that hangs up fails the call instead
/// of raising SIGPIPE), reading up to kTlsReadAhead bytes of records per recv. Null when
/// OpenSSL cannot make one. Used by this client and by the device's server (tls_socket.h).
SSL* new_socket_tls_session(SSL_CTX* ctx, int fd);

/// Why a TLS call on such a session returned r <= 0 (read right after the call).
struct TlsFailure {
  enum class Kind { kWantRead, kWantWrite, kClosed, kError } kind;
  std::string detail;     ///< kClosed / kError: what the system or OpenSSL said
  unsigned long ssl = 0;  ///< kError: OpenSSL's error code, 0 for a system error
  int sys = 0;            ///< errno of a system error (kError, or kClosed by a reset)
  bool clean = false;     ///< kClosed: by the peer's close_notify (not a connection that ended)
};
TlsFailure classify_tls_failure(SSL* ssl, int r);

class SyncStream {
 public:
  using Deadline = std::chrono::steady_clock::time_point;
  enum class Outcome { kOk, kTimeout, kClosed, kError };
  struct IoResult {
    Outcome outcome = Outcome::kOk;
    std::string detail;  ///< for kError / kClosed: what the system or OpenSSL said
    bool ok() const { return outcome == Outcome::kOk; }
  };
  /// Takes ownership of `fd` (a connected TCP socket; made non-blocking here). `tls` null:
  /// plaintext; else a client session of that context (its verification settings apply).
  SyncStream(int fd, SSL_CTX* tls);
  ~SyncStream();
  SyncStream(const SyncStream&) = delete;
  SyncStream& operator=(const SyncStream&) = delete;

  bool secure() const { return ssl_ != nullptr; }
  /// The OpenSSL session (null in plaintext).
  SSL* ssl() const { return ssl_; }

  /// The client's TLS handshake; nothing in plaintext.
  IoResult handshake(Deadline deadline);
  /// All of `bytes`.
  IoResult write(std::span<const uint8_t> bytes, Deadline deadline);
  /// Exactly `bytes.size()` bytes. Until `spin_until` it waits by polling without sleeping
  /// (sched_yield between polls): a reply expected within microseconds is taken without the
  /// wake-up of a sleeping thread; then it sleeps in poll(2) as always.
  IoResult read(std::span<uint8_t> bytes, Deadline deadline, Deadline spin_until = {});
  /// Shuts the socket down (no TLS close_notify: the peer sees the connection end).
  void close();

 private:
  // Waits until the socket is readable (POLLIN) or writable (POLLOUT), or the deadline.
  IoResult wait(short events, Deadline deadline, Deadline spin_until = {});
  // After a TLS call returned r <= 0: wait for what it wants, or the outcome of the failure.
  IoResult after_tls(int r, Deadline deadline, Deadline spin_until = {});
  // One SSL_read_ex / SSL_write_ex (`op`, given where to put the byte count) that adds what it
  // moved to `done`, or, having moved nothing, waits for what it wants (after_tls).
  template <typename Op>
  IoResult tls_step(Op op, size_t& done, Deadline deadline, Deadline spin_until = {}) {
    ERR_clear_error();
    errno = 0;
    size_t n = 0;
    const int r = op(&n);
    if (r != 1) return after_tls(r, deadline, spin_until);
    done += n;
    return {};
  }

  int fd_;
  SSL* ssl_ = nullptr;
  bool tls_unavailable_ = false;  // asked for TLS, but OpenSSL could not make a session
};

}  // namespace moe::net
