#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/engine_api/trace_writer.h"

namespace moe {
namespace {

TEST(TraceWriter, WritesOneJsonObjectPerEvent) {
  const auto path = std::filesystem::temp_directory_path() / "moe_trace_test.jsonl";
  EventBus bus;
  {
    auto tw = TraceWriter::start(path.string(), bus);
    ASSERT_TRUE(tw.ok()) << tw.message();
    RoutingEvent r;
    r.pos = 7;
    r.layer = 3;
    r.n_expert = 4;
    r.logits = {0.5f, -1.f, 2.f, 0.f};
    r.n_chosen = 2;
    r.chosen[0] = 2;
    r.chosen[1] = 0;
    r.weights[0] = 0.8f;
    r.weights[1] = 0.2f;
    bus.publish(r);
    SelectionEvent s;
    s.layer = 1;
    s.theta = 0.2f;
    s.kappa = 0.1f;
    s.n_kept = 1;
    s.kept[0] = 5;
    s.n_dropped = 1;
    s.dropped[0] = 6;
    bus.publish(s);
    TimingEvent t;
    t.n_layer = 2;
    t.layer_ms[0] = 1.5f;
    t.layer_ms[1] = 2.5f;
    bus.publish(t);
  }
  std::ifstream in(path);
  std::vector<nlohmann::json> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0]["type"], "routing");
  EXPECT_EQ(lines[0]["pos"], 7);
  EXPECT_EQ(lines[0]["logits"].size(), 4u);
  EXPECT_EQ(lines[0]["experts"], nlohmann::json({2, 0}));
  EXPECT_FLOAT_EQ(lines[0]["weights"][0].get<float>(), 0.8f);
  EXPECT_EQ(lines[1]["type"], "selection");
  EXPECT_EQ(lines[1]["kept"], nlohmann::json({5}));
  EXPECT_EQ(lines[1]["dropped"], nlohmann::json({6}));
  EXPECT_EQ(lines[2]["layer_ms"].size(), 2u);
  EXPECT_EQ(lines[3]["type"], "trace_end");
  EXPECT_EQ(lines[3]["events"], 3);
  EXPECT_EQ(lines[3]["dropped"], 0);
  std::filesystem::remove(path);
}

TEST(TraceWriter, UnwritablePathIsAnError) {
  EventBus bus;
  auto tw = TraceWriter::start("/nonexistent-dir/trace.jsonl", bus);
  ASSERT_FALSE(tw.ok());
  EXPECT_NE(tw.message().find("/nonexistent-dir/trace.jsonl"), std::string::npos);
}

}  // namespace
}  // namespace moe
