#include "netlink/remote_expert_executor.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>

#include "core/engine_api/placement.h"
#include "netlink/assignment_outputs.h"
#include "netlink/expert_placement.h"
#include "netlink/frame_client.h"
#include "netlink/messages.h"

namespace moe::net {

using Clock = std::chrono::steady_clock;

struct RemoteExpertExecutor::Device {
  // Held by run() for a whole layer call and by the background thread for a ping or to install
  // a new connection; everything below is guarded by it.
  mutable std::mutex mu;
  Clock::time_point last_used{};
  DeviceAddress address;
  uint32_t id = 0;  // 1-based: 0 is the host (ExecutionPlace::kLocal)
  std::unique_ptr<FrameClient> client;
  std::string device_id;
  std::vector<uint8_t> served;  // [n_layer * n_expert] from its hello-ack
  std::string machine;          // its machine's key from the hello-ack (empty: not said)
  Clock::time_point retry_at{};
  std::chrono::milliseconds backoff{1000};
  DeviceStatus status;
  // Per call: the assignments it got, the compact token rows sent, the request id.
  std::vector<int32_t> idx;
  std::vector<int32_t> token_slot;
  // Per call, kept so that a layer allocates nothing: the request's assignments and the batch
  // rows it carries, the request frame encoded in place, the reply frame read into.
  std::vector<WireAssignment> wire;
  std::vector<const float*> rows;
  std::vector<uint8_t> frame;
  Frame reply;
  uint64_t request_id = 0;
  Clock::time_point sent_at{};
  uint64_t sent_bytes = 0;  // the request frame
  uint32_t sent_tokens = 0;
  bool in_flight = false;
};

struct RemoteExpertExecutor::Connection {
  std::unique_ptr<FrameClient> client;
  HelloAck ack;
};

Result<std::vector<DeviceAddress>> parse_device_list(const std::string& text) {
  std::vector<DeviceAddress> out;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = text.find(',', start);
    std::string item = text.substr(start, comma == std::string::npos ? std::string::npos
                                                                     : comma - start);
    start = comma == std::string::npos ? text.size() + 1 : comma + 1;
    if (item.empty()) continue;
    DeviceAddress d;
    if (const size_t slash = item.find('/'); slash != std::string::npos) {
      d.name = item.substr(slash + 1);
      item.resize(slash);
    }
    const size_t colon = item.rfind(':');
    if (colon == std::string::npos || colon == 0) {
      return make_error("device '", item, "': expected host:port[/name]");
    }
    d.host = item.substr(0, colon);
    const std::string port = item.substr(colon + 1);
    char* end = nullptr;
    const long p = std::strtol(port.c_str(), &end, 10);
    if (port.empty() || *end != '\0' || p < 1 || p > 65535) {
      return make_error("device '", item, "': port must be 1-65535");
    }
    d.port = static_cast<uint16_t>(p);
    out.push_back(std::move(d));
  }
  if (out.empty()) return make_error("no devices in '", text, "'");
  return out;
}

RemoteExpertExecutor::RemoteExpertExecutor(const AssemblyContext& ctx, RemoteOptions options)
    : model_(ctx.model), local_(ctx.local), sink_(ctx.latency_sink), options_(std::move(options)) {
  set_event_bus(&ctx.bus);
}

