#pragma once
// The device side of the expert RPC transport: a TLS 1.3 server (standalone Asio, one
// io_context thread; plain TCP only when started without a TLS context, i.e. --insecure) that reads frames with the limits and timeouts of docs/protocol.md and
// hands each request to a handler. Pings are answered here. A connection is closed, and the
// reason logged, on a refused handshake, a malformed frame (bad magic / version / type /
// oversize / CRC), a handshake, idle or frame timeout (slow loris) — the other connections are
// not affected.
#include <asio/ssl/context.hpp>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/util/status.h"
#include "netlink/frame.h"
#include "netlink/tls_context.h"

namespace moe::net {

struct ServerOptions {
  std::string bind = "127.0.0.1";
  uint16_t port = 0;  ///< 0: any free port (see FrameServer::port())
  uint32_t max_payload = kDefaultMaxPayload;
  std::chrono::milliseconds handshake_timeout{5000};
  std::chrono::milliseconds idle_timeout{30000};  ///< for the next frame's header
  std::chrono::milliseconds frame_timeout{5000};  ///< for a payload once its header arrived
};

/// Answers one request frame by appending its reply frames, encoded (encode_frame, or
/// begin_frame / finish_frame to encode a payload in place), to `replies` — the connection's
/// send buffer, kept from call to call; nothing appended: no reply. Runs on the server's thread.
using FrameHandler = std::function<void(const Frame& request, std::vector<uint8_t>& replies)>;

struct ServerStats {
  uint64_t connections = 0;        ///< accepted TCP connections
  uint64_t handshakes_failed = 0;  ///< TLS refused (certificate, protocol) or timed out
  uint64_t frames = 0;             ///< well-formed frames received
  uint64_t faults = 0;             ///< malformed frames (connection closed)
  uint64_t timeouts = 0;           ///< idle or slow frames (connection closed)
};

class FrameServer {
 public:
  /// `tls` null: plaintext (--insecure). A peer speaking the other mode is refused and named
  /// as such in the log.
  static Result<std::unique_ptr<FrameServer>> start(const ServerOptions& options,
                                                    std::shared_ptr<asio::ssl::context> tls,
                                                    FrameHandler handler, LogFn log = {});
  ~FrameServer();  ///< closes every connection and joins the thread
  FrameServer(const FrameServer&) = delete;
  FrameServer& operator=(const FrameServer&) = delete;

  uint16_t port() const;
  ServerStats stats() const;

  struct Impl;

 private:
  explicit FrameServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace moe::net
