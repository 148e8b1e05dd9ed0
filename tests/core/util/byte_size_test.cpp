#include "core/util/byte_size.h"

#include <gtest/gtest.h>

namespace moe {
namespace {

TEST(ByteSize, UnitsAndNumbers) {
  EXPECT_EQ(*parse_byte_size("4096"), 4096u);
  EXPECT_EQ(*parse_byte_size("12GiB"), 12ull << 30);
  EXPECT_EQ(*parse_byte_size("512MiB"), 512ull << 20);
  EXPECT_EQ(*parse_byte_size("512 mib"), 512ull << 20);
  EXPECT_EQ(*parse_byte_size("1.5G"), 3ull << 29);
  EXPECT_EQ(*parse_byte_size("2KB"), 2000u);
  EXPECT_EQ(*parse_byte_size("1TiB"), 1ull << 40);
  EXPECT_EQ(*parse_byte_size("7B"), 7u);
}

TEST(ByteSize, BadTextIsAClearError) {
  for (const char* s : {"", "GiB", "-1GiB", "12 parsecs", "1e3", "1..5G", "nan", "12GiBs"}) {
    auto r = parse_byte_size(s);
    ASSERT_FALSE(r.ok()) << s;
    EXPECT_NE(r.message().find("12GiB"), std::string::npos) << r.message();
  }
  EXPECT_FALSE(parse_byte_size("99999999999TiB").ok());
}

TEST(ByteSize, BudgetPercentOfWhole) {
  EXPECT_EQ(*parse_byte_budget("50%", 1000), 500u);
  EXPECT_EQ(*parse_byte_budget("33.3%", 1000), 333u);
  EXPECT_EQ(*parse_byte_budget("100%", 1000), 1000u);
  EXPECT_EQ(*parse_byte_budget("1KiB", 10), 1024u);
  EXPECT_FALSE(parse_byte_budget("150%", 1000).ok());
  EXPECT_FALSE(parse_byte_budget("-5%", 1000).ok());
  EXPECT_FALSE(parse_byte_budget("%", 1000).ok());
  EXPECT_FALSE(parse_byte_budget("5 %x", 1000).ok());
}

}  // namespace
}  // namespace moe
