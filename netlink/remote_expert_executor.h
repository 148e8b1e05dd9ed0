#pragma once
// The host side of expert devices on the LAN (SPEC §3.2-3.3): an ExpertExecutor that, for each
// MoE layer, sends every device the tokens routed to the experts it holds (all devices in
// flight at once: every request is sent before any reply is awaited), computes the rest on the
// host's CPU meanwhile, gathers each assignment's output y and forms out[t] += w * y in the
// batch's assignment order — the local executor's order, so with f32 rows the result is
// bit-identical to an all-local run. A device that fails (connection lost, timeout, error
// frame) is marked down and its assignments are computed locally in the same call: the
// generation continues; reconnection is tried again after a backoff (1 s doubling to 30 s).
// Each RPC is published as a DeviceEvent and recorded in the latency sink (WLR selection); a
// device that stalls past the RPC or heartbeat timeout is published as kTimeout, one whose
// connection closed or failed as kLeft.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <string>
#include <vector>

#include "core/deploy/assemble.h"
#include "netlink/activation_codec.h"
#include "netlink/assignment_outputs.h"
#include "netlink/tls_context.h"

namespace moe::net {

struct DeviceAddress {
  std::string host;
  uint16_t port = 0;
  std::string name;  ///< the name in its certificate (checked); empty: not checked
};
/// "host:port[/name],..." -> addresses; an error names the bad entry.
Result<std::vector<DeviceAddress>> parse_device_list(const std::string& text);

struct RemoteOptions {
  std::vector<DeviceAddress> devices;
  TlsFiles tls;              ///< the host's certificate and the deployment CA
  /// Plain TCP, no certificates: activations travel readable by anyone on the path. Only on
  /// the operator's explicit --insecure; every log line says so.
  bool insecure = false;
  std::string fingerprint;   ///< of the host's model file (model_fingerprint)
  WireType wire = WireType::kF32;
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds rpc_timeout{5000};
  /// A connection idle this long gets a ping (well under moe-node's 30 s idle timeout).
  std::chrono::milliseconds heartbeat{5000};
  /// A ping unanswered this long marks the device lost.
  std::chrono::milliseconds heartbeat_timeout{1000};
  LogFn log;  ///< called from the decode thread and the background thread
};

struct DeviceStatus {
  std::string address, device_id;
  std::string identity;  ///< the CN of its certificate
  bool up = false;
  bool stalled = false;  ///< went down because an RPC or ping timed out (not a closed connection)
  bool secure = true;  ///< false: plaintext (--insecure)
  float gflops = 0;           ///< the device's measured expert speed (its hello-ack)
  uint64_t memory_bytes = 0;  ///< RAM it offers for experts (0: not said)
  int experts_held = 0;       ///< (layer, expert) pairs the host sends it now
  uint64_t rpcs = 0, failures = 0, assignments = 0, heartbeats = 0;
  double last_rtt_s = 0, last_compute_s = 0;
};

class RemoteExpertExecutor final : public ExpertExecutor {
 public:
  /// Connects to every device (hello, fingerprint check, served experts). A device that cannot
  /// be reached is logged and retried later; with none reachable the executor still works
  /// (everything local).
  static Result<std::unique_ptr<RemoteExpertExecutor>> create(const AssemblyContext& ctx,
                                                              RemoteOptions options);
  ~RemoteExpertExecutor() override;

  Status run(const ExpertBatch& batch) override;
  void prefetch(int layer, std::span<const int32_t> experts) override {
    local_.prefetch(layer, experts);
  }
  std::string_view name() const override { return "LAN devices"; }
  /// "LAN devices a, b (lost), c (timed out) + local CPU": the devices that ran experts since
  /// the load (by certificate name), and those lost or stalled since.
  std::string computed_on() const override;
  /// A snapshot; callable from any thread.
  std::vector<DeviceStatus> status() const;

  struct Device;
  struct Connection;

 private:
  RemoteExpertExecutor(const AssemblyContext& ctx, RemoteOptions options);
  // Connects and says hello; touches no device state (runs without the device's lock).
  Result<Connection> open_connection(const DeviceAddress& a);
  // Under the device's lock: takes a connection made (outside it, after the first time) into
  // use, or counts its failure and schedules the retry.
  void settle(Device& d, Result<Connection> c);
  void install(Device& d, Connection c);
  void keep_alive();  // the background thread
  void place();       // under every device's lock
  Status run_local(const ExpertBatch& b, std::span<const int32_t> idx);
  void fail(Device& d, const std::string& why);
  // kRpc: the RPC's figures; the other kinds: the device's identity and state only.
  void publish(DeviceEvent::Kind kind, const Device& d, const DeviceEvent* rpc = nullptr) const;

  const Model& model_;
  ExpertExecutor& local_;
  LatencySink* sink_;
  RemoteOptions options_;
  std::shared_ptr<asio::ssl::context> tls_;
  std::vector<std::unique_ptr<Device>> devices_;
  std::atomic<uint64_t> next_id_{1};
  std::vector<int> assign_;  // [layer * n_expert + expert] -> index in devices_, -1: the host
  std::atomic<bool> replace_{true};
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::thread keeper_;
  // Per call: y per assignment, and scratch for the rows computed here.
  std::vector<float> y_;
  AssignmentScratch scratch_;
  std::vector<int32_t> local_idx_;
};

}  // namespace moe::net
