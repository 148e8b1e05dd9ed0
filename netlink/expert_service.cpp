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

Frame ExpertService::error(uint64_t id, ErrorCode code, std::string message) const {
  return {FrameType::kError, id, encode(WireError{code, std::move(message)})};
}

std::vector<Frame> ExpertService::handle(const Frame& f) {
  const HParams& hp = model_.hparams();
  switch (f.type) {
    case FrameType::kHello: {
      auto hello = decode_hello(f.payload);
      if (!hello.ok()) return {error(f.request_id, ErrorCode::kBadRequest, hello.message())};
      // An empty hash asks what this device serves (moe-cli devices); a host always sends its.
      if (!hello->model_hash.empty() && hello->model_hash != info_.model_fingerprint) {
        return {error(f.request_id, ErrorCode::kModelMismatch,
                      "this device serves model " + info_.model_fingerprint + ", the host runs " +
                          hello->model_hash)};
      }
      HelloAck ack{info_.device_id,
                   info_.model_fingerprint,
                   static_cast<uint16_t>(hp.n_layer),
                   static_cast<uint16_t>(hp.n_expert),
                   static_cast<uint32_t>(hp.n_embd),
                   info_.served,
                   info_.gflops,
                   info_.memory_bytes,
                   info_.max_payload};
      return {Frame{FrameType::kHelloAck, f.request_id, encode(ack)}};
    }
    case FrameType::kExpertRequest: {
      MessageLimits lim;
      lim.max_layers = static_cast<uint16_t>(hp.n_layer);
      lim.max_experts = static_cast<uint16_t>(hp.n_expert);
      lim.max_embd = static_cast<uint32_t>(hp.n_embd);
      auto req = decode_expert_request(f.payload, lim);
      if (!req.ok()) return {error(f.request_id, ErrorCode::kBadRequest, req.message())};
      if (req->n_embd != static_cast<uint32_t>(hp.n_embd)) {
        return {error(f.request_id, ErrorCode::kBadRequest,
                      "n_embd " + std::to_string(req->n_embd) + ", the model's is " +
                          std::to_string(hp.n_embd))};
      }
      for (const WireAssignment& a : req->assignments) {
        if (!info_.served[static_cast<size_t>(req->layer) * hp.n_expert + a.expert]) {
          return {error(f.request_id, ErrorCode::kNotServed,
                        "expert " + std::to_string(a.expert) + " of layer " +
                            std::to_string(req->layer) + " is not served here")};
        }
      }
      return {compute(f.request_id, *req)};
    }
    case FrameType::kPing:
      return {Frame{FrameType::kPong, f.request_id, f.payload}};
    default:
      return {error(f.request_id, ErrorCode::kBadRequest,
                    "a device does not take " + frame_type_name(static_cast<uint16_t>(f.type)) +
                        " frames")};
  }
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
  compute(0, req);  // warm: first touch of the weights
  // The best of five short runs: on a shared machine a single run measures the neighbours.
  double best = 0;
  for (int run = 0; run < 5; ++run) {
    const auto t0 = std::chrono::steady_clock::now();
    int calls = 0;
    do {
      compute(0, req);
      ++calls;
    } while (std::chrono::steady_clock::now() - t0 < budget / 5);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, flops_per_call * calls / s);
  }
  return static_cast<float>(best * 1e-9);
}

Frame ExpertService::compute(uint64_t id, const ExpertRequest& req) {
  std::lock_guard lock(mu_);
  const auto t0 = std::chrono::steady_clock::now();
  const size_t e = req.n_embd, n = req.assignments.size();
  ExpertResponse resp;
  resp.type = req.type == WireType::kF32 ? info_.reply_type : req.type;
  resp.n_assign = static_cast<uint32_t>(n);
  resp.n_embd = req.n_embd;
  resp.y.resize(n * e);  // every row is written by expert_outputs
  const auto& as = req.assignments;
  if (auto st = expert_outputs(
          executor_, req.layer, e, n, static_cast<size_t>(max_rows_),
          [&](size_t i) { return req.x.data() + as[i].token * e; },
          [&](size_t i) { return static_cast<int32_t>(as[i].expert); },
          [&](size_t i) { return resp.y.data() + i * e; }, scratch_);
      !st.ok()) {
    return error(id, ErrorCode::kInternal, st.message());
  }
  resp.compute_ns = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0)
          .count());
  return {FrameType::kExpertResponse, id, encode(resp)};
}

}  // namespace moe::net
