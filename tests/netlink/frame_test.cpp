#include "netlink/frame.h"

#include <gtest/gtest.h>

#include <cstring>

namespace moe::net {
namespace {

std::vector<uint8_t> payload_of(size_t n) {
  std::vector<uint8_t> p(n);
  for (size_t i = 0; i < n; ++i) p[i] = static_cast<uint8_t>(i * 31 + 7);
  return p;
}

TEST(Frame, RoundTripsThroughTheDecoderFedOneByteAtATime) {
  std::vector<uint8_t> stream;
  encode_frame(FrameType::kPing, 1, payload_of(8), stream);
  encode_frame(FrameType::kExpertRequest, 0xFFFFFFFFFFFFull, payload_of(1000), stream);
  encode_frame(FrameType::kError, 3, {}, stream);
  ASSERT_EQ(stream.size(), 3 * kFrameHeaderBytes + 1008);
  FrameDecoder dec(4096);
  std::vector<Frame> got;
  for (uint8_t b : stream) {
    dec.feed({&b, 1});
    while (auto f = dec.next()) got.push_back(std::move(*f));
  }
  ASSERT_FALSE(dec.fault()) << dec.fault()->message;
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].type, FrameType::kPing);
  EXPECT_EQ(got[0].request_id, 1u);
  EXPECT_EQ(got[0].payload, payload_of(8));
  EXPECT_EQ(got[1].type, FrameType::kExpertRequest);
  EXPECT_EQ(got[1].request_id, 0xFFFFFFFFFFFFull);
  EXPECT_EQ(got[1].payload, payload_of(1000));
  EXPECT_EQ(got[2].type, FrameType::kError);
  EXPECT_TRUE(got[2].payload.empty());
  EXPECT_EQ(dec.buffered(), 0u);
}

TEST(Frame, HeaderLayoutIsTheDocumentedOne) {
  const auto f = encode_frame(FrameType::kExpertResponse, 0x0102030405060708ull, payload_of(5));
  ASSERT_EQ(f.size(), kFrameHeaderBytes + 5);
  EXPECT_EQ(std::string(f.begin(), f.begin() + 4), "MOEN");
  EXPECT_EQ(f[4], 1);  // version 1, little-endian
  EXPECT_EQ(f[5], 0);
  EXPECT_EQ(f[6], 4);  // expert-response
  EXPECT_EQ(f[8], 0x08);
  EXPECT_EQ(f[15], 0x01);
  EXPECT_EQ(f[16], 5);  // payload bytes
}

// Every refusal is typed and says what it saw; the decoder stays failed afterwards.
TEST(Frame, HostileHeadersAndPayloadsAreRefusedWithAReason) {
  const auto good = encode_frame(FrameType::kPing, 9, payload_of(8));
  struct Case {
    const char* name;
    size_t offset;
    uint8_t value;
    FrameError want;
    const char* says;
  };
  const Case cases[] = {
      {"magic", 0, 'X', FrameError::kBadMagic, "bad magic"},
      {"version", 4, 2, FrameError::kBadVersion, "protocol version 2"},
      {"type", 6, 99, FrameError::kUnknownType, "unknown frame type 99"},
      {"length", 19, 0x10, FrameError::kOversize, "over the limit"},
      {"crc", 20, 0x00, FrameError::kBadCrc, "checksum mismatch"},
      {"payload", kFrameHeaderBytes + 3, 0xEE, FrameError::kBadCrc, "checksum mismatch"},
      {"request id", 8, 0x77, FrameError::kBadCrc, "checksum mismatch"},
  };
  for (const Case& c : cases) {
    auto bad = good;
    if (bad[c.offset] == c.value) bad[c.offset] ^= 1;
    bad[c.offset] = c.value;
    FrameDecoder dec(1024);
    dec.feed(bad);
    EXPECT_FALSE(dec.next()) << c.name;
    ASSERT_TRUE(dec.fault()) << c.name;
    EXPECT_EQ(dec.fault()->kind, c.want) << c.name;
    EXPECT_NE(dec.fault()->message.find(c.says), std::string::npos)
        << c.name << ": " << dec.fault()->message;
    dec.feed(good);  // nothing after a fault is decoded
    EXPECT_FALSE(dec.next()) << c.name;
  }
}

// An oversize length is refused from the header alone: the payload is never waited for nor
// buffered (a peer cannot make us hold 4 GB by announcing it).
TEST(Frame, OversizeIsRefusedBeforeThePayloadArrives) {
  auto f = encode_frame(FrameType::kExpertRequest, 1, payload_of(100));
  FrameDecoder dec(99);
  dec.feed(std::span<const uint8_t>(f).first(kFrameHeaderBytes));
  EXPECT_FALSE(dec.next());
  ASSERT_TRUE(dec.fault());
  EXPECT_EQ(dec.fault()->kind, FrameError::kOversize);
  const uint32_t huge = 0xFFFFFFFFu;
  std::memcpy(f.data() + 16, &huge, 4);
  const auto parsed = parse_frame_header(std::span<const uint8_t, kFrameHeaderBytes>(
                                             f.data(), kFrameHeaderBytes),
                                         kDefaultMaxPayload);
  ASSERT_TRUE(std::holds_alternative<FrameFault>(parsed));
  EXPECT_EQ(std::get<FrameFault>(parsed).kind, FrameError::kOversize);
}

// A truncated frame is not an error yet (more bytes may come): the decoder waits.
TEST(Frame, TruncatedFramesWait) {
  const auto f = encode_frame(FrameType::kHello, 1, payload_of(40));
  for (size_t cut = 0; cut < f.size(); ++cut) {
    FrameDecoder dec;
    dec.feed(std::span<const uint8_t>(f).first(cut));
    EXPECT_FALSE(dec.next()) << cut;
    EXPECT_FALSE(dec.fault()) << cut;
    dec.feed(std::span<const uint8_t>(f).subspan(cut));
    EXPECT_TRUE(dec.next()) << cut;
  }
}

TEST(Frame, TypeNames) {
  EXPECT_EQ(frame_type_name(3), "expert-request");
  EXPECT_EQ(frame_type_name(0), "unknown(0)");
  EXPECT_FALSE(is_known_frame_type(0));
  EXPECT_FALSE(is_known_frame_type(8));
  EXPECT_TRUE(is_known_frame_type(7));
}

}  // namespace
}  // namespace moe::net
