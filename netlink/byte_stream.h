#pragma once
// The byte stream under the frame transport: TLS over TCP (the default) or, only when the
// operator asked for it with --insecure, plain TCP. Both sides of the RPC read and write frames
// through this one type, so the framing, limits and timeouts are the same code either way.
#include <asio.hpp>
#include <asio/ssl.hpp>
#include <variant>

#include "netlink/tls_context.h"

namespace moe::net {

class ByteStream {
 public:
  using Tcp = asio::ip::tcp::socket;
  using Tls = asio::ssl::stream<Tcp>;

  /// `tls` null: plaintext.
  ByteStream(asio::io_context& io, asio::ssl::context* tls)
      : s_(tls ? Any(std::in_place_type<Tls>, io, *tls) : Any(std::in_place_type<Tcp>, io)) {}
  ByteStream(Tcp socket, asio::ssl::context* tls)
      : s_(tls ? Any(std::in_place_type<Tls>, std::move(socket), *tls)
               : Any(std::in_place_type<Tcp>, std::move(socket))) {}

  bool secure() const { return std::holds_alternative<Tls>(s_); }
  Tcp& socket() {
    return secure() ? std::get<Tls>(s_).next_layer() : std::get<Tcp>(s_);
  }
  /// The OpenSSL handle (null in plaintext).
  SSL* ssl() { return secure() ? std::get<Tls>(s_).native_handle() : nullptr; }

  /// TLS handshake; in plaintext the handler runs at once (posted) with no error.
  template <class Handler>
  void async_handshake(asio::ssl::stream_base::handshake_type role, Handler&& h) {
    if (secure()) {
      use_current_revocations(ssl());  // a revocation since the last handshake counts now
      return std::get<Tls>(s_).async_handshake(role, std::forward<Handler>(h));
    }
    asio::post(socket().get_executor(), [h = std::forward<Handler>(h)]() mutable {
      h(std::error_code());
    });
  }
  template <class Buffers, class Handler>
  void async_read(const Buffers& b, Handler&& h) {
    std::visit([&](auto& s) { asio::async_read(s, b, std::forward<Handler>(h)); }, s_);
  }
  template <class Buffers, class Handler>
  void async_write(const Buffers& b, Handler&& h) {
    std::visit([&](auto& s) { asio::async_write(s, b, std::forward<Handler>(h)); }, s_);
  }

  void close() {
    std::error_code ec;
    socket().shutdown(Tcp::shutdown_both, ec);
    socket().close(ec);
  }

 private:
  using Any = std::variant<Tcp, Tls>;
  Any s_;
};

/// The first bytes of a TLS ClientHello record (handshake, TLS 1.x): what a TLS host sends to a
/// plaintext node, so the node can say so instead of "bad magic".
inline bool looks_like_tls_record(const uint8_t* b, size_t n) {
  return n >= 3 && b[0] == 0x16 && b[1] == 0x03 && b[2] <= 0x04;
}

}  // namespace moe::net
