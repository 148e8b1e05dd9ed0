#include "netlink/remote_expert_executor.h"

#include <algorithm>
#include <cstring>

#include "netlink/assignment_outputs.h"
#include "netlink/frame_client.h"
#include "netlink/messages.h"

namespace moe::net {

using Clock = std::chrono::steady_clock;

struct RemoteExpertExecutor::Device {
  DeviceAddress address;
  uint32_t id = 0;  // 1-based: 0 is the host (ExecutionPlace::kLocal)
  std::unique_ptr<FrameClient> client;
  std::string device_id;
  std::vector<uint8_t> served;  // [n_layer * n_expert] from its hello-ack
  Clock::time_point retry_at{};
  std::chrono::milliseconds backoff{1000};
  DeviceStatus status;
  // Per call: the assignments it got, the compact token rows sent, the request id.
  std::vector<int32_t> idx;
  std::vector<int32_t> token_slot;
  uint64_t request_id = 0;
  Clock::time_point sent_at{};
  uint64_t sent_bytes = 0;  // the request frame
  bool in_flight = false;
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

RemoteExpertExecutor::~RemoteExpertExecutor() = default;

Result<std::unique_ptr<RemoteExpertExecutor>> RemoteExpertExecutor::create(
    const AssemblyContext& ctx, RemoteOptions options) {
  auto tls = make_tls_context(TlsRole::kClient, options.tls, options.log);
  if (!tls.ok()) return tls.error();
  std::unique_ptr<RemoteExpertExecutor> ex(new RemoteExpertExecutor(ctx, std::move(options)));
  ex->tls_ = *tls;
  for (const DeviceAddress& a : ex->options_.devices) {
    auto d = std::make_unique<Device>();
    d->address = a;
    d->status.address = a.host + ":" + std::to_string(a.port);
    d->id = static_cast<uint32_t>(ex->devices_.size() + 1);
    ex->connect(*d);
    ex->devices_.push_back(std::move(d));
  }
  return ex;
}

void RemoteExpertExecutor::fail(Device& d, const std::string& why) {
  const bool was_up = d.status.up;
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
    publish(DeviceEvent::Kind::kLeft, d);
    if (sink_ != nullptr) sink_->mark_unavailable(static_cast<int>(d.id));
  }
}

bool RemoteExpertExecutor::connect(Device& d) {
  ClientOptions co;
  co.connect_timeout = options_.connect_timeout;
  co.expected_name = d.address.name;
  auto c = FrameClient::connect(d.address.host, d.address.port, tls_, co);
  if (!c.ok()) {
    fail(d, c.message());
    return false;
  }
  auto reply = (*c)->call(FrameType::kHello, next_id_++,
                          encode(Hello{"moe-studio host", options_.fingerprint}),
                          options_.rpc_timeout);
  if (!reply.ok()) {
    fail(d, reply.message());
    return false;
  }
  if (reply->type == FrameType::kError) {
    auto e = decode_error(reply->payload);
    fail(d, "refused the hello: " + (e.ok() ? e->message : e.message()));
    return false;
  }
  const HParams& hp = model_.hparams();
  auto ack = decode_hello_ack(reply->payload);
  if (!ack.ok() || ack->model_hash != options_.fingerprint ||
      ack->n_layer != hp.n_layer || ack->n_expert != hp.n_expert) {
    fail(d, ack.ok() ? "serves another model (" + ack->model_hash + ")" : ack.message());
    return false;
  }
  d.client = std::move(*c);
  d.device_id = ack->device_id;
  d.served = ack->served;
  d.status.device_id = ack->device_id;
  d.status.identity = d.client->peer_identity();
  d.status.experts_held = static_cast<uint32_t>(
      std::count_if(d.served.begin(), d.served.end(), [](uint8_t v) { return v != 0; }));
  d.status.up = true;
  d.backoff = std::chrono::milliseconds(1000);
  if (options_.log) {
    options_.log(d.status.address + ": connected to device '" + ack->device_id + "'");
  }
  publish(DeviceEvent::Kind::kJoined, d);
  return true;
}

int RemoteExpertExecutor::device_for(int layer, int expert) const {
  const size_t k = static_cast<size_t>(layer) * model_.hparams().n_expert + expert;
  // Experts are spread over the devices that serve them: expert e of a layer goes to the
  // (e mod m)-th of the m devices up that serve it.
  int m = 0;
  for (const auto& d : devices_) m += d->status.up && d->served[k] ? 1 : 0;
  if (m == 0) return -1;
  int pick = expert % m;
  for (size_t i = 0; i < devices_.size(); ++i) {
    if (devices_[i]->status.up && devices_[i]->served[k] && pick-- == 0) {
      return static_cast<int>(i);
    }
  }
  return -1;
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
  const auto now = Clock::now();
  for (auto& d : devices_) {
    if (!d->status.up && now >= d->retry_at) connect(*d);
    d->idx.clear();
    d->in_flight = false;
  }
  local_idx_.clear();
  for (size_t i = 0; i < n; ++i) {
    const int dev = device_for(b.layer, b.assignments[i].expert);
    (dev < 0 ? local_idx_ : devices_[static_cast<size_t>(dev)]->idx)
        .push_back(static_cast<int32_t>(i));
  }
  y_.resize(n * e);
  // Send every device its rows (tokens compacted to the ones it needs).
  for (auto& dp : devices_) {
    Device& d = *dp;
    if (d.idx.empty()) continue;
    ExpertRequest req;
    req.layer = static_cast<uint16_t>(b.layer);
    req.type = options_.wire;
    req.n_embd = static_cast<uint32_t>(e);
    d.token_slot.assign(static_cast<size_t>(b.n_tokens), -1);
    for (int32_t i : d.idx) {
      const ExpertAssignment& a = b.assignments[static_cast<size_t>(i)];
      int32_t& slot = d.token_slot[static_cast<size_t>(a.token)];
      if (slot < 0) {
        slot = static_cast<int32_t>(req.n_tokens++);
        req.x.insert(req.x.end(), b.x + static_cast<size_t>(a.token) * e,
                     b.x + static_cast<size_t>(a.token + 1) * e);
      }
      req.assignments.push_back({static_cast<uint32_t>(slot), static_cast<uint16_t>(a.expert)});
    }
    d.request_id = next_id_++;
    d.sent_at = Clock::now();
    const std::vector<uint8_t> payload = encode(req);
    d.sent_bytes = kFrameHeaderBytes + payload.size();
    if (auto st =
            d.client->send(FrameType::kExpertRequest, d.request_id, payload, options_.rpc_timeout);
        !st.ok()) {
      fail(d, st.message());
      local_idx_.insert(local_idx_.end(), d.idx.begin(), d.idx.end());
      continue;
    }
    d.in_flight = true;
  }
  // The host's own share meanwhile.
  if (auto st = run_local(b, local_idx_); !st.ok()) return st;
  // Gather; a device that fails now has its share computed here.
  for (auto& dp : devices_) {
    Device& d = *dp;
    if (!d.in_flight) continue;
    std::string why;
    auto reply = d.client->receive(options_.rpc_timeout);
    if (!reply.ok()) {
      why = reply.message();
    } else if (reply->type == FrameType::kError) {
      auto err = decode_error(reply->payload);
      why = "device error: " + (err.ok() ? err->message : err.message());
    } else if (reply->type != FrameType::kExpertResponse || reply->request_id != d.request_id) {
      why = "unexpected " + frame_type_name(static_cast<uint16_t>(reply->type)) + " frame";
    } else if (auto resp = decode_expert_response(reply->payload); !resp.ok()) {
      why = resp.message();
    } else if (resp->n_assign != d.idx.size() || resp->n_embd != e) {
      why = "a reply of the wrong shape";
    } else {
      for (size_t j = 0; j < d.idx.size(); ++j) {
        std::memcpy(y_.data() + static_cast<size_t>(d.idx[j]) * e, resp->y.data() + j * e,
                    e * sizeof(float));
      }
      const double rtt = std::chrono::duration<double>(Clock::now() - d.sent_at).count();
      const double compute = static_cast<double>(resp->compute_ns) * 1e-9;
      ++d.status.rpcs;
      d.status.assignments += d.idx.size();
      d.status.last_rtt_s = rtt;
      d.status.last_compute_s = compute;
      publish(DeviceEvent::Kind::kRpc, d, rtt, compute,
              d.sent_bytes + kFrameHeaderBytes + reply->payload.size());
      if (sink_ != nullptr) sink_->record(static_cast<int>(d.id), rtt, compute);
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

void RemoteExpertExecutor::publish(DeviceEvent::Kind kind, const Device& d, double rtt_s,
                                   double compute_s, uint64_t bytes) const {
  if (bus_ == nullptr || !bus_->has_subscribers()) return;
  DeviceEvent ev;
  ev.kind = kind;
  ev.device = d.id;
  ev.rtt_s = rtt_s;
  ev.compute_s = compute_s;
  ev.bytes = bytes;
  ev.experts_held = d.status.experts_held;
  set_event_text(ev.address, d.status.address);
  set_event_text(ev.identity, d.status.identity);
  bus_->publish(ev);
}

std::string RemoteExpertExecutor::computed_on() const {
  std::string names;
  for (const auto& d : devices_) {
    if (d->status.rpcs == 0) continue;
    if (!names.empty()) names += ", ";
    names += d->status.identity.empty() ? d->status.address : d->status.identity;
    if (!d->status.up) names += " (lost)";
  }
  return names.empty() ? std::string("local CPU (no device answered)")
                       : "LAN devices " + names + " + local CPU";
}

std::vector<DeviceStatus> RemoteExpertExecutor::status() const {
  std::vector<DeviceStatus> out;
  for (const auto& d : devices_) out.push_back(d->status);
  return out;
}

}  // namespace moe::net
