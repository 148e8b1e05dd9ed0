#include "netlink/tls_socket.h"

#include <openssl/err.h>

#include <asio/ssl/error.hpp>

#include "netlink/sync_stream.h"

namespace moe::net {

TlsSocket::TlsSocket(asio::ip::tcp::socket socket, SSL_CTX* ctx) : socket_(std::move(socket)) {
  std::error_code ec;
  socket_.non_blocking(true, ec);
  ssl_ = new_socket_tls_session(ctx, static_cast<int>(socket_.native_handle()));
  if (ssl_ != nullptr) SSL_set_accept_state(ssl_);
}

TlsSocket::~TlsSocket() {
  if (ssl_ != nullptr) SSL_free(ssl_);
}

void TlsSocket::async_handshake(Handler h) {
  step(Op::kHandshake, nullptr, 0, 0, std::move(h), false);
}

void TlsSocket::async_read(std::span<uint8_t> b, Handler h) {
  step(Op::kRead, b.data(), b.size(), 0, std::move(h), false);
}

void TlsSocket::async_write(std::span<const uint8_t> b, Handler h) {
  // SSL_write_ex only reads through the pointer.
  step(Op::kWrite, const_cast<uint8_t*>(b.data()), b.size(), 0, std::move(h), false);
}

void TlsSocket::complete(std::error_code ec, size_t n, Handler h, bool posted) {
  if (posted) return h(ec, n);
  asio::post(socket_.get_executor(), [h = std::move(h), ec, n] { h(ec, n); });
}

void TlsSocket::step(Op op, uint8_t* p, size_t n, size_t done, Handler h, bool posted) {
  if (ssl_ == nullptr) return complete(asio::error::no_memory, done, std::move(h), posted);
  // The session's BIO still holds the descriptor's number after a close, which a new
  // connection may have been given since: never read or write through it then.
  if (!socket_.is_open()) return complete(asio::error::bad_descriptor, done, std::move(h), posted);
  for (;;) {
    if (op != Op::kHandshake && done == n) return complete({}, done, std::move(h), posted);
    ERR_clear_error();
    errno = 0;
    size_t moved = 0;
    const int r = op == Op::kHandshake ? SSL_do_handshake(ssl_)
                  : op == Op::kRead    ? SSL_read_ex(ssl_, p + done, n - done, &moved)
                                       : SSL_write_ex(ssl_, p + done, n - done, &moved);
    if (r == 1) {
      if (op == Op::kHandshake) return complete({}, 0, std::move(h), posted);
      done += moved;
      continue;
    }
    const TlsFailure f = classify_tls_failure(ssl_, r);
    switch (f.kind) {
      case TlsFailure::Kind::kWantRead:
      case TlsFailure::Kind::kWantWrite: {
        const auto wait = f.kind == TlsFailure::Kind::kWantRead ? asio::socket_base::wait_read
                                                                : asio::socket_base::wait_write;
        socket_.async_wait(wait,
                           [this, op, p, n, done, h = std::move(h)](std::error_code ec) mutable {
                             if (ec) return h(ec, done);
                             step(op, p, n, done, std::move(h), true);
                           });
        return;
      }
      case TlsFailure::Kind::kClosed: {
        // As Asio's ssl::stream reports them: a close_notify is the end of the stream, a
        // connection that just ends a truncated one, a reset a reset.
        const std::error_code ec = f.clean ? std::error_code(asio::error::eof)
                                   : f.sys != 0
                                       ? std::error_code(f.sys, std::system_category())
                                       : std::error_code(asio::ssl::error::stream_truncated);
        return complete(ec, done, std::move(h), posted);
      }
      case TlsFailure::Kind::kError: {
        const std::error_code ec =
            f.ssl != 0 ? std::error_code(static_cast<int>(f.ssl), asio::error::get_ssl_category())
                       : std::error_code(f.sys, std::system_category());
        return complete(ec, done, std::move(h), posted);
      }
    }
  }
}

}  // namespace moe::net
