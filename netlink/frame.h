#pragma once
// Frames of the expert RPC protocol (docs/protocol.md): a fixed 24-byte little-endian header
//   magic "MOEN" | version u16 | type u16 | request id u64 | payload bytes u32 | CRC-32C u32
// then the payload. The CRC covers the header's first 20 bytes and the payload. The payload
// length is checked against the receiver's maximum before anything is allocated; a frame with
// a bad magic, another version, an unknown type, an oversize length or a wrong CRC is an error
// (the connection is closed). Pure: bytes in, frames or a typed error out; no sockets here.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "core/util/status.h"

namespace moe::net {

inline constexpr uint32_t kFrameMagic = 0x4E454F4Du;  // "MOEN" in file order
inline constexpr uint16_t kProtocolVersion = 1;
inline constexpr size_t kFrameHeaderBytes = 24;
/// The default largest payload a peer accepts: a 512-token prefill batch of n_embd 4096 in f32
/// (8 MiB) with room to spare. Each side may configure its own.
inline constexpr uint32_t kDefaultMaxPayload = 32u << 20;

enum class FrameType : uint16_t {
  kHello = 1,           ///< host -> device: who I am, which model (by content hash)
  kHelloAck = 2,        ///< device -> host: device id, experts served, speed, memory
  kExpertRequest = 3,   ///< host -> device: one MoE layer's tokens and assignments
  kExpertResponse = 4,  ///< device -> host: expert outputs and compute time
  kPing = 5,            ///< heartbeat; the reply echoes the payload
  kPong = 6,
  kError = 7,           ///< either way: a code and a message for the log
};
/// "expert-request", ... ; "unknown(<n>)" for any other value.
std::string frame_type_name(uint16_t type);
bool is_known_frame_type(uint16_t type);

/// Why a frame was refused, for logs and tests.
enum class FrameError : uint8_t { kBadMagic, kBadVersion, kUnknownType, kOversize, kBadCrc };
const char* frame_error_name(FrameError e);

struct FrameHeader {
  uint16_t version = kProtocolVersion;
  FrameType type = FrameType::kPing;
  uint64_t request_id = 0;
  uint32_t payload_bytes = 0;
  uint32_t crc = 0;
};

struct Frame {
  FrameType type = FrameType::kPing;
  uint64_t request_id = 0;
  std::vector<uint8_t> payload;
};

/// A failed check: which one and a message naming the values.
struct FrameFault {
  FrameError kind;
  std::string message;
};

/// A frame written in place, so that a payload is encoded straight into the bytes that are
/// sent (no copy of a multi-MiB payload into a frame): begin_frame appends a blank header and
/// returns where the frame starts; the caller appends the payload to `out`; finish_frame fills
/// in the header (length, CRC) of the frame that starts at `at`.
size_t begin_frame(std::vector<uint8_t>& out);
void finish_frame(FrameType type, uint64_t request_id, std::vector<uint8_t>& out, size_t at);

/// Header + payload, CRC filled in. Appends to `out`.
void encode_frame(FrameType type, uint64_t request_id, std::span<const uint8_t> payload,
                  std::vector<uint8_t>& out);
std::vector<uint8_t> encode_frame(FrameType type, uint64_t request_id,
                                  std::span<const uint8_t> payload);

/// Parses and checks a header (magic, version, type, length against max_payload). The CRC can
/// only be checked with the payload: check_frame_crc.
std::variant<FrameHeader, FrameFault> parse_frame_header(
    std::span<const uint8_t, kFrameHeaderBytes> bytes, uint32_t max_payload);
/// The CRC of header + payload against the header's.
std::optional<FrameFault> check_frame_crc(std::span<const uint8_t, kFrameHeaderBytes> header,
                                          std::span<const uint8_t> payload);

/// Incremental decoding of a byte stream (the fuzz target's and tests' view of a connection):
/// feed what arrived, take complete frames. After the first fault the decoder stays failed.
class FrameDecoder {
 public:
  explicit FrameDecoder(uint32_t max_payload = kDefaultMaxPayload) : max_payload_(max_payload) {}
  void feed(std::span<const uint8_t> bytes);
  /// The next complete frame, nullopt when more bytes are needed or after a fault.
  std::optional<Frame> next();
  const std::optional<FrameFault>& fault() const { return fault_; }
  /// Bytes fed and not yet returned as frames.
  size_t buffered() const { return buf_.size() - pos_; }

 private:
  uint32_t max_payload_;
  std::vector<uint8_t> buf_;
  size_t pos_ = 0;
  std::optional<FrameFault> fault_;
};

}  // namespace moe::net
