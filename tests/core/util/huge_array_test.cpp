#include "core/util/huge_array.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <utility>

namespace moe {
namespace {

TEST(HugeArray, ZeroFilledWritableAndAligned) {
  const size_t n = (size_t{5} << 20) + 3;  // a few huge pages and a ragged end
  HugeArray<uint16_t> a(n);
  ASSERT_EQ(a.size(), n);
  ASSERT_NE(a.data(), nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a.data()) % (size_t{2} << 20), 0u);
  for (size_t i = 0; i < n; i += 4099) EXPECT_EQ(a.data()[i], 0);
  EXPECT_EQ(a.data()[n - 1], 0);
  a.data()[0] = 7;
  a.data()[n - 1] = 9;
  EXPECT_EQ(a.data()[0] + a.data()[n - 1], 16);
}

TEST(HugeArray, MovesOwnershipAndEmptyIsEmpty) {
  HugeArray<float> a(1000);
  a.data()[999] = 1.5f;
  float* p = a.data();
  HugeArray<float> b(std::move(a));
  EXPECT_EQ(b.data(), p);
  EXPECT_EQ(b.data()[999], 1.5f);
  EXPECT_EQ(a.size(), 0u);  // NOLINT(bugprone-use-after-move): moved-from is empty
  HugeArray<float> c;
  EXPECT_EQ(c.size(), 0u);
  EXPECT_EQ(c.data(), nullptr);
  c = std::move(b);
  EXPECT_EQ(c.data(), p);
}

}  // namespace
}  // namespace moe
