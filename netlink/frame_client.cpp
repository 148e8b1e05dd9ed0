#include "netlink/frame_client.h"

#include <array>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <optional>

#include "netlink/byte_stream.h"

namespace moe::net {

struct FrameClient::Impl {
  asio::io_context io;
  std::shared_ptr<asio::ssl::context> tls;
  ByteStream stream;
  ClientOptions options;
  std::string peer;
  std::string identity;  ///< the device certificate's CN
  bool is_open = false;
  bool timed_out = false;  ///< closed at a deadline
  std::string broken;  ///< why the connection was closed, for every later call

  Impl(std::shared_ptr<asio::ssl::context> t, const ClientOptions& o)
      : tls(std::move(t)), stream(io, tls.get()), options(o) {}

  void close(const std::string& why, bool at_deadline = false) {
    if (!is_open && !broken.empty()) return;
    is_open = false;
    timed_out = at_deadline;
    broken = why;
    stream.close();
  }

  // Runs one asynchronous operation to completion or until the deadline; on the deadline the
  // connection is closed and the operation's handler drained.
  template <class Start>
  std::error_code run(Start start, std::chrono::milliseconds timeout, const char* what) {
    std::optional<std::error_code> result;
    start([&result](std::error_code ec, auto&&...) { result = ec; });
    io.restart();
    io.run_for(timeout);
    if (!result) {
      close(peer + ": " + what + " timed out after " + std::to_string(timeout.count()) + " ms",
            true);
      io.restart();
      io.run();
      return asio::error::timed_out;
    }
    return *result;
  }

  Status fail(const char* what, std::error_code ec) {
    if (ec == asio::error::timed_out) return Error{broken};
    close(peer + ": " + what + ": " + ec.message());
    return Error{broken};
  }
};

Result<std::unique_ptr<FrameClient>> FrameClient::connect(const std::string& host, uint16_t port,
                                                          std::shared_ptr<asio::ssl::context> tls,
                                                          const ClientOptions& options) {
  auto impl = std::make_unique<Impl>(std::move(tls), options);
  impl->peer = host + ":" + std::to_string(port);
  std::error_code ec;
  asio::ip::tcp::resolver resolver(impl->io);
  const auto endpoints = resolver.resolve(host, std::to_string(port), ec);
  if (ec) return make_error(impl->peer, ": cannot resolve: ", ec.message());
  ec = impl->run(
      [&](auto handler) {
        asio::async_connect(impl->stream.socket(), endpoints,
                            [handler](std::error_code e, const auto&) mutable { handler(e); });
      },
      options.connect_timeout, "connect");
  if (ec) return impl->fail("connect", ec).error();
  // Requests and replies are latency-bound messages: no Nagle delay behind an unacked segment.
  impl->stream.socket().set_option(asio::ip::tcp::no_delay(true), ec);
  ec = impl->run([&](auto handler) { impl->stream.async_handshake(asio::ssl::stream_base::client, handler); },
                 options.connect_timeout, "TLS handshake");
  if (ec) {
    // A node started with --insecure reads the ClientHello as a bad frame and hangs up.
    const bool hung_up = ec == asio::error::eof || ec == asio::ssl::error::stream_truncated ||
                         ec == asio::error::connection_reset;
    return impl->fail(hung_up ? "TLS handshake (the device closed the connection: is it running "
                                "with --insecure, or does it refuse this host's certificate?)"
                              : "TLS handshake",
                      ec)
        .error();
  }
  if (impl->stream.secure()) {
    // The chain was verified in the handshake (the context's callback logs refusals); the
    // name is checked here so that a wrong device is reported as such.
    X509* cert = SSL_get1_peer_certificate(impl->stream.ssl());
    char cn[256] = "?";
    if (cert != nullptr) {
      X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof(cn));
    }
    impl->identity = cn;
    const bool match =
        options.expected_name.empty() ||
        (cert != nullptr && X509_check_host(cert, options.expected_name.c_str(),
                                            options.expected_name.size(), 0, nullptr) == 1);
    X509_free(cert);
    if (!match) {
      impl->close(impl->peer + ": the device's certificate is for '" + cn + "', not '" +
                  options.expected_name + "'");
      return Error{impl->broken};
    }
  }
  impl->is_open = true;
  return std::unique_ptr<FrameClient>(new FrameClient(std::move(impl)));
}

FrameClient::FrameClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
FrameClient::~FrameClient() { impl_->close("closed"); }

bool FrameClient::open() const { return impl_->is_open; }
bool FrameClient::timed_out() const { return impl_->timed_out; }
bool FrameClient::secure() const { return impl_->stream.secure(); }
const std::string& FrameClient::peer_identity() const {
  return impl_->identity;
}

Status FrameClient::send_raw(std::span<const uint8_t> bytes, std::chrono::milliseconds timeout) {
  if (!impl_->is_open) return Error{impl_->broken};
  const auto ec = impl_->run(
      [&](auto handler) { impl_->stream.async_write(asio::buffer(bytes.data(), bytes.size()), handler); },
      timeout, "send");
  if (ec) return impl_->fail("send", ec);
  return {};
}

Status FrameClient::send(FrameType type, uint64_t request_id, std::span<const uint8_t> payload,
                         std::chrono::milliseconds timeout) {
  return send_raw(encode_frame(type, request_id, payload), timeout);
}

Result<Frame> FrameClient::receive(std::chrono::milliseconds timeout) {
  if (!impl_->is_open) return Error{impl_->broken};
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const auto left = [&] {
    return std::max(std::chrono::milliseconds(1),
                    std::chrono::duration_cast<std::chrono::milliseconds>(
                        deadline - std::chrono::steady_clock::now()));
  };
  std::array<uint8_t, kFrameHeaderBytes> header{};
  auto ec = impl_->run([&](auto handler) { impl_->stream.async_read(asio::buffer(header), handler); },
                       left(), "waiting for a reply");
  if (ec) return impl_->fail("receive", ec).error();
  auto parsed = parse_frame_header(header, impl_->options.max_payload);
  if (auto* f = std::get_if<FrameFault>(&parsed)) {
    impl_->close(impl_->peer + ": refused frame: " + f->message);
    return Error{impl_->broken};
  }
  const FrameHeader h = std::get<FrameHeader>(parsed);
  Frame frame{h.type, h.request_id, std::vector<uint8_t>(h.payload_bytes)};
  ec = impl_->run([&](auto handler) { impl_->stream.async_read(asio::buffer(frame.payload), handler); },
                  left(), "receiving a reply");
  if (ec) return impl_->fail("receive", ec).error();
  if (auto f = check_frame_crc(header, frame.payload)) {
    impl_->close(impl_->peer + ": refused frame: " + f->message);
    return Error{impl_->broken};
  }
  return frame;
}

Result<Frame> FrameClient::call(FrameType type, uint64_t request_id,
                                std::span<const uint8_t> payload, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  if (auto st = send(type, request_id, payload, timeout); !st.ok()) return st.error();
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    auto f = receive(std::max(left, std::chrono::milliseconds(1)));
    if (!f.ok() || f->request_id == request_id) return f;
  }
}

}  // namespace moe::net
