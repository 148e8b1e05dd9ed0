#pragma once
// The host side of the expert RPC transport: one TLS 1.3 connection to a device with a
// synchronous, deadline-bounded API (Asio connects; then reads and writes block in poll(2) with
// the time left, through SyncStream: no reactor round trip per TLS record; on a timeout the
// connection is closed and every later call fails at once). Not thread-safe: one caller at a
// time.
#include <asio/ssl/context.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "core/util/status.h"
#include "netlink/frame.h"

namespace moe::net {

struct ClientOptions {
  std::chrono::milliseconds connect_timeout{3000};  ///< TCP connect + TLS handshake
  uint32_t max_payload = kDefaultMaxPayload;
  /// When set, the device's certificate must carry this name (CN / DNS subjectAltName).
  std::string expected_name;
};

class FrameClient {
 public:
  /// `tls` null: plaintext (--insecure).
  static Result<std::unique_ptr<FrameClient>> connect(const std::string& host, uint16_t port,
                                                      std::shared_ptr<asio::ssl::context> tls,
                                                      const ClientOptions& options = {});
  ~FrameClient();
  FrameClient(const FrameClient&) = delete;
  FrameClient& operator=(const FrameClient&) = delete;

  Status send(FrameType type, uint64_t request_id, std::span<const uint8_t> payload,
              std::chrono::milliseconds timeout);
  /// The next frame from the device; an error on a timeout, a closed connection or a
  /// malformed frame (the message says which).
  Result<Frame> receive(std::chrono::milliseconds timeout);
  /// The same into `frame`, reusing its payload's buffer (no multi-MiB allocation per reply on
  /// the decode path); on an error `frame` is unspecified.
  Status receive_into(Frame& frame, std::chrono::milliseconds timeout);
  /// send + receive of the reply with the same request id.
  Result<Frame> call(FrameType type, uint64_t request_id, std::span<const uint8_t> payload,
                     std::chrono::milliseconds timeout);
  bool open() const;
  /// The connection was closed because a deadline passed (the peer stalled), not by the peer,
  /// a network error or a bad frame.
  bool timed_out() const;
  bool secure() const;
  /// The common name (CN) of the device's certificate, read after the handshake (empty in
  /// plaintext).
  const std::string& peer_identity() const;
  /// Writes bytes as they are: whole frames encoded in place by the caller (begin_frame /
  /// finish_frame), or hostile bytes in tests of the server's defences.
  Status send_raw(std::span<const uint8_t> bytes, std::chrono::milliseconds timeout);

  struct Impl;

 private:
  explicit FrameClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace moe::net
