#pragma once
// The device side of expert RPC: answers hello and expert-request frames for the experts of a
// locally loaded model (its own copy of the GGUF, checked against the host's fingerprint). Each
// assignment's output y is computed with the same CPU executor and kernels as the host's, as a
// batch of one row per assignment with weight 1 (out = 0 + 1 * y = y exactly), so the host's
// sum of w * y is bit-identical to a local run when rows travel as f32.
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/engine_api/expert_executor.h"
#include "core/model/model.h"
#include "netlink/assignment_outputs.h"
#include "netlink/frame.h"
#include "netlink/messages.h"

namespace moe::net {

struct ServiceInfo {
  std::string device_id;
  std::string model_fingerprint;
  std::vector<uint8_t> served;  ///< [n_layer * n_expert], 1 = served; empty: all
  float gflops = 0;
  uint64_t memory_bytes = 0;
  uint32_t max_payload = kDefaultMaxPayload;
  WireType reply_type = WireType::kF32;  ///< requests' type is used when it is not f32
  std::string machine;  ///< key of the machine it runs on (HelloAck::machine); empty: unsaid
};

class ExpertService {
 public:
  /// `executor` computes experts of `model`; `max_rows` is the most rows it takes per call.
  ExpertService(const Model& model, ExpertExecutor& executor, int max_rows, ServiceInfo info);

  /// Appends the reply to one frame to `out` (hello -> hello-ack or error; expert-request ->
  /// expert-response or error): a FrameHandler. Never throws; a bad request gets an error frame
  /// naming the problem. The request's rows are decoded into, and the outputs computed in,
  /// buffers kept from call to call; the reply is encoded straight into `out`.
  void handle(const Frame& request, std::vector<uint8_t>& out);

  /// Times this device's expert compute for about `budget` (the best of five runs of one token
  /// through every expert it serves in layer 0, repeated: neighbours on a shared machine only
  /// slow a run down) and returns GFLOP/s (2 · 3 · n_embd · n_ff per expert row); what the
  /// host weighs devices by when it spreads experts over them.
  float measure_gflops(std::chrono::milliseconds budget);
  void set_capacity(float gflops, uint64_t memory_bytes) {
    info_.gflops = gflops;
    info_.memory_bytes = memory_bytes;
  }

 private:
  static void error(uint64_t id, ErrorCode code, std::string message, std::vector<uint8_t>& out);
  void handle_request(const Frame& f, std::vector<uint8_t>& out);
  // Appends the expert-response (or an error) for `req` to `out`.
  void compute(uint64_t id, const ExpertRequest& req, std::vector<uint8_t>& out);

  const Model& model_;
  ExpertExecutor& executor_;
  int max_rows_;
  ServiceInfo info_;
  std::mutex mu_;  // one request at a time through the executor; guards the buffers below
  AssignmentScratch scratch_;
  ExpertRequest request_;  // the last request decoded
  std::vector<float> y_;   // [n_assign, n_embd] outputs of the request being answered
};

}  // namespace moe::net
