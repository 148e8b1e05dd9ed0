#pragma once
// The device server's TLS stream: OpenSSL on the socket itself (new_socket_tls_session), driven
// by Asio's reactor only when the kernel has nothing to give or take. Asio's ssl::stream moves
// data through a 17 KiB memory BIO, so a multi-MiB prefill frame costs a send or receive and a
// reactor trip per 16 KiB record; here one recv takes every record that has arrived and
// OpenSSL writes records straight to the socket, and the reactor is asked to wait (async_wait)
// only on SSL_ERROR_WANT_READ / WANT_WRITE. Completion handlers always run from the
// io_context, never inside the call that starts an operation. One operation at a time.
#include <openssl/ssl.h>
#include <asio.hpp>

#include <cstdint>
#include <functional>
#include <span>
#include <system_error>

namespace moe::net {

class TlsSocket {
 public:
  using Handler = std::function<void(std::error_code, size_t)>;

  /// A server-side session of `ctx` on `socket` (made non-blocking).
  TlsSocket(asio::ip::tcp::socket socket, SSL_CTX* ctx);
  ~TlsSocket();
  TlsSocket(const TlsSocket&) = delete;
  TlsSocket& operator=(const TlsSocket&) = delete;

  asio::ip::tcp::socket& socket() { return socket_; }
  SSL* ssl() { return ssl_; }

  /// The server's side of the handshake (the peer's certificate checked by the context).
  void async_handshake(Handler h);
  /// Exactly b.size() bytes.
  void async_read(std::span<uint8_t> b, Handler h);
  /// All of b.
  void async_write(std::span<const uint8_t> b, Handler h);

 private:
  enum class Op { kHandshake, kRead, kWrite };
  // Makes progress until done, an error, or the kernel makes OpenSSL wait (then resumes from a
  // reactor wait). `posted`: called from the io_context, so the handler may run directly.
  void step(Op op, uint8_t* p, size_t n, size_t done, Handler h, bool posted);
  void complete(std::error_code ec, size_t n, Handler h, bool posted);

  asio::ip::tcp::socket socket_;
  SSL* ssl_;
};

}  // namespace moe::net
