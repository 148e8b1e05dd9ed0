#include "netlink/device_probe.h"

#include <algorithm>
#include <vector>

#include "netlink/frame_client.h"

namespace moe::net {
namespace {

using Clock = std::chrono::steady_clock;

bool has(const std::string& text, const char* what) { return text.find(what) != std::string::npos; }

// The transport's error text -> the stage it failed at and what the operator should know.
void explain_connect_failure(const std::string& message, bool secure, ProbeReport& r) {
  if (has(message, "Connection refused")) {
    r.problem = "port closed: nothing listens there (is moe-node running, with this --listen?)";
  } else if (has(message, "connect timed out") || has(message, "No route") ||
             has(message, "unreachable")) {
    r.problem = "no answer to the TCP connection: host down, no route, or a firewall (" +
                message + ")";
  } else if (has(message, "resolve")) {
    r.problem = message;
  } else if (has(message, "certificate is for")) {
    r.problem = "another device at that address: " + message;
  } else if (has(message, "TLS handshake") || has(message, "certificate")) {
    r.reached = ProbeReport::Stage::kConnect;
    r.problem = (secure ? "TLS refused: " : "") + message +
                " — the device's log names the certificate it refused";
  } else {
    r.problem = message;
  }
}

}  // namespace

ProbeReport probe_device(const DeviceAddress& a, const ProbeOptions& o) {
  ProbeReport r;
  ClientOptions co;
  co.connect_timeout = o.timeout;
  co.expected_name = a.name;
  auto c = FrameClient::connect(a.host, a.port, o.tls, co);
  if (!c.ok()) {
    explain_connect_failure(c.message(), o.tls != nullptr, r);
    return r;
  }
  r.reached = ProbeReport::Stage::kHandshake;
  auto reply = (*c)->call(FrameType::kHello, 1, encode(Hello{"moe-cli devices", o.fingerprint}),
                          o.timeout);
  if (!reply.ok()) {
    // A TLS 1.3 server checks the client's certificate after the client's side of the
    // handshake completed: a refused host learns it here, as a closed connection.
    r.problem = has(reply.message(), "version")
                    ? "another protocol version: " + reply.message()
                    : "the device closed the connection after the handshake (" +
                          reply.message() + "): it refused this host's certificate (expired, "
                          "revoked or of another CA), or one side runs --insecure";
    return r;
  }
  r.reached = ProbeReport::Stage::kHello;
  if (reply->type == FrameType::kError) {
    auto e = decode_error(reply->payload);
    const bool other_model = e.ok() && e->code == ErrorCode::kModelMismatch;
    r.problem = other_model ? "model hash mismatch: " + e->message
                            : "refused the hello: " + (e.ok() ? e->message : e.message());
    return r;
  }
  auto ack = decode_hello_ack(reply->payload);
  if (!ack.ok()) {
    r.problem = "unreadable hello-ack: " + ack.message();
    return r;
  }
  r.ack = std::move(*ack);
  r.reached = ProbeReport::Stage::kServes;
  r.ok = true;
  if (!o.measure) return r;
  std::vector<double> rtts;
  for (uint64_t id = 2; id < 22; ++id) {
    const auto t0 = Clock::now();
    auto pong = (*c)->call(FrameType::kPing, id, {}, o.timeout);
    if (!pong.ok()) break;
    rtts.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  if (!rtts.empty()) {
    std::nth_element(rtts.begin(), rtts.begin() + rtts.size() / 2, rtts.end());
    r.rtt_ms = rtts[rtts.size() / 2];
  }
  const std::vector<uint8_t> mib(1u << 20, 0x5a);
  const auto t0 = Clock::now();
  int echoed = 0;
  for (uint64_t id = 100; id < 105; ++id) {
    auto pong = (*c)->call(FrameType::kPing, id, mib, o.timeout);
    if (!pong.ok() || pong->payload.size() != mib.size()) break;
    ++echoed;
  }
  const double s = std::chrono::duration<double>(Clock::now() - t0).count();
  if (echoed > 0 && s > 0) r.mb_per_s = 2.0 * echoed * static_cast<double>(mib.size()) / s / 1e6;
  return r;
}

}  // namespace moe::net
