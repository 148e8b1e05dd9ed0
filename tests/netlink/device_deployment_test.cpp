// The device settings every front end shares (netlink/device_deployment.h): one parser for
// `auto` and HOST:PORT lists, which keeps the previous settings on an error.
#include <gtest/gtest.h>

#include "netlink/device_deployment.h"

namespace moe::net {
namespace {

TEST(DeviceSettings, ParsesAutoAndListsAndKeepsTheOldOnError) {
  DeviceSettings s;
  ASSERT_TRUE(parse_devices("127.0.0.1:7070/node-0,10.0.0.2:80", s).ok());
  EXPECT_FALSE(s.automatic);
  ASSERT_EQ(s.devices.size(), 2u);
  EXPECT_EQ(s.devices[0].name, "node-0");
  EXPECT_EQ(s.devices[1].port, 80);

  const Status bad = parse_devices("127.0.0.1:99999", s);
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("port must be 1-65535"), std::string::npos) << bad.message();
  EXPECT_EQ(s.devices.size(), 2u);  // unchanged

  ASSERT_TRUE(parse_devices("auto", s).ok());
  EXPECT_TRUE(s.automatic);
  EXPECT_TRUE(s.devices.empty());
}

}  // namespace
}  // namespace moe::net
