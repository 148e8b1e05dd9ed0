#pragma once
// One expert device checked the way the host would use it, step by step — TCP connect, TLS
// handshake (or plaintext with --insecure), hello with the model's fingerprint — so that
// `moe-cli devices` can say *why* a device the operator expects does not serve: port closed,
// no route, certificate refused, another protocol version, another model. With `measure`, it
// also times pings (RTT) and 1 MiB echoes (throughput) over the same connection.
#include <chrono>
#include <memory>
#include <string>

#include <asio/ssl/context.hpp>

#include "netlink/messages.h"
#include "netlink/remote_expert_executor.h"

namespace moe::net {

struct ProbeReport {
  enum class Stage { kConnect, kHandshake, kHello, kServes };
  Stage reached = Stage::kConnect;  ///< the last stage passed (kServes: usable)
  bool ok = false;
  std::string problem;              ///< why not, in the operator's words; empty when ok
  HelloAck ack;                     ///< what it said (after kHello)
  double rtt_ms = 0;                ///< median of 20 pings (measure)
  double mb_per_s = 0;              ///< 1 MiB echoes, both directions counted (measure)
};

struct ProbeOptions {
  std::shared_ptr<asio::ssl::context> tls;  ///< null: plaintext (--insecure)
  std::string fingerprint;                  ///< the host's model; empty: any model is fine
  std::chrono::milliseconds timeout{2000};
  bool measure = false;
};

ProbeReport probe_device(const DeviceAddress& address, const ProbeOptions& options);

}  // namespace moe::net
