// `moe-cli calibrate`'s library side: the measurement on a real model file, its cache (round
// trip, keyed by read size; a corrupt or foreign file refused with the reason and measured
// again; --force), the JSON form, and clear errors for bad inputs. No timing is asserted:
// figures are checked for being measured (positive, ordered), not for their size.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/offload/calibrate.h"
#include "core/store/expert_reads.h"
#include "core/util/regular_file.h"
#include "tests/core/temp_dir_test.h"

namespace moe {
namespace {

const std::string kQ8 = std::string(MOE_FIXTURE_DIR) + "/golden/mixtral_tiny_q8_0.gguf";

class Calibration : public test::TempDirTest {
 protected:
  Calibration() : TempDirTest("moe_calibration_", 120) {}
  void SetUp() override {
    TempDirTest::SetUp();
    setenv("MOE_CACHE_DIR", (dir_ / "cache").c_str(), 1);
  }
  void TearDown() override {
    unsetenv("MOE_CACHE_DIR");
    TempDirTest::TearDown();
  }
  static CalibrateOptions quick() {
    CalibrateOptions o;
    o.model_path = kQ8;
    o.seconds = 0.2;
    return o;
  }
};

void expect_measured(const OffloadCalibration& c) {
  EXPECT_GT(c.read_bytes, 0u);
  EXPECT_GE(c.reads, 5);
  EXPECT_GT(c.read_s, 0);
  EXPECT_LE(c.read_s_min, c.read_s);
  EXPECT_LE(c.read_s, c.read_s_max);
  EXPECT_EQ(c.parallel_readers, 2);
  EXPECT_GT(c.parallel_bytes_per_s, 0);
  EXPECT_GT(c.s_cg, 0);
  EXPECT_FALSE(c.cpu.empty());
  EXPECT_FALSE(c.device.empty());
  EXPECT_FALSE(c.io.empty());
}

TEST_F(Calibration, MeasuresAtTheStoresReadSizeAndRoundTripsThroughTheCache) {
  auto first = calibrate_offload(quick());
  ASSERT_TRUE(first.ok()) << first.message();
  const OffloadCalibration& c = first->calibration;
  EXPECT_EQ(c.source, "measured");
  EXPECT_TRUE(first->note.empty()) << first->note;
  expect_measured(c);
  auto model = Model::load(kQ8);
  ASSERT_TRUE(model.ok());
  EXPECT_EQ(c.read_bytes, max_expert_read_bytes(**model));  // the store's slot: one expert load
  EXPECT_EQ(c.expert, expert_shape(**model));
  EXPECT_NE(c.expert.find("Q8_0 gate/up [64 -> 64]"), std::string::npos) << c.expert;
  EXPECT_GT(c.compute_s, 0);
  ASSERT_FALSE(first->cache_path.empty());
  EXPECT_EQ(first->cache_path.rfind((dir_ / "cache").string(), 0), 0u) << first->cache_path;
  EXPECT_TRUE(std::filesystem::is_regular_file(first->cache_path));

  // A later run (and the engine) reads the same figures back.
  auto second = calibrate_offload(quick());
  ASSERT_TRUE(second.ok()) << second.message();
  EXPECT_EQ(second->calibration.source, "cache " + first->cache_path);
  EXPECT_EQ(calibration_to_json(second->calibration), calibration_to_json(c));
  auto for_model = cached_calibration_for(**model);
  ASSERT_TRUE(for_model.ok()) << for_model.message();
  EXPECT_EQ(for_model->read_s, c.read_s);
  EXPECT_EQ(for_model->compute_s, c.compute_s);

  // --force measures again and replaces the file.
  CalibrateOptions forced = quick();
  forced.force = true;
  auto third = calibrate_offload(forced);
  ASSERT_TRUE(third.ok()) << third.message();
  EXPECT_EQ(third->calibration.source, "measured");
  auto back = cached_calibration_for(**model);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->read_s, third->calibration.read_s);
}

TEST_F(Calibration, CorruptCacheFileIsRefusedWithTheReasonAndMeasuredAgain) {
  auto first = calibrate_offload(quick());
  ASSERT_TRUE(first.ok()) << first.message();
  const std::string path = first->cache_path;
  auto model = Model::load(kQ8);
  ASSERT_TRUE(model.ok());
  struct Case {
    std::string bytes, reason;
  } cases[] = {
      {"{\"format\": \"moe-studio offload calibration\", \"ver", "not valid JSON"},
      {"{\"format\": \"something else\"}", "not a calibration file"},
      {calibration_to_json(first->calibration)
           .replace(calibration_to_json(first->calibration).find("\"read_s\""), 8, "\"read_x\""),
       "missing or mistyped field"},
  };
  for (const Case& k : cases) {
    std::ofstream(path, std::ios::trunc) << k.bytes;
    bool missing = true;
    auto refused = cached_calibration_for(**model, &missing);
    ASSERT_FALSE(refused.ok()) << k.reason;
    EXPECT_FALSE(missing);
    EXPECT_NE(refused.message().find(path), std::string::npos) << refused.message();
    EXPECT_NE(refused.message().find(k.reason), std::string::npos) << refused.message();
    auto again = calibrate_offload(quick());
    ASSERT_TRUE(again.ok()) << again.message();
    EXPECT_EQ(again->calibration.source, "measured") << k.reason;
    EXPECT_NE(again->note.find("ignoring " + path), std::string::npos) << again->note;
    EXPECT_NE(again->note.find(k.reason), std::string::npos) << again->note;
    EXPECT_NE(again->note.find("measuring again"), std::string::npos) << again->note;
    EXPECT_TRUE(cached_calibration_for(**model).ok()) << "rewritten after " << k.reason;
  }
  // Figures that cannot be a measurement are refused too.
  OffloadCalibration bad = first->calibration;
  bad.read_s = -1;
  auto parsed = calibration_from_json(calibration_to_json(bad));
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.message().find("implausible"), std::string::npos) << parsed.message();
  bad = first->calibration;
  bad.cpu = "another CPU";
  ASSERT_TRUE(save_calibration(path, bad).ok());
  auto foreign = cached_calibration_for(**model);
  ASSERT_FALSE(foreign.ok());
  EXPECT_NE(foreign.message().find("measured on another CPU"), std::string::npos)
      << foreign.message();
}

