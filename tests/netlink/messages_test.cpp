#include "netlink/messages.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

namespace moe::net {
namespace {

std::vector<float> random_rows(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, 2.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

TEST(Messages, HelloAndHelloAckRoundTrip) {
  const Hello h{"clinic-host", "9f86d081884c7d65"};
  auto h2 = decode_hello(encode(h));
  ASSERT_TRUE(h2) << h2.message();
  EXPECT_EQ(h2->client_name, h.client_name);
  EXPECT_EQ(h2->model_hash, h.model_hash);

  HelloAck a{"node-7", "9f86d081884c7d65", 2, 3, 64, {1, 0, 1, 0, 1, 1}, 41.5f, 8ull << 30,
             1u << 24, "3fa1c2d4e5f60718"};
  const std::vector<uint8_t> bytes = encode(a);
  auto a2 = decode_hello_ack(bytes);
  ASSERT_TRUE(a2) << a2.message();
  EXPECT_EQ(a2->device_id, "node-7");
  EXPECT_EQ(a2->served, a.served);
  EXPECT_EQ(a2->n_embd, 64u);
  EXPECT_EQ(a2->gflops, 41.5f);
  EXPECT_EQ(a2->memory_bytes, 8ull << 30);
  EXPECT_EQ(a2->max_payload, 1u << 24);
  EXPECT_EQ(a2->machine, "3fa1c2d4e5f60718");

  // A device from before the machine key ends its hello-ack at max payload: no machine.
  const size_t key_bytes = 4 + a.machine.size();  // u32 length + bytes
  auto old = decode_hello_ack(std::span(bytes).first(bytes.size() - key_bytes));
  ASSERT_TRUE(old) << old.message();
  EXPECT_EQ(old->machine, "");
  EXPECT_EQ(old->max_payload, 1u << 24);
  // Cut inside the key: refused, not read past the end.
  auto cut = decode_hello_ack(std::span(bytes).first(bytes.size() - 3));
  EXPECT_FALSE(cut.ok());
}

// f32 is exact; f16 / bf16 / int8 within their rounding: half an ulp of the format at the
// value (relative 2^-11 and 2^-8), and half a step of the row's scale for int8.
TEST(Messages, ExpertRequestRowsInEveryWireType) {
  const uint32_t n_tokens = 5, n_embd = 96;
  const auto x = random_rows(size_t{n_tokens} * n_embd, 3);
  for (WireType t : {WireType::kF32, WireType::kF16, WireType::kBF16, WireType::kI8}) {
    ExpertRequest req{7, t, n_tokens, n_embd, x, {{0, 1}, {0, 5}, {4, 2}}};
    const auto bytes = encode(req);
    EXPECT_EQ(bytes.size(), 2 + 4 + 3 * 6 + 9 + n_tokens * wire_row_bytes(t, n_embd));
    auto got = decode_expert_request(bytes);
    ASSERT_TRUE(got) << wire_type_name(t) << ": " << got.message();
    EXPECT_EQ(got->layer, 7);
    EXPECT_EQ(got->type, t);
    ASSERT_EQ(got->assignments.size(), 3u);
    EXPECT_EQ(got->assignments[2].token, 4u);
    EXPECT_EQ(got->assignments[2].expert, 2);
    ASSERT_EQ(got->x.size(), x.size());
    for (uint32_t r = 0; r < n_tokens; ++r) {
      float amax = 0;
      for (uint32_t c = 0; c < n_embd; ++c) amax = std::max(amax, std::fabs(x[r * n_embd + c]));
      for (uint32_t c = 0; c < n_embd; ++c) {
        const float want = x[r * n_embd + c], have = got->x[r * n_embd + c];
        const float tol = t == WireType::kF32    ? 0.0f
                          : t == WireType::kF16  ? std::fabs(want) * 0x1p-11f + 1e-7f
                          : t == WireType::kBF16 ? std::fabs(want) * 0x1p-8f
                                                 : amax / 127.0f * 0.5f + 1e-6f;
        ASSERT_LE(std::fabs(have - want), tol) << wire_type_name(t) << " row " << r << " col " << c;
      }
    }
  }
}

TEST(Messages, ExpertResponseAndSmallMessagesRoundTrip) {
  ExpertResponse resp{WireType::kF32, 3, 16, random_rows(48, 9), 123456};
  auto got = decode_expert_response(encode(resp));
  ASSERT_TRUE(got) << got.message();
  EXPECT_EQ(got->y, resp.y);
  EXPECT_EQ(got->compute_ns, 123456u);
  auto p = decode_ping(encode(Ping{42}));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->sent_ns, 42u);
  auto e = decode_error(encode(WireError{ErrorCode::kNotServed, "expert 3 of layer 1"}));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, ErrorCode::kNotServed);
  EXPECT_EQ(e->message, "expert 3 of layer 1");
}

// The host encodes a device's rows straight from its batch (rows picked out of order, not
// contiguous): the bytes are those of the same request with the rows copied together first.
TEST(Messages, GatheredRowsEncodeAsContiguousOnes) {
  const uint32_t n_embd = 24;
  const auto batch = random_rows(size_t{6} * n_embd, 4);  // [6, n_embd]
  const std::vector<const float*> rows{batch.data() + 4 * n_embd, batch.data() + 1 * n_embd};
  const std::vector<WireAssignment> as{{0, 3}, {1, 2}, {0, 6}};
  for (WireType t : {WireType::kF32, WireType::kF16, WireType::kBF16, WireType::kI8}) {
    std::vector<float> x(rows[0], rows[0] + n_embd);
    x.insert(x.end(), rows[1], rows[1] + n_embd);
    std::vector<uint8_t> gathered;
    ByteWriter w(gathered);
    encode_expert_request(3, t, n_embd, as, rows, w);
    EXPECT_EQ(gathered, encode(ExpertRequest{3, t, 2, n_embd, x, as})) << wire_type_name(t);
  }
}

// A device decodes every request into the same ExpertRequest and the host reads every reply in
// place: a small message after a large one must carry nothing of the large one, and a large one
// after a small one all of its own rows.
TEST(Messages, KeptBuffersHoldOnlyTheLatestMessage) {
  const uint32_t n_embd = 32;
  ExpertRequest kept;
  for (uint32_t n_tokens : {9u, 1u, 5u, 0u, 9u}) {
    const auto x = random_rows(size_t{n_tokens} * n_embd, 100 + n_tokens);
    std::vector<WireAssignment> as;
    for (uint32_t t = 0; t < n_tokens; ++t) as.push_back({t, static_cast<uint16_t>(t % 4)});
    const ExpertRequest req{2, WireType::kF32, n_tokens, n_embd, x, as};
    ASSERT_TRUE(decode_expert_request_into(encode(req), {}, kept).ok()) << n_tokens;
    EXPECT_EQ(kept.n_tokens, n_tokens);
    EXPECT_EQ(kept.x, x) << n_tokens;
    ASSERT_EQ(kept.assignments.size(), as.size());
    for (size_t i = 0; i < as.size(); ++i) EXPECT_EQ(kept.assignments[i].expert, as[i].expert);

    const ExpertResponse resp{WireType::kF32, n_tokens, n_embd, x, 7};
    const auto bytes = encode(resp);
    auto view = view_expert_response(bytes);
    ASSERT_TRUE(view) << view.message();
    ASSERT_EQ(view->y.rows, n_tokens);
    std::vector<float> y(x.size(), -1.0f);
    for (uint32_t j = 0; j < n_tokens; ++j) view->y.row(j, y.data() + size_t{j} * n_embd);
    EXPECT_EQ(y, x);
  }
  // A request that fails to decode into the kept one is reported, not half-used.
  auto bad = encode(ExpertRequest{0, WireType::kF32, 2, n_embd, random_rows(64, 1), {{2, 0}}});
  EXPECT_FALSE(decode_expert_request_into(bad, {}, kept).ok());
}

// An int8 reply row whose scale is not a finite number is refused when the reply is viewed,
// before any row is decoded.
TEST(Messages, AnInt8ReplyWithABadScaleIsRefused) {
  auto bytes = encode(ExpertResponse{WireType::kI8, 2, 4, {1, 2, 3, 4, 5, 6, 7, 8}, 0});
  const float inf = INFINITY;
  std::memcpy(bytes.data() + 8 + 9 + (4 + 4), &inf, 4);  // compute time, rows header, row 0
  auto v = view_expert_response(bytes);
  ASSERT_FALSE(v);
  EXPECT_NE(v.message().find("row scale is not finite"), std::string::npos) << v.message();
}

// Every prefix of a valid payload is refused with a message naming the message and the field,
// as is one trailing byte; nothing crashes or allocates by a hostile count.
TEST(Messages, TruncatedAndOverlongPayloadsAreRefused) {
  ExpertRequest req{1, WireType::kI8, 2, 8, random_rows(16, 1), {{0, 0}, {1, 3}}};
  const auto bytes = encode(req);
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    auto r = decode_expert_request(std::span<const uint8_t>(bytes).first(cut));
    ASSERT_FALSE(r) << cut;
    EXPECT_EQ(r.message().rfind("expert-request: ", 0), 0u) << r.message();
  }
  auto longer = bytes;
  longer.push_back(0);
  auto r = decode_expert_request(longer);
  ASSERT_FALSE(r);
  EXPECT_NE(r.message().find("1 bytes after the message"), std::string::npos) << r.message();
}

