#include "tests/gguf_fuzz/frame_check.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "netlink/frame.h"
#include "netlink/messages.h"

namespace moe::fuzz {
namespace {

using namespace moe::net;

[[noreturn]] void violated(const char* what) {
  std::fprintf(stderr, "frame fuzz invariant violated: %s\n", what);
  std::abort();
}

// Decodes the payload as its type says; an accepted message must re-encode to the same bytes
// where the encoding is exact.
bool check_payload(const Frame& f) {
  const auto& p = f.payload;
  const auto same = [&](const std::vector<uint8_t>& re) {
    if (re != p) violated("an accepted message does not re-encode to its payload");
  };
  switch (f.type) {
    case FrameType::kHello: {
      auto m = decode_hello(p);
      if (m) same(encode(*m));
      return m.ok();
    }
    case FrameType::kHelloAck: {
      auto m = decode_hello_ack(p);
      if (m) same(encode(*m));
      return m.ok();
    }
    case FrameType::kExpertRequest: {
      auto m = decode_expert_request(p);
      if (m) {
        if (m->x.size() != size_t{m->n_tokens} * m->n_embd) violated("request rows != shape");
        for (const WireAssignment& a : m->assignments) {
          if (a.token >= m->n_tokens) violated("an assignment past the batch was accepted");
        }
        if (m->type == WireType::kF32) same(encode(*m));
      }
      return m.ok();
    }
    case FrameType::kExpertResponse: {
      auto m = decode_expert_response(p);
      if (m) {
        if (m->y.size() != size_t{m->n_assign} * m->n_embd) violated("response rows != shape");
        if (m->type == WireType::kF32) same(encode(*m));
      }
      return m.ok();
    }
    case FrameType::kPing:
    case FrameType::kPong: {
      auto m = decode_ping(p);
      if (m) same(encode(*m));
      return m.ok();
    }
    case FrameType::kError: {
      auto m = decode_error(p);
      if (m) same(encode(*m));
      return m.ok();
    }
  }
  violated("a frame of an unknown type came out of the decoder");
}

std::vector<float> ramp(size_t n, float scale) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = scale * (static_cast<float>(i % 17) - 8.0f);
  return v;
}

// Rewrites each frame's CRC to match its bytes, walking the stream by the lengths it claims, so
// that mutations reach the payload decoders instead of stopping at the checksum.
std::vector<uint8_t> repair_crcs(std::span<const uint8_t> in) {
  std::vector<uint8_t> s(in.begin(), in.end());
  size_t at = 0;
  while (s.size() - at >= kFrameHeaderBytes) {
    uint32_t len;
    std::memcpy(&len, s.data() + at + 16, 4);
    if (len > s.size() - at - kFrameHeaderBytes) break;
    const auto fixed = encode_frame(static_cast<FrameType>(s[at + 6] | s[at + 7] << 8), 0,
                                    std::span<const uint8_t>(s).subspan(at + kFrameHeaderBytes, len));
    std::memcpy(s.data() + at + 20, fixed.data() + 20, 4);  // the CRC covers the request id too:
    std::memcpy(s.data() + at + 8, fixed.data() + 8, 8);    // keep the one it was computed with
    std::memcpy(s.data() + at, fixed.data(), 8);            // and the magic, version and type
    at += kFrameHeaderBytes + len;
  }
  return s;
}

}  // namespace

CheckOutcome check_frames(std::span<const uint8_t> bytes) {
  CheckOutcome out;
  if (bytes.empty()) return out;
  constexpr uint32_t kMax = 1u << 20;
  FrameDecoder dec(kMax);
  const uint8_t chunk_seed = bytes[0];
  std::vector<uint8_t> repaired;
  auto rest = bytes.subspan(1);
  if (chunk_seed & 0x80) {
    repaired = repair_crcs(rest);
    rest = repaired;
  }
  size_t chunk = 1 + chunk_seed % 37;
  int frames = 0;
  while (!rest.empty()) {
    const size_t n = std::min(chunk, rest.size());
    dec.feed(rest.first(n));
    rest = rest.subspan(n);
    chunk = chunk * 5 % 97 + 1;
    while (auto f = dec.next()) {
      if (f->payload.size() > kMax) violated("a frame over the limit came out");
      ++frames;
      if (!check_payload(*f)) out.message = "payload rejected";
    }
    if (dec.fault()) {
      if (dec.fault()->message.empty()) violated("a fault without a message");
      out.message = dec.fault()->message;
      break;
    }
  }
  out.loaded = frames > 0;
  return out;
}

std::vector<std::vector<uint8_t>> make_frame_seeds() {
  std::vector<std::vector<uint8_t>> seeds;
  std::vector<uint8_t> s{7};
  encode_frame(FrameType::kHello, 1, encode(Hello{"host-a", "0123456789abcdef"}), s);
  HelloAck ack{"node-1", "0123456789abcdef", 2, 4, 8, {1, 0, 1, 1, 0, 1, 0, 1}, 12.5f, 1u << 30,
               1u << 20};
  encode_frame(FrameType::kHelloAck, 1, encode(ack), s);
  encode_frame(FrameType::kPing, 2, encode(Ping{123456789}), s);
  encode_frame(FrameType::kPong, 2, encode(Ping{123456789}), s);
  seeds.push_back(std::move(s));
  for (WireType t : {WireType::kF32, WireType::kF16, WireType::kBF16, WireType::kI8}) {
    std::vector<uint8_t> r{static_cast<uint8_t>(11 + static_cast<int>(t))};
    ExpertRequest req{1, t, 3, 8, ramp(24, 0.25f), {{0, 1}, {0, 3}, {1, 0}, {2, 2}}};
    encode_frame(FrameType::kExpertRequest, 10, encode(req), r);
    ExpertResponse resp{t, 4, 8, ramp(32, -0.5f), 4200};
    encode_frame(FrameType::kExpertResponse, 10, encode(resp), r);
    seeds.push_back(std::move(r));
  }
  for (size_t i = 0, n = seeds.size(); i < n; ++i) {  // the same streams, checksums repaired
    seeds.push_back(seeds[i]);
    seeds.back()[0] |= 0x80;
  }
  std::vector<uint8_t> e{3};
  encode_frame(FrameType::kError, 5, encode(WireError{ErrorCode::kNotServed, "expert 3 of layer 1"}),
               e);
  seeds.push_back(std::move(e));
  return seeds;
}

}  // namespace moe::fuzz
