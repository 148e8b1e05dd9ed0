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
#include "core/wdmoe/tier_latency_source.h"
#include "core/wdmoe/wlr_selector.h"

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

// Reads alone and reads sharing the disk drift apart from the calibration (on the project's VM
// two reads at once ran ~1.8x faster than calibrated while one alone ran as calibrated): each
// kind keeps its own factor, so a prompt's shared reads do not skew the prediction of decode's
// lone misses. Until a kind has enough reads it takes the other's; with none, no drift.
TEST(LoadLatency, LoneAndSharedReadsDriftApart) {
  LoadLatencyModel cal;
  cal.read_bytes = 100 << 20;
  cal.read_s = 0.140;
  cal.parallel_bytes_per_s = 1.0 * cal.s_dc();  // calibrated: no gain from two at once
  const int readers = 2;
  DiskDrift drift;
  LoadLatencyModel m = cal;
  EXPECT_FALSE(drift.apply(m, readers));
  EXPECT_EQ(m.read_s, cal.read_s);
  EXPECT_EQ(drift.describe(), "");
  // A prompt: shared reads, each done in 0.55 of the calibrated time for two at once.
  for (uint64_t i = 0; i < DiskDrift::kMinReads; ++i)
    drift.note(cal, 2, readers, 0.55 * cal.reads_s(2, readers));
  m = cal;
  ASSERT_TRUE(drift.apply(m, readers));
  EXPECT_NEAR(m.reads_s(2, readers), 0.55 * cal.reads_s(2, readers), 1e-12);
  EXPECT_NEAR(m.read_s, 0.55 * cal.read_s, 1e-12);  // no lone reads yet: the shared factor
  EXPECT_EQ(drift.describe(), "x 0.55");
  // Decode: lone reads at the calibrated speed. Both factors are now right.
  for (uint64_t i = 0; i < DiskDrift::kMinReads; ++i) drift.note(cal, 1, readers, cal.read_s);
  m = cal;
  ASSERT_TRUE(drift.apply(m, readers));
  EXPECT_NEAR(m.reads_s(1, readers), cal.read_s, 1e-12);
  EXPECT_NEAR(m.reads_s(2, readers), 0.55 * cal.reads_s(2, readers), 1e-12);
  EXPECT_EQ(drift.describe(), "x 1.00 alone, x 0.55 shared");
  // One I/O thread: every read is alone, whatever started beside it.
  DiskDrift one;
  for (uint64_t i = 0; i < DiskDrift::kMinReads; ++i) one.note(cal, 3, 1, 2 * cal.reads_s(3, 1));
  m = cal;
  ASSERT_TRUE(one.apply(m, 1));
  EXPECT_NEAR(m.read_s, 2 * cal.read_s, 1e-12);
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

// A calibration is one moment of the disk: once the store has seen enough reads, predictions
// follow how much slower (or faster) its reads run than the calibration says; a new
// calibration starts over from its own figures.
TEST(TieredStoreLatency, PredictionFollowsTheDiskWhenItDriftsFromTheCalibration) {
  auto m = Model::load(kQ8);
  ASSERT_TRUE(m.ok()) << m.message();
  const uint64_t w = max_expert_read_bytes(**m);
  TieredStoreOptions o;
  o.ram_budget_bytes = 2 * w * static_cast<uint64_t>((*m)->n_layer());
  o.prefetch = false;
  o.io_threads = 1;
  auto store = TieredExpertStore::create(**m, o);
  ASSERT_TRUE(store.ok()) << store.message();
  TieredExpertStore& s = **store;
  LoadLatencyModel cal;
  cal.read_bytes = w;
  cal.read_s = 1e-7;  // far faster than any O_DIRECT read: the reads will drift from it
  s.set_load_latency(cal);
  std::string source;
  int reads = 0;
  std::vector<ExpertView> v(1);
  for (int layer = 0; layer < (*m)->n_layer() && reads < 12; ++layer) {
    for (int32_t e = 0; e < (*m)->hparams().n_expert && reads < 12; ++e) {
      if (reads == static_cast<int>(DiskDrift::kMinReads) - 1) {  // too few to trust the drift
        EXPECT_EQ(s.load_latency(&source).read_s, cal.read_s);
        EXPECT_EQ(source, "calibration");
      }
      const int32_t one[] = {e};
      ASSERT_TRUE(s.acquire_many(layer, one, v).ok());
      s.release(layer, e);
      ++reads;
    }
  }
  ASSERT_GE(reads, static_cast<int>(DiskDrift::kMinReads))
      << "the fixture has too few experts for this test";
  const LoadLatencyModel drifted = s.load_latency(&source);
  EXPECT_EQ(source.rfind("calibration x ", 0), 0u) << source;
  EXPECT_GT(drifted.read_s, 10 * cal.read_s);
  std::vector<int32_t> absent;
  for (int32_t e = 0; e < (*m)->hparams().n_expert && absent.empty(); ++e)
    if (s.tier_of(0, e) == Tier::kDisk) absent.push_back(e);
  ASSERT_EQ(absent.size(), 1u);
  EXPECT_DOUBLE_EQ(s.predict_load_s(0, absent), drifted.read_s);
  s.set_load_latency(cal);
  EXPECT_EQ(s.load_latency(&source).read_s, cal.read_s);
  EXPECT_EQ(source, "calibration");
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

// Prefetch reads ahead what the θ rule would keep of the next layer's predicted experts: at
// θ = 1 tier-aware selection keeps one expert per token, so one hint per layer and step is
// all a decode step may name (the top-k prediction names two); at θ = 0 it names the top-k.
TEST(TieredStoreLatency, PrefetchFollowsTheThetaRule) {
  auto m = Model::load(kQ8);
  ASSERT_TRUE(m.ok()) << m.message();
  const int n_layer = (*m)->n_layer();
  for (const float theta : {0.0f, 1.0f}) {
    SCOPED_TRACE(theta);
    TieredStoreOptions o;
    o.ram_budget_bytes = max_expert_read_bytes(**m) * static_cast<uint64_t>(n_layer) * 2;
    o.prefetch = true;
    auto store = TieredExpertStore::create(**m, o);
    ASSERT_TRUE(store.ok()) << store.message();
    TieredExpertStore& s = **store;
    ThreadPool pool(2);
    auto exec = CpuExpertExecutor::create(**m, s, pool, 16);
    ASSERT_TRUE(exec.ok()) << exec.message();
    auto session = Session::create(**m, pool, **exec, {64, 16});
    ASSERT_TRUE(session.ok()) << session.message();
    TierLatencyModel tm;
    tm.expert_bytes = static_cast<double>(max_expert_read_bytes(**m));
    tm.s_dc = 1e9;
    tm.compute_s = 1e-4;
    WlrSelector selector(std::make_shared<TierLatencySource>(
        tm, [&s](int l, int e) { return s.tier_of(l, e); }));
    (*session)->set_routing({&selector, 2, theta});
    (*session)->set_prefetch(true);
    const std::vector<int32_t> prompt = {1, 15, 27, 3};
    ASSERT_TRUE((*session)->eval(prompt).ok());
    const std::vector<int32_t> decode = {99, 42, 7, 250, 9, 33, 180, 77};
    const uint64_t hints0 = s.counters().prefetch_hints;
    for (const int32_t tok : decode) ASSERT_TRUE((*session)->eval({&tok, 1}).ok());
    const uint64_t hints = s.counters().prefetch_hints - hints0;
    const uint64_t per_expert = decode.size() * static_cast<uint64_t>(n_layer - 1);
    if (theta == 0) {
      EXPECT_EQ(hints, 2 * per_expert);
    } else {
      EXPECT_LE(hints, per_expert);
      EXPECT_GT(hints, 0u);
    }
  }
}

}  // namespace
}  // namespace moe
