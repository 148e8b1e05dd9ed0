#include "netlink/crc32c.h"

#include <gtest/gtest.h>

#include <random>
#include <string_view>
#include <vector>

namespace moe::net {
namespace {

std::span<const uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// Check values of the Castagnoli CRC (RFC 3720 appendix B.4 and the usual "123456789").
TEST(Crc32c, KnownValues) {
  EXPECT_EQ(crc32c(as_bytes("123456789")), 0xE3069283u);
  EXPECT_EQ(crc32c_portable(as_bytes("123456789")), 0xE3069283u);
  EXPECT_EQ(crc32c({}), 0u);
  const std::vector<uint8_t> zeros(32, 0), ones(32, 0xFF);
  EXPECT_EQ(crc32c(zeros), 0x8A9136AAu);
  EXPECT_EQ(crc32c(ones), 0x62A8AB43u);
  std::vector<uint8_t> inc(32);
  for (size_t i = 0; i < inc.size(); ++i) inc[i] = static_cast<uint8_t>(i);
  EXPECT_EQ(crc32c(inc), 0x46DD794Eu);
}

TEST(Crc32c, HardwareEqualsTableAndExtendsIncrementally) {
  std::mt19937 rng(7);
  std::vector<uint8_t> b(4099);
  for (auto& x : b) x = static_cast<uint8_t>(rng());
  for (size_t n : {size_t{0}, size_t{1}, size_t{7}, size_t{8}, size_t{9}, size_t{63}, size_t{4099}}) {
    const std::span<const uint8_t> s(b.data(), n);
    ASSERT_EQ(crc32c(s), crc32c_portable(s)) << n;
    for (size_t cut : {size_t{0}, n / 3, n}) {
      ASSERT_EQ(crc32c(s.subspan(cut), crc32c(s.first(cut))), crc32c(s)) << n << " " << cut;
    }
  }
}

// Buffers of three 4 KiB lanes and more run as three interleaved chains joined by a shift
// table: every length around the lane boundaries, and a frame-sized one, equal the table CRC
// from any starting value.
TEST(Crc32c, InterleavedLanesEqualTheTable) {
  std::mt19937 rng(11);
  std::vector<uint8_t> b((size_t{1} << 20) + 77);
  for (auto& x : b) x = static_cast<uint8_t>(rng());
  for (size_t n : {size_t{12287}, size_t{12288}, size_t{12289}, size_t{12288 + 4095}, size_t{24576},
                   size_t{24583}, b.size()}) {
    const std::span<const uint8_t> s(b.data(), n);
    for (uint32_t start : {0u, 0xDEADBEEFu}) {
      ASSERT_EQ(crc32c(s, start), crc32c_portable(s, start)) << n << " from " << start;
    }
  }
}

}  // namespace
}  // namespace moe::net
