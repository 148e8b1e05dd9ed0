#include "netlink/messages.h"

namespace moe::net {
namespace {

constexpr size_t kMaxName = 256;
constexpr size_t kMaxHash = 128;

template <class T>
Result<T> finish(const ByteReader& r, const char* what, T value) {
  if (!r.ok()) return make_error(what, ": ", r.error());
  if (r.remaining() != 0) {
    return make_error(what, ": ", std::to_string(r.remaining()), " bytes after the message");
  }
  return value;
}

RowLimits row_limits(const MessageLimits& lim, uint32_t max_rows) {
  return RowLimits{max_rows, lim.max_embd};
}

}  // namespace

std::vector<uint8_t> encode(const Hello& m) {
  std::vector<uint8_t> out;
  ByteWriter w(out);
  w.str(m.client_name);
  w.str(m.model_hash);
  return out;
}

Result<Hello> decode_hello(std::span<const uint8_t> payload, const MessageLimits&) {
  ByteReader r(payload);
  Hello m;
  m.client_name = r.str("client name", kMaxName);
  m.model_hash = r.str("model hash", kMaxHash);
  return finish(r, "hello", std::move(m));
}

std::vector<uint8_t> encode(const HelloAck& m) {
  std::vector<uint8_t> out;
  ByteWriter w(out);
  w.str(m.device_id);
  w.str(m.model_hash);
  w.put(m.n_layer);
  w.put(m.n_expert);
  w.put(m.n_embd);
  w.bytes(m.served);
  w.put(m.gflops);
  w.put(m.memory_bytes);
  w.put(m.max_payload);
  w.str(m.machine);
  return out;
}

Result<HelloAck> decode_hello_ack(std::span<const uint8_t> payload, const MessageLimits& lim) {
  ByteReader r(payload);
  HelloAck m;
  m.device_id = r.str("device id", kMaxName);
  m.model_hash = r.str("model hash", kMaxHash);
  m.n_layer = r.get<uint16_t>("layer count");
  m.n_expert = r.get<uint16_t>("expert count");
  m.n_embd = r.get<uint32_t>("n_embd");
  if (r.ok() && (m.n_layer > lim.max_layers || m.n_expert > lim.max_experts)) {
    r.fail("layer or expert count", "is over the limits");
  }
  const auto served = r.bytes(size_t{m.n_layer} * m.n_expert, "served-expert map");
  m.served.assign(served.begin(), served.end());
  m.gflops = r.get<float>("gflops");
  m.memory_bytes = r.get<uint64_t>("memory bytes");
  m.max_payload = r.get<uint32_t>("max payload");
  // Added after the first devices shipped: a hello-ack that ends here is theirs.
  if (r.remaining() > 0) m.machine = r.str("machine", kMaxName);
  return finish(r, "hello-ack", std::move(m));
}

void encode_expert_request(uint16_t layer, WireType type, uint32_t n_embd,
                           std::span<const WireAssignment> assignments,
                           std::span<const float* const> rows, ByteWriter& w) {
  w.put(layer);
  w.put(static_cast<uint32_t>(assignments.size()));
  for (const WireAssignment& a : assignments) {
    w.put(a.token);
    w.put(a.expert);
  }
  encode_rows_header(type, static_cast<uint32_t>(rows.size()), n_embd, w);
  for (const float* row : rows) encode_row(type, row, n_embd, w);
}

std::vector<uint8_t> encode(const ExpertRequest& m) {
  std::vector<uint8_t> out;
  out.reserve(32 + m.assignments.size() * 6 + m.n_tokens * wire_row_bytes(m.type, m.n_embd));
  std::vector<const float*> rows(m.n_tokens);
  for (uint32_t t = 0; t < m.n_tokens; ++t) rows[t] = m.x.data() + size_t{t} * m.n_embd;
  ByteWriter w(out);
  encode_expert_request(m.layer, m.type, m.n_embd, m.assignments, rows, w);
  return out;
}

Status decode_expert_request_into(std::span<const uint8_t> payload, const MessageLimits& lim,
                                  ExpertRequest& m) {
  ByteReader r(payload);
  m.layer = r.get<uint16_t>("layer");
  const auto n_assign = r.get<uint32_t>("assignment count");
  if (r.ok() && (n_assign > lim.max_assignments || uint64_t{n_assign} * 6 > r.remaining())) {
    r.fail("assignment count", "is over the limit or the bytes present");
  }
  m.assignments.resize(r.ok() ? n_assign : 0);
  for (WireAssignment& a : m.assignments) {
    a.token = r.get<uint32_t>("assignment token");
    a.expert = r.get<uint16_t>("assignment expert");
  }
  decode_rows(r, row_limits(lim, lim.max_tokens), m.x, &m.n_tokens, &m.n_embd, &m.type);
  if (r.ok() && (m.layer >= lim.max_layers)) r.fail("layer", "is over the limit");
  for (const WireAssignment& a : m.assignments) {
    if (!r.ok()) break;
    if (a.token >= m.n_tokens) r.fail("assignment token", "is past the batch's tokens");
    if (a.expert >= lim.max_experts) r.fail("assignment expert", "is over the limit");
  }
  return finish(r, "expert-request", 0).status();
}

Result<ExpertRequest> decode_expert_request(std::span<const uint8_t> payload,
                                            const MessageLimits& lim) {
  ExpertRequest m;
  if (auto st = decode_expert_request_into(payload, lim, m); !st.ok()) return st.error();
  return m;
}

void encode_expert_response(WireType type, uint64_t compute_ns, std::span<const float> y,
                            uint32_t n_assign, uint32_t n_embd, ByteWriter& w) {
  w.put(compute_ns);
  encode_rows(type, y, n_assign, n_embd, w);
}

std::vector<uint8_t> encode(const ExpertResponse& m) {
  std::vector<uint8_t> out;
  out.reserve(32 + m.n_assign * wire_row_bytes(m.type, m.n_embd));
  ByteWriter w(out);
  encode_expert_response(m.type, m.compute_ns, m.y, m.n_assign, m.n_embd, w);
  return out;
}

Result<ExpertResponseView> view_expert_response(std::span<const uint8_t> payload,
                                                const MessageLimits& lim) {
  ByteReader r(payload);
  ExpertResponseView v;
  v.compute_ns = r.get<uint64_t>("compute time");
  v.y = view_rows(r, row_limits(lim, lim.max_assignments));
  return finish(r, "expert-response", v);
}

Result<ExpertResponse> decode_expert_response(std::span<const uint8_t> payload,
                                              const MessageLimits& lim) {
  auto v = view_expert_response(payload, lim);
  if (!v.ok()) return v.error();
  ExpertResponse m;
  m.compute_ns = v->compute_ns;
  m.type = v->y.type;
  m.n_assign = v->y.rows;
  m.n_embd = v->y.cols;
  m.y.resize(size_t{m.n_assign} * m.n_embd);
  for (uint32_t i = 0; i < m.n_assign; ++i) v->y.row(i, m.y.data() + size_t{i} * m.n_embd);
  return m;
}

std::vector<uint8_t> encode(const Ping& m) {
  std::vector<uint8_t> out;
  ByteWriter(out).put(m.sent_ns);
  return out;
}

Result<Ping> decode_ping(std::span<const uint8_t> payload) {
  ByteReader r(payload);
  Ping m{r.get<uint64_t>("timestamp")};
  return finish(r, "ping", m);
}

std::vector<uint8_t> encode(const WireError& m) {
  std::vector<uint8_t> out;
  ByteWriter w(out);
  w.put(static_cast<uint16_t>(m.code));
  w.str(m.message);
  return out;
}

Result<WireError> decode_error(std::span<const uint8_t> payload) {
  ByteReader r(payload);
  WireError m;
  m.code = static_cast<ErrorCode>(r.get<uint16_t>("error code"));
  m.message = r.str("error message", 4096);
  return finish(r, "error", std::move(m));
}

}  // namespace moe::net