TEST(Messages, InconsistentRequestsAreRefused) {
  const auto x = random_rows(16, 2);
  // A token past the batch.
  auto r = decode_expert_request(encode(ExpertRequest{0, WireType::kF32, 2, 8, x, {{2, 0}}}));
  ASSERT_FALSE(r);
  EXPECT_NE(r.message().find("past the batch"), std::string::npos) << r.message();
  // An assignment count far beyond the bytes present (4 billion): refused before allocating.
  auto b = encode(ExpertRequest{0, WireType::kF32, 2, 8, x, {{0, 0}}});
  b[2] = b[3] = b[4] = b[5] = 0xFF;
  r = decode_expert_request(b);
  ASSERT_FALSE(r);
  EXPECT_NE(r.message().find("assignment count"), std::string::npos) << r.message();
  // A shape over the limits, and an unknown element type.
  MessageLimits small;
  small.max_embd = 4;
  r = decode_expert_request(encode(ExpertRequest{0, WireType::kF32, 2, 8, x, {}}), small);
  ASSERT_FALSE(r);
  EXPECT_NE(r.message().find("over the limits"), std::string::npos) << r.message();
  b = encode(ExpertRequest{0, WireType::kF32, 2, 8, x, {}});
  b[6] = 9;  // the element type byte follows layer (2) and the assignment count (4)
  r = decode_expert_request(b);
  ASSERT_FALSE(r);
  EXPECT_NE(r.message().find("element type is unknown"), std::string::npos) << r.message();
  // A hello-ack whose served map would be 1024 x 1024 bytes but is not there.
  HelloAck a{"n", "h", 1000, 1000, 8, {}, 1, 1, 1};
  auto ar = decode_hello_ack(encode(a));
  ASSERT_FALSE(ar);
  EXPECT_NE(ar.message().find("served-expert map"), std::string::npos) << ar.message();
}

// Found by the frame fuzz replay: an empty batch (zero rows or zero columns) decoded with a
// memcpy from a null pointer. It is a valid, empty message.
TEST(Messages, EmptyBatchesRoundTrip) {
  for (uint32_t cols : {0u, 8u}) {
    auto r = decode_expert_request(encode(ExpertRequest{0, WireType::kF32, 0, cols, {}, {}}));
    ASSERT_TRUE(r) << r.message();
    EXPECT_TRUE(r->x.empty());
  }
  auto r = decode_expert_request(encode(ExpertRequest{0, WireType::kF32, 3, 0, {}, {{2, 1}}}));
  ASSERT_TRUE(r) << r.message();
  EXPECT_EQ(r->n_tokens, 3u);
}

TEST(Messages, WireTypeNames) {
  WireType t;
  ASSERT_TRUE(parse_wire_type("bf16", &t));
  EXPECT_EQ(t, WireType::kBF16);
  ASSERT_TRUE(parse_wire_type("int8", &t));
  EXPECT_EQ(t, WireType::kI8);
  EXPECT_FALSE(parse_wire_type("f64", &t));
}

}  // namespace
}  // namespace moe::net
