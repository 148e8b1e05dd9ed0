// The expert-load latency model (core/store/load_latency.h) and the tiered store's per-acquire
// prediction: made before the loads from residency, 0 for residents, the model's read time for
// the experts that must be read; and per forward call, the session records the prediction
// beside the measured wait (TimingEvent) — a step with misses is predicted to wait, a step of
// hits only is not.
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "core/engine/cpu_expert_executor.h"
#include "core/engine/session.h"
#include "core/store/expert_reads.h"
#include "core/store/load_latency.h"
#include "core/store/tiered_expert_store.h"

namespace moe {
namespace {

const std::string kQ8 = std::string(MOE_FIXTURE_DIR) + "/golden/mixtral_tiny_q8_0.gguf";

TEST(LoadLatency, ReadsOneAtATimeAndInParallel) {
  LoadLatencyModel m;
  m.read_bytes = 4 << 20;
  m.read_s = 0.004;  // 1048.6 MB/s alone
  EXPECT_DOUBLE_EQ(m.s_dc(), (4 << 20) / 0.004);
  EXPECT_DOUBLE_EQ(m.reads_s(0, 2), 0);
  EXPECT_DOUBLE_EQ(m.reads_s(1, 2), 0.004);
  EXPECT_DOUBLE_EQ(m.reads_s(3, 1), 0.012);  // one reader: one after the other
  // No parallel figure: loads at once are assumed to scale with the readers.
  EXPECT_DOUBLE_EQ(m.reads_s(2, 2), 0.004);
  EXPECT_DOUBLE_EQ(m.reads_s(4, 2), 0.008);
  // A measured aggregate rate of 1.5x one load's: two loads take 2 w / 1.5 (w / read_s).
  m.parallel_bytes_per_s = 1.5 * m.s_dc();
  EXPECT_NEAR(m.reads_s(2, 2), 2 * 0.004 / 1.5, 1e-12);
  // Never below one load's latency once a whole load is needed.
  m.parallel_bytes_per_s = 100 * m.s_dc();
  EXPECT_DOUBLE_EQ(m.reads_s(2, 2), 0.004);
  EXPECT_FALSE(LoadLatencyModel{}.valid());
  EXPECT_DOUBLE_EQ(LoadLatencyModel{}.reads_s(3, 2), 0);
  const LoadLatencyModel r = LoadLatencyModel::from_rate(1000, 1e6);
  EXPECT_DOUBLE_EQ(r.read_s, 1e-3);
}

TEST(TieredStoreLatency, PredictionIsZeroForResidentsAndTheReadTimeForMisses) {
  auto m = Model::load(kQ8);
  ASSERT_TRUE(m.ok()) << m.message();
  TieredStoreOptions o;
  o.ram_budget_bytes = 2 * max_expert_read_bytes(**m) * static_cast<uint64_t>((*m)->n_layer());
  o.prefetch = false;
  o.io_threads = 2;
  auto store = TieredExpertStore::create(**m, o);
  ASSERT_TRUE(store.ok()) << store.message();
  TieredExpertStore& s = **store;
  ASSERT_TRUE(s.warm([](uint64_t) { return true; }).ok());  // experts 0, 1 of every layer
  std::string source;
  EXPECT_GT(s.load_latency(&source).read_s, 0);
  EXPECT_EQ(source, "measured reads");  // warm-up reads measured the disk
  LoadLatencyModel cal;
  cal.read_bytes = max_expert_read_bytes(**m);
  cal.read_s = 0.003;
  cal.parallel_bytes_per_s = 1.25 * cal.s_dc();
  s.set_load_latency(cal);
  EXPECT_EQ(s.load_latency(&source).read_s, 0.003);
  EXPECT_EQ(source, "calibration");
  const std::vector<int32_t> resident = {0, 1}, one_miss = {1, 2}, two_misses = {2, 3};
  EXPECT_EQ(s.predict_load_s(0, resident), 0);
  EXPECT_DOUBLE_EQ(s.predict_load_s(0, one_miss), 0.003);
  EXPECT_DOUBLE_EQ(s.predict_load_s(0, two_misses), cal.reads_s(2, 2));
  EXPECT_EQ(s.predict_load_s(-1, two_misses), 0);  // no such layer
  // After the loads, the same experts are residents: nothing to wait for.
  std::vector<ExpertView> v(2);
  ASSERT_TRUE(s.acquire_many(0, two_misses, v).ok());
  for (int32_t e : two_misses) s.release(0, e);
  EXPECT_EQ(s.predict_load_s(0, two_misses), 0);
  EXPECT_DOUBLE_EQ(s.predict_load_s(0, resident), cal.reads_s(2, 2));  // evicted by LRU
}

// Every decode step of a real session over a one-slot store (no prefetch): TimingEvent holds
// the prediction made before the loads and the measured wait; a step predicted to wait is
// exactly one that missed.
TEST(TieredStoreLatency, SessionRecordsPredictedBesideMeasuredPerStep) {
  auto m = Model::load(kQ8);
  ASSERT_TRUE(m.ok()) << m.message();
  TieredStoreOptions o;
  o.ram_budget_bytes = max_expert_read_bytes(**m) * static_cast<uint64_t>((*m)->n_layer()) * 3;
  o.prefetch = false;
  auto store = TieredExpertStore::create(**m, o);
  ASSERT_TRUE(store.ok()) << store.message();
  ThreadPool pool(2);
  auto exec = CpuExpertExecutor::create(**m, **store, pool, 16);
  ASSERT_TRUE(exec.ok()) << exec.message();
  auto session = Session::create(**m, pool, **exec, {64, 16});
  ASSERT_TRUE(session.ok()) << session.message();
  EventBus bus;
  auto q = bus.subscribe(1 << 12);
  (*session)->set_event_bus(&bus);
  const std::vector<int32_t> prompt = {1, 15, 27, 3};
  ASSERT_TRUE((*session)->eval(prompt).ok());
  const std::vector<int32_t> decode = {99, 42, 7, 250, 9, 33, 180, 77, 140, 64, 120, 17};
  int with_misses = 0, without = 0;
  for (const int32_t tok : decode) {
    const uint64_t misses0 = (*store)->counters().misses;
    ASSERT_TRUE((*session)->eval({&tok, 1}).ok());
    const uint64_t misses = (*store)->counters().misses - misses0;
    std::vector<Event> ev;
    q->drain(ev);
    const TimingEvent* t = nullptr;
    for (const Event& e : ev) {
      if (const auto* x = std::get_if<TimingEvent>(&e)) t = x;
    }
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->phase, StepPhase::kDecode);
    EXPECT_GE(t->measured_load_s, 0);
    EXPECT_LE(t->measured_load_s, t->total_s);
    if (misses > 0) {
      ++with_misses;
      EXPECT_GT(t->predicted_load_s, 0) << "token " << tok << ": " << misses << " misses";
    } else {
      ++without;
      EXPECT_EQ(t->predicted_load_s, 0) << "token " << tok;
    }
  }
  EXPECT_GT(with_misses, 0);  // 3 of 4 slots: some tokens miss
  const LoadWait w = (*exec)->load_wait();
  EXPECT_EQ(w.calls, static_cast<uint64_t>((1 + decode.size()) * (*m)->n_layer()));
  EXPECT_GT(w.predicted_s, 0);
  EXPECT_GT(w.measured_s, 0);
  (void)without;
}

}  // namespace
}  // namespace moe
