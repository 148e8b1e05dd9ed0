#pragma once
// The byte stream under the device's frame server: TLS over TCP (the default; TlsSocket,
// OpenSSL on the socket itself) or, only when the operator asked for it with --insecure, plain
// TCP, so that the framing, limits and timeouts are the same code either way. (The host's
// client reads and writes synchronously: sync_stream.h.)
#include <asio.hpp>
#include <asio/ssl/context.hpp>
#include <variant>

#include "netlink/tls_context.h"
#include "netlink/tls_socket.h"

namespace moe::net {

class ByteStream {
 public:
  using Tcp = asio::ip::tcp::socket;

  /// `tls` null: plaintext.
  ByteStream(Tcp socket, asio::ssl::context* tls)
      : s_(tls ? Any(std::in_place_type<TlsSocket>, std::move(socket), tls->native_handle())
               : Any(std::in_place_type<Tcp>, std::move(socket))) {}

  bool secure() const { return std::holds_alternative<TlsSocket>(s_); }
  Tcp& socket() { return secure() ? std::get<TlsSocket>(s_).socket() : std::get<Tcp>(s_); }

  /// The server's TLS handshake; in plaintext the handler runs at once (posted) with no error.
  template <class Handler>
  void async_handshake(Handler&& h) {
    if (secure()) {
      auto& tls = std::get<TlsSocket>(s_);
      use_current_revocations(tls.ssl());  // a revocation since the last handshake counts now
      return tls.async_handshake(
          [h = std::forward<Handler>(h)](std::error_code ec, size_t) mutable { h(ec); });
    }
    asio::post(socket().get_executor(), [h = std::forward<Handler>(h)]() mutable {
      h(std::error_code());
    });
  }
  /// Exactly b.size() bytes.
  template <class Handler>
  void async_read(std::span<uint8_t> b, Handler&& h) {
    if (secure()) return std::get<TlsSocket>(s_).async_read(b, std::forward<Handler>(h));
    asio::async_read(std::get<Tcp>(s_), asio::buffer(b.data(), b.size()), std::forward<Handler>(h));
  }
  template <class Handler>
  void async_write(std::span<const uint8_t> b, Handler&& h) {
    if (secure()) return std::get<TlsSocket>(s_).async_write(b, std::forward<Handler>(h));
    asio::async_write(std::get<Tcp>(s_), asio::buffer(b.data(), b.size()),
                      std::forward<Handler>(h));
  }

  void close() {
    std::error_code ec;
    socket().shutdown(Tcp::shutdown_both, ec);
    socket().close(ec);
  }

 private:
  using Any = std::variant<Tcp, TlsSocket>;
  Any s_;
};

/// The first bytes of a TLS ClientHello record (handshake, TLS 1.x): what a TLS host sends to a
/// plaintext node, so the node can say so instead of "bad magic".
inline bool looks_like_tls_record(const uint8_t* b, size_t n) {
  return n >= 3 && b[0] == 0x16 && b[1] == 0x03 && b[2] <= 0x04;
}

}  // namespace moe::net
