#include "netlink/frame_client.h"

#include <array>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <optional>

#include <asio.hpp>

#include "netlink/sync_stream.h"
#include "netlink/tls_context.h"

namespace moe::net {

using Clock = std::chrono::steady_clock;

struct FrameClient::Impl {
  std::shared_ptr<asio::ssl::context> tls;
  ClientOptions options;
  std::string peer;
  std::string identity;  ///< the device certificate's CN
  std::unique_ptr<SyncStream> stream;
  bool is_open = false;
  bool timed_out = false;  ///< closed at a deadline
  std::string broken;  ///< why the connection was closed, for every later call
  std::vector<uint8_t> out;  ///< the frame being sent (kept: no allocation per request)
  // Round trips (send to reply), for the spin below: the last send, an EWMA of the replies'.
  Clock::time_point sent_at{};
  double rtt_s = 0;
  int rtt_samples = 0;

  // Until when a receive polls without sleeping: while this peer's replies come within
  // kFastReply (EWMA, after 3 of them), until twice that EWMA after the send. A sleeping thread
  // is woken ~50 µs after its reply arrives on an idle VM, a third of such a round trip; a reply
  // that takes longer (an expert computed for a millisecond) is waited for asleep, leaving the
  // CPU to others (a device on this machine).
  Clock::time_point spin_until() const {
    if (rtt_samples < 3 || rtt_s >= kFastReply || sent_at == Clock::time_point{}) return {};
    return sent_at + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(2 * rtt_s));
  }
  void replied() {
    if (sent_at == Clock::time_point{}) return;
    const double s = std::chrono::duration<double>(Clock::now() - sent_at).count();
    rtt_s = rtt_samples++ == 0 ? s : 0.8 * rtt_s + 0.2 * s;
    sent_at = {};
  }
  static constexpr double kFastReply = 250e-6;

  void close(const std::string& why, bool at_deadline = false) {
    if (!is_open && !broken.empty()) return;
    is_open = false;
    timed_out = at_deadline;
    broken = why;
    if (stream) stream->close();
  }

  // A failed read or write closes the connection; the message names what was under way.
  Status fail(const char* what, const SyncStream::IoResult& r, std::chrono::milliseconds timeout) {
    if (r.outcome == SyncStream::Outcome::kTimeout) {
      close(peer + ": " + what + " timed out after " + std::to_string(timeout.count()) + " ms",
            true);
    } else {
      close(peer + ": " + what + ": " + r.detail);
    }
    return Error{broken};
  }
};

namespace {

// TCP connect with a deadline (Asio resolves and connects; the socket is then handed over).
Result<int> connect_socket(const std::string& host, uint16_t port,
                           std::chrono::milliseconds timeout, const std::string& peer) {
  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  std::error_code ec;
  asio::ip::tcp::resolver resolver(io);
  const auto endpoints = resolver.resolve(host, std::to_string(port), ec);
  if (ec) return make_error(peer, ": cannot resolve: ", ec.message());
  std::optional<std::error_code> result;
  asio::async_connect(socket, endpoints, [&result](std::error_code e, const auto&) { result = e; });
  io.run_for(timeout);
  if (!result) {
    return make_error(peer, ": connect timed out after ", std::to_string(timeout.count()), " ms");
  }
  if (*result) return make_error(peer, ": connect: ", result->message());
  // Requests and replies are latency-bound messages: no Nagle delay behind an unacked segment.
  socket.set_option(asio::ip::tcp::no_delay(true), ec);
  const int fd = socket.release(ec);
  if (ec) return make_error(peer, ": connect: ", ec.message());
  return fd;
}

}  // namespace

