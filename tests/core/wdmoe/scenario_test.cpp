// Scenario JSON: the shipped default equals default_scenario(); bad input gets clear errors.
#include "core/wdmoe/scenario.h"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

namespace moe::wdmoe {
namespace {

const std::string kResource =
    std::string(MOE_FIXTURE_DIR) + "/../../resources/scenarios/paper_8_devices.json";

// Devices holding expert e in layer 0 under the scenario's placement.
std::vector<int> devices(const Scenario& s, int e) {
  const Placement p = s.expert_placement();  // the span below points into it
  const auto d = p.devices(0, e);
  return {d.begin(), d.end()};
}

void expect_same(const Scenario& a, const Scenario& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.carrier_ghz, b.carrier_ghz);
  EXPECT_EQ(a.total_bandwidth_hz, b.total_bandwidth_hz);
  EXPECT_EQ(a.bs_power_w, b.bs_power_w);
  EXPECT_EQ(a.noise_temperature_k, b.noise_temperature_k);
  EXPECT_EQ(a.tokens_per_slot, b.tokens_per_slot);
  EXPECT_EQ(a.seed, b.seed);
  EXPECT_EQ(a.model.hidden, b.model.hidden);
  EXPECT_EQ(a.model.expert_hidden, b.model.expert_hidden);
  EXPECT_EQ(a.model.activation_flops, b.model.activation_flops);
  EXPECT_EQ(a.model.bytes_per_element, b.model.bytes_per_element);
  ASSERT_EQ(a.devices.size(), b.devices.size());
  for (size_t q = 0; q < a.devices.size(); ++q) {
    EXPECT_EQ(a.devices[q].name, b.devices[q].name);
    EXPECT_EQ(a.devices[q].distance_m, b.devices[q].distance_m);
    EXPECT_EQ(a.devices[q].power_w, b.devices[q].power_w);
    EXPECT_EQ(a.devices[q].bandwidth_hz, b.devices[q].bandwidth_hz);
    EXPECT_EQ(a.devices[q].flops, b.devices[q].flops);
  }
  EXPECT_EQ(a.placement, b.placement);
}

TEST(Scenario, ShippedFileIsThePaperDefault) {
  auto s = load_scenario_file(kResource);
  ASSERT_TRUE(s.ok()) << s.message();
  expect_same(*s, default_scenario());
  EXPECT_EQ(s->n_devices(), 8);
  EXPECT_EQ(s->devices[5].bandwidth_hz, 12.5e6);      // 100 MHz split evenly
  EXPECT_EQ(devices(*s, 3), std::vector<int>{3});   // expert q on device q
  EXPECT_EQ(devices(*s, 11), std::vector<int>{3});  // more experts than devices: q mod n
}

TEST(Scenario, JsonRoundTrip) {
  Scenario a = default_scenario();
  a.placement = {{0}, {1, 2}, {2}};
  auto b = parse_scenario_json(scenario_to_json(a));
  ASSERT_TRUE(b.ok()) << b.message();
  expect_same(a, *b);
  EXPECT_EQ(devices(*b, 1), (std::vector<int>{1, 2}));
}

std::string err(const std::string& json) {
  auto r = parse_scenario_json(json, "test.json");
  EXPECT_FALSE(r.ok()) << json;
  return r.message();
}

TEST(Scenario, ClearErrors) {
  // Syntax errors name line and column (as a compiler does) with the JSON parser's words.
  EXPECT_EQ(err("{"),
            "test.json:1:2: syntax error while parsing object key - unexpected end of input; "
            "expected string literal");
  EXPECT_EQ(err("{\n  \"name\": \"a\"\n  \"devices\": []\n}"),
            "test.json:3:11: syntax error while parsing object - unexpected string literal; "
            "expected '}'");
  EXPECT_EQ(err("[]"), "test.json: expected a JSON object at the top level");
  EXPECT_EQ(err("{}"), "test.json: devices: missing");
  EXPECT_EQ(err(R"({"devices": []})"), "test.json: devices: at least one device is needed");
  EXPECT_EQ(err(R"({"devices": [{"distance_m": -5}]})"),
            "test.json: devices[0].distance_m: must be > 0 (got -5)");
  EXPECT_EQ(err(R"({"devices": [{"distance_m": "far"}]})"),
            "test.json: devices[0].distance_m: expected a number, got string");
  EXPECT_EQ(err(R"({"devices": [{"power_w": 1}]})"), "test.json: devices[0].distance_m: missing");
  EXPECT_EQ(err(R"({"carrier_ghz": "3.5", "devices": [{"distance_m": 5}]})"),
            "test.json: carrier_ghz: expected a number, got string");
  EXPECT_EQ(
      err(R"({"total_bandwidth_hz": 10, "devices": [{"distance_m": 5, "bandwidth_hz": 6},
                   {"distance_m": 5, "bandwidth_hz": 6}]})"),
      "test.json: devices: bandwidth shares sum to 12 Hz, more than total_bandwidth_hz 10 Hz");
  EXPECT_EQ(err(R"({"total_bandwidth_hz": 10, "devices": [{"distance_m": 5, "bandwidth_hz": 10},
                   {"distance_m": 5}]})"),
            "test.json: devices: 1 device(s) without bandwidth_hz but no bandwidth left to share");
  EXPECT_EQ(err(R"({"devices": [{"distance_m": 5}], "placement": [0, 3]})"),
            "test.json: placement[1]: device 3 does not exist (1 devices)");
  EXPECT_EQ(err(R"({"devices": [{"distance_m": 5}], "placement": [[]]})"),
            "test.json: placement[0]: expert has no device");
  EXPECT_EQ(err(R"({"devices": [{"distance_m": 5}], "tokens_per_slot": 0})"),
            "test.json: tokens_per_slot: must be >= 1 (got 0)");
  EXPECT_EQ(err(R"({"devices": [{"distance_m": 5}], "model": {"hidden": 1.5}})"),
            "test.json: model.hidden: expected an integer, got number");
  auto missing = load_scenario_file("/nonexistent/x.json");
  EXPECT_FALSE(missing.ok());
  EXPECT_EQ(missing.message(),
            "/nonexistent/x.json: cannot open scenario file: No such file or directory");
}