TEST_F(Calibration, AFileAloneIsTimedAtTheGivenReadSizeAndKeyedByIt) {
  CalibrateOptions o;
  o.file_path = kQ8;
  o.read_bytes = 10000;  // rounded up to whole 4 KiB blocks, as O_DIRECT reads
  o.seconds = 0.2;
  auto r = calibrate_offload(o);
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(r->calibration.read_bytes, 12288u);
  EXPECT_EQ(r->calibration.compute_s, 0);  // no model: no expert to compute
  EXPECT_TRUE(r->calibration.expert.empty());
  expect_measured(r->calibration);
  auto model_run = calibrate_offload(quick());
  ASSERT_TRUE(model_run.ok());
  EXPECT_NE(model_run->cache_path, r->cache_path);
  EXPECT_EQ(model_run->calibration.source, "measured");  // not the file-only entry
}

TEST_F(Calibration, BadInputsAreClearErrors) {
  auto none = calibrate_offload(CalibrateOptions{});
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.message().find("give a model"), std::string::npos) << none.message();
  CalibrateOptions o;
  o.model_path = (dir_ / "missing.gguf").string();
  auto missing = calibrate_offload(o);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.message().find("missing.gguf"), std::string::npos) << missing.message();
  o.model_path.clear();
  o.file_path = dir_.string();
  auto directory = calibrate_offload(o);
  ASSERT_FALSE(directory.ok());
  EXPECT_NE(directory.message().find("directory"), std::string::npos) << directory.message();
  o.file_path = write("small.bin", std::string(8192, 'x'));
  o.read_bytes = 1 << 20;
  auto small = calibrate_offload(o);
  ASSERT_FALSE(small.ok());
  EXPECT_NE(small.message().find("less than one read"), std::string::npos) << small.message();
  o.file_path = write("not_a_model.gguf", std::string(1 << 16, 'x'));
  o.model_path = o.file_path;
  auto not_model = calibrate_offload(o);
  ASSERT_FALSE(not_model.ok());
  EXPECT_NE(not_model.message().find("not_a_model.gguf"), std::string::npos) << not_model.message();
}

}  // namespace
}  // namespace moe