RemoteExpertExecutor::~RemoteExpertExecutor() {
  {
    std::lock_guard lock(stop_mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (keeper_.joinable()) keeper_.join();
}

Result<std::unique_ptr<RemoteExpertExecutor>> RemoteExpertExecutor::create(
    const AssemblyContext& ctx, RemoteOptions options) {
  std::shared_ptr<asio::ssl::context> tls;
  if (options.insecure) {
    if (options.log) {
      options.log("INSECURE: --insecure: no TLS, activations cross the network in plaintext");
      auto log = std::move(options.log);
      options.log = [log](const std::string& line) { log("INSECURE: " + line); };
    }
  } else {
    auto made = make_tls_context(TlsRole::kClient, options.tls, options.log);
    if (!made.ok()) return made.error();
    tls = *made;
  }
  std::unique_ptr<RemoteExpertExecutor> ex(new RemoteExpertExecutor(ctx, std::move(options)));
  ex->tls_ = std::move(tls);
  for (const DeviceAddress& a : ex->options_.devices) {
    auto d = std::make_unique<Device>();
    d->address = a;
    d->status.address = a.host + ":" + std::to_string(a.port);
    d->status.secure = !ex->options_.insecure;
    d->id = static_cast<uint32_t>(ex->devices_.size() + 1);
    {
      std::lock_guard lock(d->mu);
      ex->settle(*d, ex->open_connection(d->address));
    }
    ex->devices_.push_back(std::move(d));
  }
  {
    // The first token's selection already needs to know where each expert lives.
    std::vector<std::unique_lock<std::mutex>> locks;
    for (auto& d : ex->devices_) locks.emplace_back(d->mu);
    ex->replace_ = false;
    ex->place();
  }
  ex->keeper_ = std::thread([raw = ex.get()] { raw->keep_alive(); });
  return ex;
}

void RemoteExpertExecutor::fail(Device& d, const std::string& why) {
  const bool was_up = d.status.up;
  // A deadline that passed on an open connection: the device stalled (stopped, overloaded, a
  // link that went silent) rather than going away; shown apart from a lost connection. A failed
  // reconnection (no client) keeps the cause of the loss.
  if (d.client != nullptr) d.status.stalled = d.client->timed_out();
  d.client.reset();
  d.status.up = false;
  ++d.status.failures;
  d.retry_at = Clock::now() + d.backoff;
  d.backoff = std::min(d.backoff * 2, std::chrono::milliseconds(30000));
  if (options_.log) {
    const bool named = why.rfind(d.status.address, 0) == 0;  // transport errors name the peer
    options_.log((named ? why : d.status.address + ": " + why) + "; its experts run on the host");
  }
  if (was_up) {
    replace_ = true;
    publish(d.status.stalled ? DeviceEvent::Kind::kTimeout : DeviceEvent::Kind::kLeft, d);
    if (sink_ != nullptr) sink_->mark_unavailable(static_cast<int>(d.id));
  }
}

Result<RemoteExpertExecutor::Connection> RemoteExpertExecutor::open_connection(
    const DeviceAddress& a) {
  ClientOptions co;
  co.connect_timeout = options_.connect_timeout;
  co.expected_name = a.name;
  auto c = FrameClient::connect(a.host, a.port, tls_, co);
  if (!c.ok()) return c.error();
  auto reply = (*c)->call(FrameType::kHello, next_id_++,
                          encode(Hello{"moe-studio host", options_.fingerprint}),
                          options_.rpc_timeout);
  if (!reply.ok()) {
    // A TLS node hangs up on a plaintext hello (and logs why on its side).
    return make_error(reply.message(), options_.insecure ? " (this host runs with --insecure: "
                                                           "is the device running with TLS?)"
                                                         : "");
  }
  if (reply->type == FrameType::kError) {
    auto e = decode_error(reply->payload);
    return make_error("refused the hello: ", e.ok() ? e->message : e.message());
  }
  const HParams& hp = model_.hparams();
  auto ack = decode_hello_ack(reply->payload);
  if (!ack.ok()) return ack.error();
  if (ack->model_hash != options_.fingerprint || ack->n_layer != hp.n_layer ||
      ack->n_expert != hp.n_expert) {
    return make_error("serves another model (", ack->model_hash, ")");
  }
  return Connection{std::move(*c), std::move(*ack)};
}

void RemoteExpertExecutor::install(Device& d, Connection c) {
  d.client = std::move(c.client);
  d.device_id = c.ack.device_id;
  d.served = std::move(c.ack.served);
  d.machine = std::move(c.ack.machine);
  d.status.device_id = d.device_id;
  d.status.identity = d.client->peer_identity();
  d.status.gflops = c.ack.gflops;
  d.status.memory_bytes = c.ack.memory_bytes;
  d.status.up = true;
  d.status.stalled = false;
  replace_ = true;
  d.backoff = std::chrono::milliseconds(1000);
  d.last_used = Clock::now();
  if (options_.log) options_.log(d.status.address + ": connected to device '" + d.device_id + "'");
  publish(DeviceEvent::Kind::kJoined, d);
}

void RemoteExpertExecutor::settle(Device& d, Result<Connection> c) {
  if (c.ok()) {
    install(d, std::move(*c));
  } else {
    fail(d, c.message());
  }
}

void RemoteExpertExecutor::keep_alive() {
  // Wakes often enough to honour short test intervals; the work per wake is a clock read per
  // device unless something is due.
  const auto tick = std::clamp(options_.heartbeat / 4, std::chrono::milliseconds(10),
                               std::chrono::milliseconds(250));
  std::unique_lock stop(stop_mu_);
  while (!stop_cv_.wait_for(stop, tick, [this] { return stopping_; })) {
    stop.unlock();
    for (auto& dp : devices_) {
      Device& d = *dp;
      // Waits out a layer call in flight (milliseconds): a busy decode must not starve the
      // reconnection of a lost device. A device in use is not pinged (last_used is recent).
      std::unique_lock lock(d.mu);
      const auto now = Clock::now();
      if (d.status.up && now - d.last_used >= options_.heartbeat) {
        auto pong = d.client->call(FrameType::kPing, next_id_++, {}, options_.heartbeat_timeout);
        if (pong.ok() && pong->type == FrameType::kPong) {
          ++d.status.heartbeats;
          d.last_used = Clock::now();
        } else {
          fail(d, pong.ok() ? "unexpected " + frame_type_name(static_cast<uint16_t>(pong->type)) +
                                  " frame to a ping"
                            : "heartbeat: " + pong.message());
        }
      } else if (!d.status.up && now >= d.retry_at) {
        // Connecting can take up to connect_timeout: not under the lock that run() needs.
        const DeviceAddress address = d.address;
        lock.unlock();
        auto c = open_connection(address);
        lock.lock();
        settle(d, std::move(c));
      }
    }
    stop.lock();
  }
}

void RemoteExpertExecutor::place() {
  const HParams& hp = model_.hparams();
  const size_t n_cells = static_cast<size_t>(hp.n_layer) * static_cast<size_t>(hp.n_expert);
  const size_t n_dev = devices_.size();
  const uint64_t per_expert = std::max<uint64_t>(1, model_.expert_bytes() / std::max<size_t>(1, n_cells));
  // A device that did not measure its speed counts as the mean of those that did.
  double known = 0;
  int n_known = 0;
  for (const auto& d : devices_) {
    if (d->status.up && d->status.gflops > 0) known += d->status.gflops, ++n_known;
  }
  const double fallback = n_known > 0 ? known / n_known : 1.0;
  std::vector<PlacementDevice> pd(n_dev);
  for (size_t i = 0; i < n_dev; ++i) {
    const DeviceStatus& st = devices_[i]->status;
    pd[i].machine = devices_[i]->machine;
    pd[i].speed = st.gflops > 0 ? st.gflops : fallback;
    pd[i].capacity = !st.up ? 0 : st.memory_bytes == 0 ? UINT64_MAX : st.memory_bytes / per_expert;
    pd[i].served = devices_[i]->served;
  }
  assign_ = place_experts(hp.n_layer, hp.n_expert, pd);
  std::vector<int> held(n_dev, 0);
  Placement placement(static_cast<int>(n_dev) + 1);
  for (int l = 0; l < hp.n_layer; ++l) {
    std::vector<std::vector<int>> by_expert(static_cast<size_t>(hp.n_expert));
    for (int e = 0; e < hp.n_expert; ++e) {
      const int best = assign_[static_cast<size_t>(l) * hp.n_expert + e];
      if (best >= 0) ++held[static_cast<size_t>(best)];
      by_expert[static_cast<size_t>(e)] = {best < 0 ? 0 : static_cast<int>(devices_[static_cast<size_t>(best)]->id)};
    }
    placement.set_layer_devices(l, std::move(by_expert));
  }
  std::string summary;
  size_t on_host = n_cells;
  for (size_t i = 0; i < n_dev; ++i) {
    devices_[i]->status.experts_held = static_cast<int>(held[i]);
    on_host -= held[i];
    if (!devices_[i]->status.up) continue;
    char speed_text[48];
    std::snprintf(speed_text, sizeof(speed_text), " (%.1f GFLOP/s)", devices_[i]->status.gflops);
    summary += devices_[i]->device_id + " " + std::to_string(held[i]) + speed_text + ", ";
  }
  // Devices up on one machine: say that they take whole layers (expert_placement.h).
  std::map<std::string, std::vector<std::string>> on_machine;
  for (const auto& d : devices_) {
    if (d->status.up && !d->machine.empty()) on_machine[d->machine].push_back(d->device_id);
  }
  std::string machines;
  for (const auto& [key, names] : on_machine) {
    if (names.size() < 2) continue;
    machines += "; " + names[0];
    for (size_t i = 1; i < names.size(); ++i) machines += ", " + names[i];
    machines += " share one machine: each takes whole layers";
  }
  if (sink_ != nullptr) sink_->set_placement(std::move(placement));
  if (options_.log) {
    options_.log("placement: " + summary + "host " + std::to_string(on_host) + " of " +
                 std::to_string(n_cells) + " experts" + machines);
  }
}

// y for the assignments `idx`, on the host's CPU executor, in chunks of the batch's token count
// (what it was sized for).
Status RemoteExpertExecutor::run_local(const ExpertBatch& b, std::span<const int32_t> idx) {
  const size_t e = static_cast<size_t>(b.n_embd);
  const auto at = [&](size_t i) -> const ExpertAssignment& {
    return b.assignments[static_cast<size_t>(idx[i])];
  };
  return expert_outputs(
      local_, b.layer, e, idx.size(), static_cast<size_t>(b.n_tokens),
      [&](size_t i) { return b.x + static_cast<size_t>(at(i).token) * e; },
      [&](size_t i) { return at(i).expert; },
      [&](size_t i) { return y_.data() + static_cast<size_t>(idx[i]) * e; }, scratch_);
}

Status RemoteExpertExecutor::run(const ExpertBatch& b) {
  const size_t e = static_cast<size_t>(b.n_embd), n = b.assignments.size();
  // Every device's state stays as it is for the whole call (the background thread waits).
  std::vector<std::unique_lock<std::mutex>> locks;
  locks.reserve(devices_.size());
  for (auto& d : devices_) {
    locks.emplace_back(d->mu);
    d->idx.clear();
    d->in_flight = false;
  }
  if (replace_.exchange(false)) place();
  local_idx_.clear();
  for (size_t i = 0; i < n; ++i) {
    const int dev = assign_[static_cast<size_t>(b.layer) * model_.hparams().n_expert +
                            static_cast<size_t>(b.assignments[i].expert)];
    (dev < 0 ? local_idx_ : devices_[static_cast<size_t>(dev)]->idx)
        .push_back(static_cast<int32_t>(i));
  }
  y_.resize(n * e);
  // Send every device its rows (tokens compacted to the ones it needs).
  for (auto& dp : devices_) {
    Device& d = *dp;
    if (d.idx.empty()) continue;
    // Their rows go from the batch straight into the frame.
    d.token_slot.assign(static_cast<size_t>(b.n_tokens), -1);
    d.wire.clear();
    d.rows.clear();
    for (int32_t i : d.idx) {
      const ExpertAssignment& a = b.assignments[static_cast<size_t>(i)];
      int32_t& slot = d.token_slot[static_cast<size_t>(a.token)];
      if (slot < 0) {
        slot = static_cast<int32_t>(d.rows.size());
        d.rows.push_back(b.x + static_cast<size_t>(a.token) * e);
      }
      d.wire.push_back({static_cast<uint32_t>(slot), static_cast<uint16_t>(a.expert)});
    }
    d.request_id = next_id_++;
    d.sent_at = Clock::now();
    d.last_used = d.sent_at;
    d.frame.clear();
    const size_t at = begin_frame(d.frame);
    ByteWriter w(d.frame);
    encode_expert_request(static_cast<uint16_t>(b.layer), options_.wire, static_cast<uint32_t>(e),
                          d.wire, d.rows, w);
    finish_frame(FrameType::kExpertRequest, d.request_id, d.frame, at);
    d.sent_bytes = d.frame.size();
    d.sent_tokens = static_cast<uint32_t>(d.rows.size());
    if (auto st = d.client->send_raw(d.frame, options_.rpc_timeout); !st.ok()) {
      fail(d, st.message());
      local_idx_.insert(local_idx_.end(), d.idx.begin(), d.idx.end());
      continue;
    }
    d.in_flight = true;
  }
  // The host's own share meanwhile (device 0 for the latency sink: no network).
  if (!local_idx_.empty()) {
    const auto t0 = Clock::now();
    if (auto st = run_local(b, local_idx_); !st.ok()) return st;
    if (sink_ != nullptr) {
      sink_->record(0, 0, std::chrono::duration<double>(Clock::now() - t0).count());
    }
  }
  // Gather; a device that fails now has its share computed here.
  for (auto& dp : devices_) {
    Device& d = *dp;
    if (!d.in_flight) continue;
    std::string why;
    Frame& reply = d.reply;
    if (auto st = d.client->receive_into(reply, options_.rpc_timeout); !st.ok()) {
      why = st.message();
    } else if (reply.type == FrameType::kError) {
      auto err = decode_error(reply.payload);
      why = "device error: " + (err.ok() ? err->message : err.message());
    } else if (reply.type != FrameType::kExpertResponse || reply.request_id != d.request_id) {
      why = "unexpected " + frame_type_name(static_cast<uint16_t>(reply.type)) + " frame";
    } else if (auto resp = view_expert_response(reply.payload); !resp.ok()) {
      why = resp.message();
    } else if (resp->y.rows != d.idx.size() || resp->y.cols != e) {
      why = "a reply of the wrong shape";
    } else {
      for (size_t j = 0; j < d.idx.size(); ++j) {
        resp->y.row(j, y_.data() + static_cast<size_t>(d.idx[j]) * e);
      }
      const double rtt = std::chrono::duration<double>(Clock::now() - d.sent_at).count();
      const double compute = static_cast<double>(resp->compute_ns) * 1e-9;
      ++d.status.rpcs;
      d.status.assignments += d.idx.size();
      d.status.last_rtt_s = rtt;
      d.status.last_compute_s = compute;
      DeviceEvent rpc;
      rpc.rtt_s = rtt;
      rpc.compute_s = compute;
      rpc.bytes = d.sent_bytes + kFrameHeaderBytes + reply.payload.size();
      rpc.tokens = d.sent_tokens;
      rpc.assignments = static_cast<uint32_t>(d.idx.size());
      publish(DeviceEvent::Kind::kRpc, d, &rpc);
      // The sink takes the network part and the compute part separately.
      if (sink_ != nullptr) sink_->record(static_cast<int>(d.id), std::max(0.0, rtt - compute), compute);
      continue;
    }
    fail(d, why);
    if (auto st = run_local(b, d.idx); !st.ok()) return st;
  }
  // out[t] += w * y (WDMoE eq. 1) in the batch's assignment order, as the local executor sums.
  for (size_t i = 0; i < n; ++i) {
    const ExpertAssignment& a = b.assignments[i];
    float* out = b.out + static_cast<size_t>(a.token) * e;
    const float* y = y_.data() + i * e;
    for (size_t c = 0; c < e; ++c) out[c] += a.weight * y[c];
  }
  return {};
}

void RemoteExpertExecutor::publish(DeviceEvent::Kind kind, const Device& d,
                                   const DeviceEvent* rpc) const {
  if (bus_ == nullptr || !bus_->has_subscribers()) return;
  DeviceEvent ev = rpc != nullptr ? *rpc : DeviceEvent{};
  ev.kind = kind;
  ev.device = d.id;
  ev.experts_held = static_cast<uint32_t>(d.status.experts_held);
  ev.insecure = d.status.secure ? 0 : 1;
  set_event_text(ev.address, d.status.address);
  set_event_text(ev.identity, d.status.identity);
  bus_->publish(ev);
}

std::string RemoteExpertExecutor::computed_on() const {
  std::string names;
  for (const auto& d : devices_) {
    std::lock_guard lock(d->mu);  // the UI thread asks while the decode thread runs
    if (d->status.rpcs == 0) continue;
    if (!names.empty()) names += ", ";
    names += d->status.identity.empty() ? d->status.address : d->status.identity;
    if (!d->status.up) names += d->status.stalled ? " (timed out)" : " (lost)";
  }
  return names.empty() ? std::string("local CPU (no device answered)")
                       : "LAN devices " + names + " + local CPU";
}

std::vector<DeviceStatus> RemoteExpertExecutor::status() const {
  std::vector<DeviceStatus> out;
  for (const auto& d : devices_) {
    std::lock_guard lock(d->mu);
    out.push_back(d->status);
  }
  return out;
}

}  // namespace moe::net
