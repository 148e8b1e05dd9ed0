#include "netlink/expert_service.h"

#include "netlink/assignment_outputs.h"

#include <algorithm>
#include <chrono>

namespace moe::net {

ExpertService::ExpertService(const Model& model, ExpertExecutor& executor, int max_rows,
                             ServiceInfo info)
    : model_(model), executor_(executor), max_rows_(std::max(max_rows, 1)), info_(std::move(info)) {
  const HParams& hp = model_.hparams();
  if (info_.served.empty()) {
    info_.served.assign(static_cast<size_t>(hp.n_layer) * static_cast<size_t>(hp.n_expert), 1);
  }
}

void ExpertService::error(uint64_t id, ErrorCode code, std::string message,
                          std::vector<uint8_t>& out) {
  encode_frame(FrameType::kError, id, encode(WireError{code, std::move(message)}), out);
}

void ExpertService::handle(const Frame& f, std::vector<uint8_t>& out) {
  const HParams& hp = model_.hparams();
  switch (f.type) {
    case FrameType::kHello: {
      auto hello = decode_hello(f.payload);
      if (!hello.ok()) return error(f.request_id, ErrorCode::kBadRequest, hello.message(), out);
      // An empty hash asks what this device serves (moe-cli devices); a host always sends its.
      if (!hello->model_hash.empty() && hello->model_hash != info_.model_fingerprint) {
        return error(f.request_id, ErrorCode::kModelMismatch,
                     "this device serves model " + info_.model_fingerprint + ", the host runs " +
                         hello->model_hash,
                     out);
      }
      HelloAck ack{info_.device_id,
                   info_.model_fingerprint,
                   static_cast<uint16_t>(hp.n_layer),
                   static_cast<uint16_t>(hp.n_expert),
                   static_cast<uint32_t>(hp.n_embd),
                   info_.served,
                   info_.gflops,
                   info_.memory_bytes,
                   info_.max_payload,
                   info_.machine};
      return encode_frame(FrameType::kHelloAck, f.request_id, encode(ack), out);
    }
    case FrameType::kExpertRequest:
      return handle_request(f, out);
    case FrameType::kPing:
      return encode_frame(FrameType::kPong, f.request_id, f.payload, out);
    default:
      return error(
          f.request_id, ErrorCode::kBadRequest,
          "a device does not take " + frame_type_name(static_cast<uint16_t>(f.type)) + " frames",
          out);
  }
}

void ExpertService::handle_request(const Frame& f, std::vector<uint8_t>& out) {
  const HParams& hp = model_.hparams();
  MessageLimits lim;
  lim.max_layers = static_cast<uint16_t>(hp.n_layer);
  lim.max_experts = static_cast<uint16_t>(hp.n_expert);
  lim.max_embd = static_cast<uint32_t>(hp.n_embd);
  std::lock_guard lock(mu_);
  ExpertRequest& req = request_;
  if (auto st = decode_expert_request_into(f.payload, lim, req); !st.ok()) {
    return error(f.request_id, ErrorCode::kBadRequest, st.message(), out);
  }
  if (req.n_embd != static_cast<uint32_t>(hp.n_embd)) {
    return error(
        f.request_id, ErrorCode::kBadRequest,
        "n_embd " + std::to_string(req.n_embd) + ", the model's is " + std::to_string(hp.n_embd),
        out);
  }
  for (const WireAssignment& a : req.assignments) {
    if (!info_.served[static_cast<size_t>(req.layer) * hp.n_expert + a.expert]) {
      return error(f.request_id, ErrorCode::kNotServed,
                   "expert " + std::to_string(a.expert) + " of layer " + std::to_string(req.layer) +
                       " is not served here",
                   out);
    }
  }
  compute(f.request_id, req, out);
}

float ExpertService::measure_gflops(std::chrono::milliseconds budget) {
  const HParams& hp = model_.hparams();
  ExpertRequest req;
  req.n_tokens = 1;
  req.n_embd = static_cast<uint32_t>(hp.n_embd);
  req.x.assign(static_cast<size_t>(hp.n_embd), 0.01f);
  for (int e = 0; e < hp.n_expert; ++e) {
    if (info_.served[static_cast<size_t>(e)]) req.assignments.push_back({0, static_cast<uint16_t>(e)});
  }
  if (req.assignments.empty()) return 0;
  const int n_ff = hp.n_expert_ff > 0 ? hp.n_expert_ff : hp.n_ff;
  const double flops_per_call = 6.0 * hp.n_embd * n_ff * static_cast<double>(req.assignments.size());
  std::lock_guard lock(mu_);
  std::vector<uint8_t> out;  // the replies, dropped: only the time counts
  compute(0, req, out);      // warm: first touch of the weights
  // The best of five short runs: on a shared machine a single run measures the neighbours.
  double best = 0;
  for (int run = 0; run < 5; ++run) {
    const auto t0 = std::chrono::steady_clock::now();
    int calls = 0;
    do {
      out.clear();
      compute(0, req, out);
      ++calls;
    } while (std::chrono::steady_clock::now() - t0 < budget / 5);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, flops_per_call * calls / s);
  }
  return static_cast<float>(best * 1e-9);
}

void ExpertService::compute(uint64_t id, const ExpertRequest& req, std::vector<uint8_t>& out) {
  const auto t0 = std::chrono::steady_clock::now();
  const size_t e = req.n_embd, n = req.assignments.size();
  y_.resize(n * e);  // every row is written by expert_outputs
  const auto& as = req.assignments;
  if (auto st = expert_outputs(
          executor_, req.layer, e, n, static_cast<size_t>(max_rows_),
          [&](size_t i) { return req.x.data() + as[i].token * e; },
          [&](size_t i) { return static_cast<int32_t>(as[i].expert); },
          [&](size_t i) { return y_.data() + i * e; }, scratch_);
      !st.ok()) {
    return error(id, ErrorCode::kInternal, st.message(), out);
  }
  const auto compute_ns = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0)
          .count());
  const WireType type = req.type == WireType::kF32 ? info_.reply_type : req.type;
  const size_t at = begin_frame(out);
  ByteWriter w(out);
  encode_expert_response(type, compute_ns, y_, static_cast<uint32_t>(n), req.n_embd, w);
  finish_frame(FrameType::kExpertResponse, id, out, at);
}

}  // namespace moe::net
