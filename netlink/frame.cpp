#include "netlink/frame.h"

#include <cstring>

#include "netlink/byte_io.h"
#include "netlink/crc32c.h"

namespace moe::net {
namespace {
constexpr size_t kCrcOffset = 20;

uint32_t frame_crc(std::span<const uint8_t> header, std::span<const uint8_t> payload) {
  return crc32c(payload, crc32c(header.first(kCrcOffset)));
}
}  // namespace

std::string frame_type_name(uint16_t type) {
  switch (static_cast<FrameType>(type)) {
    case FrameType::kHello: return "hello";
    case FrameType::kHelloAck: return "hello-ack";
    case FrameType::kExpertRequest: return "expert-request";
    case FrameType::kExpertResponse: return "expert-response";
    case FrameType::kPing: return "ping";
    case FrameType::kPong: return "pong";
    case FrameType::kError: return "error";
  }
  return "unknown(" + std::to_string(type) + ")";
}

bool is_known_frame_type(uint16_t type) {
  return type >= static_cast<uint16_t>(FrameType::kHello) &&
         type <= static_cast<uint16_t>(FrameType::kError);
}

const char* frame_error_name(FrameError e) {
  switch (e) {
    case FrameError::kBadMagic: return "bad magic";
    case FrameError::kBadVersion: return "unsupported protocol version";
    case FrameError::kUnknownType: return "unknown frame type";
    case FrameError::kOversize: return "frame too large";
    case FrameError::kBadCrc: return "checksum mismatch";
  }
  return "?";
}

size_t begin_frame(std::vector<uint8_t>& out) {
  const size_t at = out.size();
  out.resize(at + kFrameHeaderBytes);
  return at;
}

void finish_frame(FrameType type, uint64_t request_id, std::vector<uint8_t>& out, size_t at) {
  const std::span<const uint8_t> payload(out.data() + at + kFrameHeaderBytes,
                                         out.size() - at - kFrameHeaderBytes);
  uint8_t* h = out.data() + at;
  const auto put = [&h](auto v) {
    std::memcpy(h, &v, sizeof(v));
    h += sizeof(v);
  };
  put(kFrameMagic);
  put(kProtocolVersion);
  put(static_cast<uint16_t>(type));
  put(request_id);
  put(static_cast<uint32_t>(payload.size()));
  put(frame_crc({out.data() + at, kFrameHeaderBytes}, payload));
}

void encode_frame(FrameType type, uint64_t request_id, std::span<const uint8_t> payload,
                  std::vector<uint8_t>& out) {
  out.reserve(out.size() + kFrameHeaderBytes + payload.size());
  const size_t at = begin_frame(out);
  out.insert(out.end(), payload.begin(), payload.end());
  finish_frame(type, request_id, out, at);
}

std::vector<uint8_t> encode_frame(FrameType type, uint64_t request_id,
                                  std::span<const uint8_t> payload) {
  std::vector<uint8_t> out;
  encode_frame(type, request_id, payload, out);
  return out;
}

std::variant<FrameHeader, FrameFault> parse_frame_header(
    std::span<const uint8_t, kFrameHeaderBytes> bytes, uint32_t max_payload) {
  ByteReader r(bytes);
  const auto magic = r.get<uint32_t>("magic");
  FrameHeader h;
  h.version = r.get<uint16_t>("version");
  const auto type = r.get<uint16_t>("type");
  h.request_id = r.get<uint64_t>("request id");
  h.payload_bytes = r.get<uint32_t>("payload length");
  h.crc = r.get<uint32_t>("crc");
  if (magic != kFrameMagic) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "bad magic 0x%08x (expected 0x%08x, \"MOEN\")", magic,
                  kFrameMagic);
    return FrameFault{FrameError::kBadMagic, buf};
  }
  if (h.version != kProtocolVersion) {
    return FrameFault{FrameError::kBadVersion, "protocol version " + std::to_string(h.version) +
                                                   ", this build speaks version " +
                                                   std::to_string(kProtocolVersion)};
  }
  if (!is_known_frame_type(type)) {
    return FrameFault{FrameError::kUnknownType, "unknown frame type " + std::to_string(type)};
  }
  h.type = static_cast<FrameType>(type);
  if (h.payload_bytes > max_payload) {
    return FrameFault{FrameError::kOversize, frame_type_name(type) + " frame of " +
                                                 std::to_string(h.payload_bytes) +
                                                 " payload bytes, over the limit of " +
                                                 std::to_string(max_payload)};
  }
  return h;
}

std::optional<FrameFault> check_frame_crc(std::span<const uint8_t, kFrameHeaderBytes> header,
                                          std::span<const uint8_t> payload) {
  uint32_t want;
  std::memcpy(&want, header.data() + kCrcOffset, sizeof(want));
  const uint32_t got = frame_crc(header, payload);
  if (got == want) return std::nullopt;
  char buf[96];
  std::snprintf(buf, sizeof(buf), "checksum mismatch (frame says 0x%08x, bytes give 0x%08x)", want,
                got);
  return FrameFault{FrameError::kBadCrc, buf};
}

void FrameDecoder::feed(std::span<const uint8_t> bytes) {
  if (fault_) return;
  if (pos_ > 0 && pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  }
  buf_.insert(buf_.end(), bytes.begin(), bytes.end());
}

std::optional<Frame> FrameDecoder::next() {
  if (fault_ || buf_.size() - pos_ < kFrameHeaderBytes) return std::nullopt;
  const std::span<const uint8_t, kFrameHeaderBytes> header(buf_.data() + pos_, kFrameHeaderBytes);
  auto parsed = parse_frame_header(header, max_payload_);
  if (auto* f = std::get_if<FrameFault>(&parsed)) {
    fault_ = std::move(*f);
    return std::nullopt;
  }
  const FrameHeader& h = std::get<FrameHeader>(parsed);
  if (buf_.size() - pos_ - kFrameHeaderBytes < h.payload_bytes) return std::nullopt;
  const std::span<const uint8_t> payload(buf_.data() + pos_ + kFrameHeaderBytes, h.payload_bytes);
  if (auto f = check_frame_crc(header, payload)) {
    fault_ = std::move(*f);
    return std::nullopt;
  }
  Frame frame{h.type, h.request_id, {payload.begin(), payload.end()}};
  pos_ += kFrameHeaderBytes + h.payload_bytes;
  // Keep the buffer from growing without bound on a long stream.
  if (pos_ > (size_t{1} << 20) && pos_ * 2 > buf_.size()) {
    buf_.erase(buf_.begin(), buf_.begin() + static_cast<ptrdiff_t>(pos_));
    pos_ = 0;
  }
  return frame;
}

}  // namespace moe::net