Result<std::unique_ptr<FrameClient>> FrameClient::connect(const std::string& host, uint16_t port,
                                                          std::shared_ptr<asio::ssl::context> tls,
                                                          const ClientOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->tls = std::move(tls);
  impl->options = options;
  impl->peer = host + ":" + std::to_string(port);
  auto fd = connect_socket(host, port, options.connect_timeout, impl->peer);
  if (!fd.ok()) return fd.error();
  impl->stream =
      std::make_unique<SyncStream>(*fd, impl->tls ? impl->tls->native_handle() : nullptr);
  if (impl->stream->secure()) {
    use_current_revocations(impl->stream->ssl());  // a revocation since the last one counts now
  }
  const auto hs = impl->stream->handshake(Clock::now() + options.connect_timeout);
  if (!hs.ok()) {
    // A node started with --insecure reads the ClientHello as a bad frame and hangs up.
    return impl
        ->fail(hs.outcome == SyncStream::Outcome::kClosed
                   ? "TLS handshake (the device closed the connection: is it running with "
                     "--insecure, or does it refuse this host's certificate?)"
                   : "TLS handshake",
               hs, options.connect_timeout)
        .error();
  }
  if (impl->stream->secure()) {
    // The chain was verified in the handshake (the context's callback logs refusals); the
    // name is checked here so that a wrong device is reported as such.
    X509* cert = SSL_get1_peer_certificate(impl->stream->ssl());
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
bool FrameClient::secure() const {
  return impl_->stream->secure();
}
const std::string& FrameClient::peer_identity() const {
  return impl_->identity;
}

Status FrameClient::send_raw(std::span<const uint8_t> bytes, std::chrono::milliseconds timeout) {
  if (!impl_->is_open) return Error{impl_->broken};
  const auto r = impl_->stream->write(bytes, Clock::now() + timeout);
  if (!r.ok()) return impl_->fail("send", r, timeout);
  impl_->sent_at = Clock::now();
  return {};
}

Status FrameClient::send(FrameType type, uint64_t request_id, std::span<const uint8_t> payload,
                         std::chrono::milliseconds timeout) {
  impl_->out.clear();
  encode_frame(type, request_id, payload, impl_->out);
  return send_raw(impl_->out, timeout);
}

Status FrameClient::receive_into(Frame& frame, std::chrono::milliseconds timeout) {
  if (!impl_->is_open) return Error{impl_->broken};
  const auto deadline = Clock::now() + timeout;
  std::array<uint8_t, kFrameHeaderBytes> header{};
  const auto spin = impl_->spin_until();
  auto r = impl_->stream->read(header, deadline, spin);
  if (!r.ok()) return impl_->fail("waiting for a reply", r, timeout);
  auto parsed = parse_frame_header(header, impl_->options.max_payload);
  if (auto* f = std::get_if<FrameFault>(&parsed)) {
    impl_->close(impl_->peer + ": refused frame: " + f->message);
    return Error{impl_->broken};
  }
  const FrameHeader h = std::get<FrameHeader>(parsed);
  frame.type = h.type;
  frame.request_id = h.request_id;
  frame.payload.resize(h.payload_bytes);  // within the capacity of earlier replies: no allocation
  r = impl_->stream->read(frame.payload, deadline, spin);
  if (!r.ok()) return impl_->fail("receiving a reply", r, timeout);
  if (auto f = check_frame_crc(header, frame.payload)) {
    impl_->close(impl_->peer + ": refused frame: " + f->message);
    return Error{impl_->broken};
  }
  impl_->replied();
  return {};
}

Result<Frame> FrameClient::receive(std::chrono::milliseconds timeout) {
  Frame frame;
  if (auto st = receive_into(frame, timeout); !st.ok()) return st.error();
  return frame;
}

Result<Frame> FrameClient::call(FrameType type, uint64_t request_id,
                                std::span<const uint8_t> payload, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  if (auto st = send(type, request_id, payload, timeout); !st.ok()) return st.error();
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    auto f = receive(std::max(left, std::chrono::milliseconds(1)));
    if (!f.ok() || f->request_id == request_id) return f;
  }
}

}  // namespace moe::net
