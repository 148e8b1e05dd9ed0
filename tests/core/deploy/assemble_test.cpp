// The assembly place: one Deployment builds store, executors, selector + latency source and
// session, hands them the bus, and rejects bad settings before allocating anything.
#include <gtest/gtest.h>

#include "core/quant/kernel_tuning.h"

#include <cmath>

#include "core/deploy/assemble.h"
#include "core/offload/calibrate.h"
#include "core/store/tiered_expert_store.h"
#include "tests/core/temp_dir_test.h"

namespace moe {
namespace {

const std::string kF32 = std::string(MOE_FIXTURE_DIR) + "/golden/mixtral_tiny_f32.gguf";

Deployment base() {
  Deployment d;
  d.model_path = kF32;
  d.n_threads = 2;
  d.n_ctx = 64;
  return d;
}

TEST(Assemble, BuildsEveryPartAndDescribesThem) {
  Deployment d = base();
  d.kv_type = KvType::kF16;
  d.store = StoreKind::kRamCopy;
  d.selection.experts_per_token = 1;
  auto b = assemble(d);
  ASSERT_TRUE(b.ok()) << b.message();
  EXPECT_EQ((*b)->store->name(), "RAM copy");
  EXPECT_EQ(&(*b)->executor(), (*b)->local_executor.get());
  EXPECT_EQ(&(*b)->local_executor->store(), (*b)->store.get());
  EXPECT_EQ((*b)->selection.selector, nullptr);  // top-k
  EXPECT_EQ((*b)->session->n_ctx(), 64);
  EXPECT_EQ((*b)->plan.kv_type, KvType::kF16);
  EXPECT_EQ((*b)->plan.kv_cache_bytes, (*b)->session->kv_cache_bytes());
  EXPECT_EQ((*b)->describe(),
            "store RAM copy, executor local CPU, selector top-k, k 1, 2 threads, ctx 64, KV F16, "
            "kernels " + kernel_summary());
  // The routing the live settings give: k clamped to the model, the deployment's selector.
  EXPECT_EQ((*b)->routing(LiveSettings{99, 0, nullptr}).k, (*b)->model->hparams().n_expert);
  EXPECT_EQ((*b)->routing(LiveSettings{0, 0, nullptr}).k, 2);  // the model's own
}

// A RAM budget builds the tiered store; the backend line names budget, slots, policy and
// prefetch; a budget for another store kind, a bad prefetch depth and a too small budget are
// errors naming the setting.
TEST(Assemble, TieredStoreFromABudget) {
  Deployment d = base();
  d.store = StoreKind::kTiered;
  d.ram_budget = RamBudget{0, 50.0};
  d.prefetch_depth = 1;
  auto b = assemble(d);
  ASSERT_TRUE(b.ok()) << b.message();
  EXPECT_EQ((*b)->store->name(), "tiered");
  EXPECT_TRUE((*b)->store->wants_prefetch());
  const std::string line = (*b)->describe();
  EXPECT_NE(line.find("store tiered (RAM budget "), std::string::npos) << line;
  EXPECT_NE(line.find("2/4 slots per layer, lru (auto: no routing profile, so LRU"),
            std::string::npos)
      << line;
  EXPECT_NE(line.find("prefetch depth up to 1 by accuracy"), std::string::npos) << line;
  // The load warmed every layer's slots, outside the statistics.
  const auto* tiered = dynamic_cast<const TieredExpertStore*>((*b)->store.get());
  ASSERT_NE(tiered, nullptr);
  const TieredStoreStats st = tiered->stats();
  for (int il = 0; il < st.n_layer; ++il) EXPECT_EQ(st.n_resident[static_cast<size_t>(il)], 2);
  EXPECT_EQ(st.total.misses + st.total.hits + st.total.bytes_read, 0u);
  EXPECT_LE(st.held_bytes, st.budget_bytes);
  EXPECT_EQ(tiered->warm_bytes(), st.held_bytes);
  d.prefetch = false;
  auto np = assemble(d);
  ASSERT_TRUE(np.ok()) << np.message();
  EXPECT_FALSE((*np)->store->wants_prefetch());
  EXPECT_NE((*np)->describe().find("prefetch off"), std::string::npos);
  d.prefetch_depth = 9;
  auto deep = assemble(d);
  ASSERT_FALSE(deep.ok());
  EXPECT_NE(deep.message().find("prefetch depth"), std::string::npos) << deep.message();
  d.prefetch_depth = 2;
  d.ram_budget = RamBudget{100, 0};
  auto tiny = assemble(d);
  ASSERT_FALSE(tiny.ok());
  EXPECT_NE(tiny.message().find("minimum"), std::string::npos) << tiny.message();
  d.store = StoreKind::kMapped;
  auto mapped = assemble(d);
  ASSERT_FALSE(mapped.ok());
  EXPECT_NE(mapped.message().find("tiered"), std::string::npos) << mapped.message();
  EXPECT_EQ(parse_store_kind("tiered").value(), StoreKind::kTiered);
}

TEST(Assemble, WlrSelectionWithSimulatedOrMeasuredLatency) {
  Deployment d = base();
  d.selection.selector = SelectorKind::kWlr;
  d.selection.theta = 0.2f;
  auto sim = assemble(d);
  ASSERT_TRUE(sim.ok()) << sim.message();
  ASSERT_NE((*sim)->selection.selector, nullptr);
  EXPECT_STREQ((*sim)->selection.latency->name(), "simulated");
  EXPECT_EQ((*sim)->selection.sink, nullptr);
  EXPECT_NE((*sim)->describe().find("selector wdmoe-wlr"), std::string::npos);

  d.selection.latency = LatencyKind::kMeasured;
  d.selection.n_devices = 2;
  d.selection.placement = Placement(2);
  LatencySink* seen = nullptr;
  d.executor = [&seen](const AssemblyContext& ctx) -> Result<std::unique_ptr<ExpertExecutor>> {
    seen = ctx.latency_sink;
    return Error{"stop here"};
  };
  auto measured = assemble(d);
  ASSERT_FALSE(measured.ok());
  EXPECT_NE(seen, nullptr);  // an executor that measures can report to the selector's source
  EXPECT_NE(measured.message().find("stop here"), std::string::npos);
}

TEST(Assemble, BadSettingsAreRejectedByName) {
  const auto error_of = [](const std::function<void(Deployment&)>& edit) {
    Deployment d = base();
    edit(d);
    auto b = assemble(d);
    return b.ok() ? std::string() : b.message();
  };
  EXPECT_NE(error_of([](Deployment& d) { d.n_threads = -1; }).find("threads"), std::string::npos);
  EXPECT_NE(error_of([](Deployment& d) { d.n_ctx = 0; }).find("context"), std::string::npos);
  EXPECT_NE(error_of([](Deployment& d) { d.selection.theta = NAN; }).find("theta"),
            std::string::npos);
  EXPECT_NE(
      error_of([](Deployment& d) { d.selection.experts_per_token = -5; }).find("experts per token"),
      std::string::npos);
  EXPECT_NE(
      error_of([](Deployment& d) { d.model_path = "/nonexistent.gguf"; }).find("/nonexistent.gguf"),
      std::string::npos);
  EXPECT_FALSE(parse_store_kind("floppy").ok());
  EXPECT_EQ(parse_store_kind("ram-copy").value(), StoreKind::kRamCopy);
}

TEST(Assemble, LoadProgressEndsAtOneAndCancels) {
  float last = -1;
  auto b = assemble(base(), [&](float f) {
    EXPECT_GE(f, last);
    last = f;
    return true;
  });
  ASSERT_TRUE(b.ok()) << b.message();
  EXPECT_FLOAT_EQ(last, 1.0f);
  auto c = assemble(base(), [](float f) { return f < 0.5f; });
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.message().find("cancelled"), std::string::npos);
}

// The cached calibration (moe-cli calibrate) reaches the tiered store's predictions and the
// backend line; without one the line says what the latency model runs on.
class AssembleCalibration : public test::TempDirTest {
 protected:
  AssembleCalibration() : TempDirTest("moe_assemble_cal_", 120) {}
  void SetUp() override {
    TempDirTest::SetUp();
    setenv("MOE_CACHE_DIR", dir_.c_str(), 1);
  }
  void TearDown() override {
    unsetenv("MOE_CACHE_DIR");
    TempDirTest::TearDown();
  }
};

TEST_F(AssembleCalibration, TieredStoreUsesTheCachedCalibration) {
  Deployment d = base();
  d.store = StoreKind::kTiered;
  d.ram_budget = RamBudget{0, 50.0};
  auto before = assemble(d);
  ASSERT_TRUE(before.ok()) << before.message();
  EXPECT_FALSE((*before)->calibration);
  EXPECT_NE((*before)->describe().find("latency model not calibrated (run moe-cli calibrate"),
            std::string::npos)
      << (*before)->describe();
  CalibrateOptions o;
  o.model_path = kF32;
  o.seconds = 0.2;
  auto cal = calibrate_offload(o);
  ASSERT_TRUE(cal.ok()) << cal.message();
  auto after = assemble(d);
  ASSERT_TRUE(after.ok()) << after.message();
  ASSERT_TRUE((*after)->calibration);
  EXPECT_EQ((*after)->calibration->read_s, cal->calibration.read_s);
  EXPECT_NE((*after)->describe().find("latency model calibrated (cache " + cal->cache_path + ")"),
            std::string::npos)
      << (*after)->describe();
  const auto* tiered = dynamic_cast<const TieredExpertStore*>((*after)->store.get());
  ASSERT_NE(tiered, nullptr);
  std::string source;
  EXPECT_EQ(tiered->load_latency(&source).read_s, cal->calibration.read_s_mean);
  EXPECT_EQ(source, "calibration");
  // The mapped store loads nothing from disk: no calibration read, nothing on the line.
  auto mapped = assemble(base());
  ASSERT_TRUE(mapped.ok());
  EXPECT_FALSE((*mapped)->calibration);
  EXPECT_EQ((*mapped)->describe().find("latency model"), std::string::npos);
}

}  // namespace
}  // namespace moe
