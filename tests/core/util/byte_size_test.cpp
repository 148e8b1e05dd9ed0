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

}  // namespace
}  // namespace moe