// A scenario file is a regular file of at most 1 MiB: /dev/zero was read until memory ran out
// and a FIFO blocked for ever (alarm(): a hang fails the test instead of stalling ctest).
TEST(Scenario, DevicesFifosAndHugeFilesAreRefusedAtOnce) {
  alarm(20);
  auto zero = load_scenario_file("/dev/zero");
  ASSERT_FALSE(zero.ok());
  EXPECT_EQ(zero.message(),
            "/dev/zero: is a character device, not a regular file; give a scenario file");
  const std::string dir = ::testing::TempDir();
  const std::string fifo = dir + "/moe_scenario_fifo_" + std::to_string(getpid());
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  auto f = load_scenario_file(fifo);
  unlink(fifo.c_str());
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.message().find("is a FIFO"), std::string::npos) << f.message();
  const std::string big = dir + "/moe_scenario_big_" + std::to_string(getpid()) + ".json";
  {
    std::ofstream out(big);
    out << "{\"devices\": [{\"distance_m\": 5}], \"name\": \"" << std::string(2 << 20, 'x')
        << "\"}";
  }
  auto b = load_scenario_file(big);
  unlink(big.c_str());
  alarm(0);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.message(), big + ": the scenario file is 2.0 MiB; the limit is 1.0 MiB");
}

// Integers beyond int used to be truncated silently: 4294967297 slots became 1, and placement
// 4294967296 became device 0 (accepted).
TEST(Scenario, IntegersOutOfIntRangeAreErrors) {
  EXPECT_EQ(err(R"({"devices": [{"distance_m": 5}], "tokens_per_slot": 4294967297})"),
            "test.json: tokens_per_slot: 4294967297 is out of range");
  EXPECT_EQ(err(R"({"devices": [{"distance_m": 5}], "placement": [4294967296]})"),
            "test.json: placement[0]: device 4294967296 is out of range");
  EXPECT_EQ(err(R"({"devices": [{"distance_m": 5}], "placement": [[0, -4294967296]]})"),
            "test.json: placement[0]: device -4294967296 is out of range");
}

TEST(Scenario, PartialSharesSplitTheRest) {
  auto s = parse_scenario_json(R"({"total_bandwidth_hz": 100, "devices": [
      {"distance_m": 5, "bandwidth_hz": 40}, {"distance_m": 5}, {"distance_m": 9}]})");
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(s->devices[0].bandwidth_hz, 40);
  EXPECT_EQ(s->devices[1].bandwidth_hz, 30);
  EXPECT_EQ(s->devices[2].bandwidth_hz, 30);
  EXPECT_EQ(s->devices[1].power_w, 0.2);  // defaults
}

}  // namespace
}  // namespace moe::wdmoe
