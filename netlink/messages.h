#pragma once
// The payloads of the expert RPC frames (docs/protocol.md) and their encoders / decoders. Pure
// functions: a decoder takes the payload bytes of a frame already checked by frame.h and gives
// the message or an error naming the field ("expert-request: truncated at assignment 3"),
// checking every count against the bytes present before allocating.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/util/status.h"
#include "netlink/activation_codec.h"

namespace moe::net {

/// host -> device, first frame of a connection.
struct Hello {
  std::string client_name;   ///< for the device's log
  std::string model_hash;    ///< content hash of the host's model file (hex)
};

/// device -> host: what the device is and serves.
struct HelloAck {
  std::string device_id;
  std::string model_hash;     ///< of the device's own copy; must equal the host's
  uint16_t n_layer = 0;
  uint16_t n_expert = 0;
  uint32_t n_embd = 0;
  /// served[l * n_expert + e]: the device holds expert e of layer l.
  std::vector<uint8_t> served;
  float gflops = 0;           ///< measured expert compute speed, GFLOP/s
  uint64_t memory_bytes = 0;  ///< RAM the device offers for experts
  uint32_t max_payload = 0;   ///< largest frame payload it accepts
  /// Which machine it runs on: devices with one key share cores (moe-node: a hash of the
  /// kernel's boot id). Optional on the wire (a device that does not send it: empty).
  std::string machine;
};

/// One token routed to one expert. The gate weight stays on the host: the device returns each
/// assignment's expert output y and the host forms sum_q w_q y_q in its own order, so with f32
/// transfer the layer output is bit-identical to computing the experts locally.
struct WireAssignment {
  uint32_t token = 0;
  uint16_t expert = 0;
};

/// host -> device: one MoE layer of a batch.
struct ExpertRequest {
  uint16_t layer = 0;
  WireType type = WireType::kF32;       ///< of the activations on the wire
  uint32_t n_tokens = 0, n_embd = 0;
  std::vector<float> x;                 ///< [n_tokens, n_embd] FFN inputs (after the norm)
  std::vector<WireAssignment> assignments;
};

/// device -> host: y for every assignment of the request, in its order.
struct ExpertResponse {
  WireType type = WireType::kF32;
  uint32_t n_assign = 0, n_embd = 0;
  std::vector<float> y;                 ///< [n_assign, n_embd]
  uint64_t compute_ns = 0;              ///< time the device spent computing them
};

struct Ping {
  uint64_t sent_ns = 0;  ///< the sender's clock; echoed in the pong
};

enum class ErrorCode : uint16_t {
  kBadRequest = 1,     ///< a frame that decoded but makes no sense (layer out of range, ...)
  kNotServed = 2,      ///< an expert this device does not hold
  kModelMismatch = 3,  ///< the host's model hash is not this device's
  kOverloaded = 4,
  kInternal = 5,
};
struct WireError {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
};

/// Limits a decoder enforces beyond the frame size.
struct MessageLimits {
  uint32_t max_tokens = 1u << 16;
  uint32_t max_embd = 1u << 16;
  uint32_t max_assignments = 1u << 20;
  uint16_t max_layers = 1024;
  uint16_t max_experts = 1024;
};

std::vector<uint8_t> encode(const Hello& m);
std::vector<uint8_t> encode(const HelloAck& m);
std::vector<uint8_t> encode(const ExpertRequest& m);
std::vector<uint8_t> encode(const ExpertResponse& m);
std::vector<uint8_t> encode(const Ping& m);
std::vector<uint8_t> encode(const WireError& m);

Result<Hello> decode_hello(std::span<const uint8_t> payload, const MessageLimits& lim = {});
Result<HelloAck> decode_hello_ack(std::span<const uint8_t> payload, const MessageLimits& lim = {});
Result<ExpertRequest> decode_expert_request(std::span<const uint8_t> payload,
                                            const MessageLimits& lim = {});
Result<ExpertResponse> decode_expert_response(std::span<const uint8_t> payload,
                                              const MessageLimits& lim = {});

// The hot path of every MoE layer, without a multi-MiB temporary per call: the host encodes
// the rows a device needs straight from its batch into the frame it sends and decodes the
// reply's rows straight to where they go; the device decodes into buffers it keeps and
// encodes its reply into the bytes it writes.

/// What encode(ExpertRequest) writes, with row t of x at rows[t] (n_embd floats each).
void encode_expert_request(uint16_t layer, WireType type, uint32_t n_embd,
                           std::span<const WireAssignment> assignments,
                           std::span<const float* const> rows, ByteWriter& w);
/// What encode(ExpertResponse) writes, y being [n_assign, n_embd].
void encode_expert_response(WireType type, uint64_t compute_ns, std::span<const float> y,
                            uint32_t n_assign, uint32_t n_embd, ByteWriter& w);
/// decode_expert_request into `out`, reusing its buffers; on an error `out` is unspecified.
Status decode_expert_request_into(std::span<const uint8_t> payload, const MessageLimits& lim,
                                  ExpertRequest& out);
/// An expert-response read in place (the payload must outlive it): y rows decoded on demand.
struct ExpertResponseView {
  uint64_t compute_ns = 0;
  RowsView y;  ///< [n_assign, n_embd]
};
Result<ExpertResponseView> view_expert_response(std::span<const uint8_t> payload,
                                                const MessageLimits& lim = {});
Result<Ping> decode_ping(std::span<const uint8_t> payload);
Result<WireError> decode_error(std::span<const uint8_t> payload);

}  // namespace moe::net
