#include "netlink/frame_server.h"

#include <array>
#include <mutex>
#include <set>
#include <thread>

#include "netlink/byte_stream.h"

namespace moe::net {

struct FrameServer::Impl {
  ServerOptions options;
  std::shared_ptr<asio::ssl::context> tls;
  FrameHandler handler;
  LogFn log;
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor{io};
  std::thread thread;
  std::atomic<uint64_t> connections{0}, handshakes_failed{0}, frames{0}, faults{0}, timeouts{0};

  void say(const std::string& line) const {
    if (log) log(line);
  }
  void accept();
};

namespace {

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(FrameServer::Impl& server, asio::ip::tcp::socket socket)
      : server_(server), stream_(std::move(socket), server.tls.get()), timer_(server.io) {
    std::error_code ec;
    const auto ep = stream_.socket().remote_endpoint(ec);
    peer_ = ec ? std::string("?") : ep.address().to_string() + ":" + std::to_string(ep.port());
  }

  void start() {
    arm(server_.options.handshake_timeout, "TLS handshake", &server_.handshakes_failed);
    if (!stream_.secure()) return handshake();
    // Look at the first byte before the handshake: a frame's magic there is a host started with
    // --insecure, which deserves that name rather than OpenSSL's "wrong version number".
    stream_.socket().async_receive(
        asio::buffer(first_), asio::socket_base::message_peek,
        [self = shared_from_this()](std::error_code ec, size_t n) {
          if (ec) return self->on_read_error(ec);
          if (n > 0 && first_byte_is_frame_magic(self->first_[0])) {
            ++self->server_.handshakes_failed;
            return self->close("a plaintext (--insecure) host connected to this TLS node");
          }
          self->handshake();
        });
  }

 private:
  static bool first_byte_is_frame_magic(uint8_t b) { return b == (kFrameMagic & 0xFFu); }

  void handshake() {
    stream_.async_handshake([self = shared_from_this()](std::error_code ec) {
      if (ec) {
        if (!self->closed_) {
          ++self->server_.handshakes_failed;
          self->close("TLS handshake failed: " + ec.message());
        }
        return;
      }
      self->read_header();
    });
  }

  // A deadline for the operation in flight: when it passes, the connection is closed (which
  // completes the operation with an error).
  void arm(std::chrono::milliseconds t, const char* what, std::atomic<uint64_t>* counter) {
    timer_.expires_after(t);
    timer_.async_wait([self = shared_from_this(), what, counter](std::error_code ec) {
      if (ec || self->closed_) return;
      ++*counter;
      self->close(std::string(what) + " timed out");
    });
  }

  void read_header() {
    arm(server_.options.idle_timeout, "waiting for a frame", &server_.timeouts);
    stream_.async_read(header_, [self = shared_from_this()](std::error_code ec, size_t) {
      if (ec) return self->on_read_error(ec);
      self->on_header();
    });
  }

  void on_header() {
    auto parsed = parse_frame_header(header_, server_.options.max_payload);
    if (auto* f = std::get_if<FrameFault>(&parsed)) {
      ++server_.faults;
      if (!stream_.secure() && looks_like_tls_record(header_.data(), header_.size())) {
        return close("a TLS host connected to this plaintext (--insecure) node");
      }
      return close(std::string("refused frame: ") + f->message);
    }
    const FrameHeader h = std::get<FrameHeader>(parsed);
    frame_.type = h.type;
    frame_.request_id = h.request_id;
    frame_.payload.resize(h.payload_bytes);
    arm(server_.options.frame_timeout, "receiving a frame's payload", &server_.timeouts);
    stream_.async_read(frame_.payload, [self = shared_from_this()](std::error_code ec, size_t) {
      if (ec) return self->on_read_error(ec);
      self->on_payload();
    });
  }

  void on_payload() {
    if (auto f = check_frame_crc(header_, frame_.payload)) {
      ++server_.faults;
      return close(std::string("refused frame: ") + f->message);
    }
    ++server_.frames;
    out_.clear();
    if (frame_.type == FrameType::kPing) {
      encode_frame(FrameType::kPong, frame_.request_id, frame_.payload, out_);
    } else {
      server_.handler(frame_, out_);
    }
    if (out_.empty()) return read_header();
    arm(server_.options.frame_timeout, "sending a reply", &server_.timeouts);
    stream_.async_write(out_, [self = shared_from_this()](std::error_code ec, size_t) {
      if (ec) return self->on_read_error(ec);
      self->read_header();
    });
  }

  void on_read_error(std::error_code ec) {
    if (closed_) return;
    const bool eof = ec == asio::error::eof || ec == asio::ssl::error::stream_truncated;
    close(eof ? std::string() : "connection error: " + ec.message());
  }

  void close(const std::string& why) {
    if (closed_) return;
    closed_ = true;
    if (!why.empty()) server_.say(peer_ + ": " + why + "; connection closed");
    timer_.cancel();
    stream_.close();
  }

  FrameServer::Impl& server_;
  ByteStream stream_;
  asio::steady_timer timer_;
  std::string peer_;
  std::array<uint8_t, 1> first_{};
  std::array<uint8_t, kFrameHeaderBytes> header_{};
  Frame frame_;
  std::vector<uint8_t> out_;
  bool closed_ = false;
};

}  // namespace

void FrameServer::Impl::accept() {
  acceptor.async_accept([this](std::error_code ec, asio::ip::tcp::socket socket) {
    if (ec == asio::error::operation_aborted) return;
    if (!ec) {
      ++connections;
      std::error_code nd;
      socket.set_option(asio::ip::tcp::no_delay(true), nd);  // replies leave at once
      std::make_shared<Session>(*this, std::move(socket))->start();
    }
    accept();
  });
}

Result<std::unique_ptr<FrameServer>> FrameServer::start(const ServerOptions& options,
                                                        std::shared_ptr<asio::ssl::context> tls,
                                                        FrameHandler handler, LogFn log) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->tls = std::move(tls);
  impl->handler = std::move(handler);
  impl->log = std::move(log);
  std::error_code ec;
  const auto addr = asio::ip::make_address(options.bind, ec);
  if (ec) return make_error("bind address '", options.bind, "': ", ec.message());
  const asio::ip::tcp::endpoint ep(addr, options.port);
  impl->acceptor.open(ep.protocol(), ec);
  if (!ec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(ep, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return make_error("cannot listen on ", options.bind, ":", std::to_string(options.port), ": ",
                      ec.message());
  }
  impl->accept();
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] { raw->io.run(); });
  return std::unique_ptr<FrameServer>(new FrameServer(std::move(impl)));
}

FrameServer::FrameServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

FrameServer::~FrameServer() {
  impl_->io.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

uint16_t FrameServer::port() const {
  std::error_code ec;
  return impl_->acceptor.local_endpoint(ec).port();
}

ServerStats FrameServer::stats() const {
  return {impl_->connections.load(), impl_->handshakes_failed.load(), impl_->frames.load(),
          impl_->faults.load(), impl_->timeouts.load()};
}

}  // namespace moe::net
