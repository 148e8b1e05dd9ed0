// The tiered expert store: logits bit-identical to the file mapping at every budget, with and
// without prefetch and under live budget changes; byte accounting within the budget; LRU order
// as seen through the store; prefetch counters that add up; clear errors for bad budgets and
// for a model file that cannot be read (truncated).
#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <thread>
#include <vector>

#include "core/engine/cpu_expert_executor.h"
#include "core/engine/session.h"
#include "core/gguf/gguf_writer.h"
#include "core/store/mapped_expert_store.h"
#include "core/store/ram_budget.h"
#include "core/store/tiered_expert_store.h"
#include "tests/core/store/tiered_test_util.h"

namespace moe {
namespace {

using tiered_test::bit_identical;
using tiered_test::kDir;
using tiered_test::kF32;
using tiered_test::kQ8;
using tiered_test::Outputs;
using tiered_test::run;

std::unique_ptr<TieredExpertStore> make_store(const Model& m, uint64_t budget, bool prefetch = true,
                                              bool direct = true) {
  TieredStoreOptions o;
  o.ram_budget_bytes = budget;
  o.prefetch = prefetch;
  o.direct_io = direct;
  auto s = TieredExpertStore::create(m, o);
  EXPECT_TRUE(s.ok()) << s.message();
  return s.ok() ? std::move(s).value() : nullptr;
}

// Two slots in every layer (the minimum budget is one slot per layer).
std::unique_ptr<TieredExpertStore> two_slot_store(const Model& m, bool prefetch) {
  auto probe = make_store(m, 1ull << 30);
  const uint64_t two_slots = 2 * probe->min_budget_bytes();
  probe.reset();
  return make_store(m, two_slots, prefetch);
}

// ---- budget strings ----

TEST(RamBudget, ParsesSizesAndPercentages) {
  struct Case {
    const char* text;
    uint64_t bytes;
    double percent;
  } cases[] = {{"12GiB", 12ull << 30, 0},
               {"512MiB", 512ull << 20, 0},
               {"1.5G", 3ull << 29, 0},
               {"4096", 4096, 0},
               {"64kib", 64ull << 10, 0},
               {"2gb", 2000000000ull, 0},  // GB: decimal, as parse_byte_size
               {"50%", 0, 50},
               {"12.5%", 0, 12.5},
               {" 100% ", 0, 100}};
  for (const Case& c : cases) {
    auto b = parse_ram_budget(c.text);
    ASSERT_TRUE(b.ok()) << c.text << ": " << b.message();
    EXPECT_EQ(b->bytes, c.bytes) << c.text;
    EXPECT_EQ(b->percent, c.percent) << c.text;
  }
  EXPECT_EQ(parse_ram_budget("50%")->resolve(1000), 500u);
  EXPECT_EQ(parse_ram_budget("33.3%")->resolve(1000), 333u);  // rounded down
  EXPECT_EQ(parse_ram_budget("100%")->resolve(1000), 1000u);
  EXPECT_EQ(parse_ram_budget("1MiB")->resolve(10), 1u << 20);
  for (const char* bad : {"150%", "-5%", "%", "5 %x", "0%"}) {
    EXPECT_FALSE(parse_ram_budget(bad).ok()) << bad;
  }
}

TEST(RamBudget, BadStringsAreClearErrors) {
  for (const char* bad : {"", "abc", "12XB", "-5G", "0%", "150%", "0", "1..5G", "G12", "5 %x"}) {
    auto b = parse_ram_budget(bad);
    ASSERT_FALSE(b.ok()) << "accepted '" << bad << "'";
    EXPECT_NE(b.message().find(std::string("'") + bad + "'"), std::string::npos) << b.message();
    EXPECT_NE(b.message().find("50%"), std::string::npos) << b.message();  // says what works
  }
}

TEST(TieredStore, BudgetBelowOneExpertPerLayerNamesTheMinimum) {
  auto m = Model::load(kQ8);
  ASSERT_TRUE(m.ok()) << m.message();
  auto ok = make_store(**m, 1ull << 30);
  ASSERT_TRUE(ok);
  const uint64_t min = ok->min_budget_bytes();
  EXPECT_GE(min, (*m)->expert_bytes() / (*m)->hparams().n_expert);  // n_layer slots
  TieredStoreOptions o;
  o.ram_budget_bytes = min - 1;
  auto small = TieredExpertStore::create(**m, o);
  ASSERT_FALSE(small.ok());
  EXPECT_NE(small.message().find("minimum"), std::string::npos) << small.message();
  EXPECT_NE(small.message().find(std::to_string(min)), std::string::npos) << small.message();
  o.ram_budget_bytes = 0;
  o.ram_budget_percent = 1;  // 1 % of a 4-expert model: below one slot per layer
  EXPECT_FALSE(TieredExpertStore::create(**m, o).ok());
  // A live change below the minimum is refused and changes nothing.
  Status st = ok->set_ram_budget(min - 1);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find(std::to_string(min)), std::string::npos) << st.message();
  EXPECT_EQ(ok->ram_budget(), 1ull << 30);
}

// ---- bit-identical logits ----

struct IdentCase {
  const char* file;
  int slots;  // per layer; 0: 50 % of the expert bytes
  bool prefetch;
};

class TieredIdentical : public ::testing::TestWithParam<IdentCase> {};

TEST_P(TieredIdentical, LogitsMatchTheMappingAndBytesStayInBudget) {
  const IdentCase c = GetParam();
  auto m = Model::load(kDir + c.file);
  ASSERT_TRUE(m.ok()) << m.message();
  const Model& model = **m;
  MappedExpertStore mapped(model);
  const Outputs want = run(model, mapped, false);

  auto probe = make_store(model, 1ull << 30);
  ASSERT_TRUE(probe);
  const uint64_t slot = probe->min_budget_bytes() / static_cast<uint64_t>(model.n_layer());
  probe.reset();
  TieredStoreOptions o;
  o.prefetch = c.prefetch;
  if (c.slots > 0) {
    o.ram_budget_bytes = slot * static_cast<uint64_t>(model.n_layer() * c.slots);
  } else {
    o.ram_budget_percent = 50;
  }
  auto created = TieredExpertStore::create(model, o);
  ASSERT_TRUE(created.ok()) << created.message();
  TieredExpertStore& store = **created;
  const int n_expert = model.hparams().n_expert;
  const TieredStoreStats s0 = store.stats();
  EXPECT_EQ(s0.layer_slots[0], c.slots > 0 ? c.slots : n_expert / 2);

  const Outputs got = run(model, store, c.prefetch);
  EXPECT_TRUE(bit_identical(want.prefill, got.prefill));
  EXPECT_TRUE(bit_identical(want.decode, got.decode));
  EXPECT_EQ(want.tokens, got.tokens);

  store.wait_for_loads();
  const TieredStoreStats s = store.stats();
  const StoreCounters k = store.counters();
  EXPECT_EQ(k.acquires, k.releases);
  EXPECT_EQ(s.in_use_bytes, 0u);
  EXPECT_LE(s.held_bytes, s.budget_bytes);  // nothing in use: within the budget
  EXPECT_EQ(s.total.hits + s.total.misses, k.acquires);
  EXPECT_GT(s.total.misses, 0u);
  EXPECT_GT(s.total.bytes_read, 0u);
  if (c.slots >= 2) {
    // Decode holds k = 2 experts of a layer at a time: with 2 slots nothing goes past the
    // slots but the prefill (up to n_expert at once).
    EXPECT_LE(s.peak_held_bytes, s.budget_bytes + slot * (n_expert - c.slots) * model.n_layer());
  }
  if (c.slots == n_expert) {
    EXPECT_EQ(s.loads, static_cast<uint64_t>(model.n_layer() * n_expert));  // each read once
    EXPECT_EQ(s.evictions, 0u);
  }
  if (c.slots == 1) {
    EXPECT_GT(s.transient_loads, 0u);  // k = 2 > 1 slot
  }
  // Prefetch counters add up; without prefetch there are none.
  EXPECT_EQ(s.total.prefetch_issued,
            s.total.prefetch_used + s.total.prefetch_wasted + s.prefetch_pending);
  if (c.prefetch && c.slots < n_expert) {
    EXPECT_GT(s.total.prefetch_issued, 0u);
  } else if (!c.prefetch) {
    EXPECT_EQ(s.total.prefetch_issued, 0u);
  }
  uint64_t hist = 0;
  for (uint64_t h : s.load_latency_us_log2) hist += h;
  EXPECT_EQ(hist, s.loads);
}

INSTANTIATE_TEST_SUITE_P(Budgets, TieredIdentical,
                         ::testing::Values(IdentCase{"mixtral_tiny_q8_0.gguf", 1, false},
                                           IdentCase{"mixtral_tiny_q8_0.gguf", 1, true},
                                           IdentCase{"mixtral_tiny_q8_0.gguf", 0, false},
                                           IdentCase{"mixtral_tiny_q8_0.gguf", 0, true},
                                           IdentCase{"mixtral_tiny_q8_0.gguf", 4, false},
                                           IdentCase{"mixtral_tiny_q8_0.gguf", 4, true},
                                           IdentCase{"mixtral_tiny_f32.gguf", 1, true},
                                           IdentCase{"mixtral_tiny_f32.gguf", 2, true},
                                           IdentCase{"mixtral_tiny_f32.gguf", 3, false}),
    [](const ::testing::TestParamInfo<IdentCase>& p) {
      const IdentCase& c = p.param;
      return std::string(std::strstr(c.file, "f32") ? "F32" : "Q8_0") + "_" +
             (c.slots > 0 ? std::to_string(c.slots) + "Slots" : std::string("Half")) +
             (c.prefetch ? "_Prefetch" : "_NoPrefetch");
    });

TEST(TieredStore, BufferedFallbackGivesTheSameLogits) {
  auto m = Model::load(kQ8);
  ASSERT_TRUE(m.ok()) << m.message();
  MappedExpertStore mapped(**m);
  const Outputs want = run(**m, mapped, false);
  auto store = make_store(**m, 1ull << 30, true, /*direct=*/false);
  ASSERT_TRUE(store);
  EXPECT_NE(store->io_note().find("buffered"), std::string::npos) << store->io_note();
  const Outputs got = run(**m, *store, true);
  EXPECT_TRUE(bit_identical(want.decode, got.decode));
}

// The per-expert tensor layout (blk.N.ffn_gate.E.weight, ...): the golden Q8_0 model with its
// merged ffn_*_exps tensors split into one tensor per expert. Same logits from the tiered store
// as from the mapping, and as from the merged file.
TEST(TieredStore, PerExpertTensorLayoutIsBitIdentical) {
  auto src = GgufFile::open(kQ8);
  ASSERT_TRUE(src.ok()) << src.message();
  GgufWriter w;
  for (const GgufKv& kv : (*src)->metadata()) w.set_value(kv.key, kv.value);
  int split = 0;
  for (const TensorInfo& t : (*src)->tensors()) {
    const std::string& n = t.name;
    const size_t pos = n.find("_exps.weight");
    if (pos == std::string::npos) {
      ASSERT_TRUE(w.add_tensor(n, t.type, t.shape, {t.data, t.n_bytes}).ok());
      continue;
    }
    const uint64_t slice = t.n_bytes / static_cast<uint64_t>(t.ne(2));
    for (int64_t e = 0; e < t.ne(2); ++e) {
      const std::string name = n.substr(0, pos) + "." + std::to_string(e) + ".weight";
      ASSERT_TRUE(w.add_tensor(name, t.type, {t.ne(0), t.ne(1)},
                               {t.data + static_cast<size_t>(e) * slice, slice})
                      .ok());
      ++split;
    }
  }
  ASSERT_GT(split, 0);
  const std::string path = std::string(MOE_BINARY_DIR) + "/tiered_per_expert_q8_0.gguf";
  ASSERT_TRUE(w.write(path).ok());
  auto merged = Model::load(kQ8);
  auto per = Model::load(path);
  ASSERT_TRUE(merged.ok() && per.ok()) << per.message();
  ASSERT_EQ((*per)->file().find_tensor("blk.0.ffn_gate_exps.weight"), nullptr);
  ASSERT_NE((*per)->file().find_tensor("blk.0.ffn_gate.1.weight"), nullptr);
  MappedExpertStore mapped(**merged);
  const Outputs want = run(**merged, mapped, false);
  for (int slots : {1, 2}) {
    auto probe = make_store(**per, 1ull << 30);
    ASSERT_TRUE(probe);
    auto store = make_store(**per, probe->min_budget_bytes() * static_cast<uint64_t>(slots));
    ASSERT_TRUE(store);
    const Outputs got = run(**per, *store, true);
    EXPECT_TRUE(bit_identical(want.prefill, got.prefill)) << slots << " slots";
    EXPECT_TRUE(bit_identical(want.decode, got.decode)) << slots << " slots";
    EXPECT_GT(store->stats().total.misses, 0u);
  }
  std::filesystem::remove(path);
}

// ---- live budget ----

// A second thread swings the budget between one slot per layer and everything while the
// engine decodes; after every call returns, the bytes held are within the new budget plus
// the experts then in use, and the logits never change.
TEST(TieredStore, LiveBudgetChangesKeepBytesInBudgetAndLogitsIdentical) {
  auto m = Model::load(kF32);
  ASSERT_TRUE(m.ok()) << m.message();
  const Model& model = **m;
  MappedExpertStore mapped(model);
  const Outputs want = run(model, mapped, false, 24);
  auto store = make_store(model, 1ull << 30, true);
  ASSERT_TRUE(store);
  const uint64_t lo = store->min_budget_bytes(), hi = store->all_experts_bytes();
  ASSERT_TRUE(store->set_ram_budget(hi / 2).ok());
  std::atomic<bool> done{false};
  std::atomic<int> changes{0}, violations{0};
  std::thread changer([&] {
    const uint64_t budgets[] = {lo, hi, lo + lo / 2, hi / 2, lo};
    for (int i = 0; !done.load(); ++i) {
      ASSERT_TRUE(store->set_ram_budget(budgets[i % 5]).ok());
      const TieredStoreStats s = store->stats();
      if (s.held_bytes > s.budget_bytes + s.in_use_bytes) ++violations;
      ++changes;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  });
  const Outputs got = run(model, *store, true, 24, [&](int) {
    // Give the changer a turn between steps on a busy machine.
    const int before = changes.load();
    for (int spin = 0; spin < 2000 && changes.load() == before; ++spin) std::this_thread::yield();
  });
  done = true;
  changer.join();
  EXPECT_TRUE(bit_identical(want.prefill, got.prefill));
  EXPECT_TRUE(bit_identical(want.decode, got.decode));
  EXPECT_GT(changes.load(), 5);
  EXPECT_EQ(violations.load(), 0);
  // Quiet now: shrinking to one slot per layer leaves exactly one buffer per layer at most.
  ASSERT_TRUE(store->set_ram_budget(lo).ok());
  const TieredStoreStats s = store->stats();
  EXPECT_LE(s.held_bytes, lo);
  for (int il = 0; il < s.n_layer; ++il) EXPECT_LE(s.n_resident[static_cast<size_t>(il)], 1);
  EXPECT_GT(s.evictions, 0u);
}

// ---- policy order, in-use protection, events ----

TEST(TieredStore, LruOrderInUseExpertsStayAndEventsMatchCounters) {
  auto m = Model::load(kQ8);
  ASSERT_TRUE(m.ok()) << m.message();
  auto store = two_slot_store(**m, /*prefetch=*/false);
  ASSERT_TRUE(store);
  EventBus bus;
  auto q = bus.subscribe();
  store->set_event_bus(&bus);
  ExpertView v;
  const auto use = [&](int e) {
    ASSERT_TRUE(store->acquire(1, e, v).ok());
    EXPECT_EQ(v.tier, Tier::kRam);
    EXPECT_EQ(
        std::memcmp(v.weights->down.data, (*m)->layer(1).experts[static_cast<size_t>(e)].down.data,
                    v.weights->down.bytes()),
        0);
    store->release(1, e);
  };
  use(0);
  use(1);
  EXPECT_EQ(store->residents(1), (std::vector<int>{1, 0}));
  use(0);
  EXPECT_EQ(store->residents(1), (std::vector<int>{0, 1}));
  use(2);  // evicts 1, the least recently used
  EXPECT_EQ(store->residents(1), (std::vector<int>{2, 0}));
  const uint64_t misses = store->counters().misses;
  use(0);  // a hit
  EXPECT_EQ(store->counters().misses, misses);
  use(1);  // a miss again: it was evicted; evicts 2
  EXPECT_EQ(store->counters().misses, misses + 1);
  EXPECT_EQ(store->residents(1), (std::vector<int>{1, 0}));

  // Both slots in use: a third expert is served from a transient buffer, nothing is evicted.
  ExpertView a, b, c;
  ASSERT_TRUE(store->acquire(1, 0, a).ok());
  ASSERT_TRUE(store->acquire(1, 1, b).ok());
  ASSERT_TRUE(store->acquire(1, 3, c).ok());
  EXPECT_EQ(store->residents(1), (std::vector<int>{1, 0}));
  TieredStoreStats s = store->stats();
  EXPECT_EQ(s.transient_loads, 1u);
  EXPECT_GT(s.held_bytes, s.budget_bytes / 2);  // layer 1 over its share, by one in-use expert
  EXPECT_EQ(s.in_use_bytes, 3 * (s.min_budget_bytes / 2));
  store->release(1, 3);
  store->release(1, 1);
  store->release(1, 0);
  s = store->stats();
  EXPECT_LE(s.held_bytes, s.budget_bytes);
  EXPECT_EQ(s.in_use_bytes, 0u);

  std::vector<Event> evs;
  q->drain(evs);
  uint64_t hits = 0, miss = 0, evict = 0;
  for (const Event& e : evs) {
    const auto* ce = std::get_if<CacheEvent>(&e);
    ASSERT_NE(ce, nullptr);
    EXPECT_EQ(ce->layer, 1);
    if (ce->kind == CacheEvent::Kind::kHit) ++hits;
    if (ce->kind == CacheEvent::Kind::kMiss) {
      ++miss;
      EXPECT_EQ(ce->from_tier, static_cast<uint8_t>(Tier::kDisk));
      EXPECT_EQ(ce->to_tier, static_cast<uint8_t>(Tier::kRam));
      EXPECT_GT(ce->bytes, 0u);
      EXPECT_GT(ce->seconds, 0.0);
    }
    if (ce->kind == CacheEvent::Kind::kEvict) ++evict;
  }
  EXPECT_EQ(hits, s.total.hits);
  EXPECT_EQ(miss, s.total.misses);
  EXPECT_EQ(evict, s.evictions);
  EXPECT_EQ(evict, 2u);
}

TEST(TieredStore, PrefetchCountersIssuedUsedWasted) {
  auto m = Model::load(kQ8);
  ASSERT_TRUE(m.ok()) << m.message();
  auto store = two_slot_store(**m, /*prefetch=*/true);
  ASSERT_TRUE(store);
  const int32_t guess[] = {1, 2, 3};
  store->prefetch(0, guess);  // depth 2: 1 and 2
  store->wait_for_loads();
  EXPECT_EQ(store->stats().total.prefetch_issued, 2u);
  // Prefetched experts go in at the LRU end (cache_policy.h): a wrong guess leaves first.
  EXPECT_EQ(store->residents(0), (std::vector<int>{1, 2}));
  ExpertView v;
  ASSERT_TRUE(store->acquire(0, 1, v).ok());  // a good guess: used, and a hit
  store->release(0, 1);
  TieredStoreStats s = store->stats();
  EXPECT_EQ(s.total.prefetch_used, 1u);
  EXPECT_EQ(s.total.hits, 1u);
  EXPECT_EQ(s.total.misses, 0u);
  const int32_t three[] = {3};
  store->prefetch(0, three);  // evicts 1 (used), never 2 (prefetched, not used yet)
  store->wait_for_loads();
  EXPECT_EQ(store->residents(0), (std::vector<int>{2, 3}));
  store->prefetch(0, guess);  // 1 absent, but no slot: both residents are unused prefetches
  store->wait_for_loads();
  EXPECT_EQ(store->residents(0), (std::vector<int>{2, 3}));
  ASSERT_TRUE(store->acquire(0, 0, v).ok());  // demand: evicts the LRU end, a wasted prefetch
  store->release(0, 0);
  s = store->stats();
  EXPECT_EQ(s.total.prefetch_issued, 3u);
  EXPECT_EQ(s.total.prefetch_used, 1u);
  EXPECT_EQ(s.total.prefetch_wasted, 1u);
  EXPECT_EQ(s.prefetch_pending, 1u);  // the other unused prefetch
  EXPECT_EQ(s.total.prefetch_issued,
            s.total.prefetch_used + s.total.prefetch_wasted + s.prefetch_pending);
  EXPECT_DOUBLE_EQ(s.prefetch_accuracy(), 1.0 / 3.0);
  // Prefetch off: hints are counted, nothing is loaded.
  auto off = two_slot_store(**m, /*prefetch=*/false);
  off->prefetch(0, guess);
  EXPECT_EQ(off->stats().total.prefetch_issued, 0u);
  EXPECT_EQ(off->counters().prefetch_hints, 3u);
  EXPECT_TRUE(off->residents(0).empty());
}

// Guesses that are always wrong (every prefetched expert is evicted unused by the demand loads
// that follow) take the depth from 2 to 0, window by window (prefetch_depth.h); at 0 the store
// queues nothing, and it probes depth 1 again after a while.
TEST(TieredStore, WrongGuessesTurnPrefetchOff) {
  auto m = Model::load(kQ8);
  ASSERT_TRUE(m.ok()) << m.message();
  auto store = two_slot_store(**m, /*prefetch=*/true);
  ASSERT_TRUE(store);
  ASSERT_EQ(store->stats().prefetch_depth, 2);
  ExpertView v;
  const auto use = [&](int32_t e) {
    ASSERT_TRUE(store->acquire(0, e, v).ok());
    store->release(0, e);
  };
  const int32_t wrong[] = {2, 3};
  int rounds = 0;
  for (; rounds < 64 && store->stats().prefetch_depth > 0; ++rounds) {
    use(0);
    use(1);
    store->prefetch(0, wrong);
    store->wait_for_loads();
    use(0);  // each demand evicts an unused prefetch: wasted
    use(1);
  }
  TieredStoreStats s = store->stats();
  EXPECT_EQ(s.prefetch_depth, 0);
  EXPECT_EQ(s.prefetch_depth_max, 2);
  EXPECT_EQ(s.prefetch_depth_changes, 2);
  EXPECT_EQ(s.total.prefetch_used, 0u);
  // 16 rounds of 2 wasted at depth 2, then 32 of 1 at depth 1.
  EXPECT_EQ(rounds, 48);
  const uint64_t issued = s.total.prefetch_issued;
  store->prefetch(0, wrong);
  store->wait_for_loads();
  EXPECT_EQ(store->stats().total.prefetch_issued, issued);  // off
  for (int i = 1; i < PrefetchDepth::kProbeAfterCalls; ++i) store->prefetch(0, wrong);
  store->wait_for_loads();
  s = store->stats();
  EXPECT_EQ(s.prefetch_depth, 1);  // the probe
  EXPECT_EQ(s.total.prefetch_issued, issued + 1);
}

// tier_of (read lock-free by the tier-aware latency source) says kRam exactly for the experts
// resident in a slot, through loads and evictions.
TEST(TieredStore, TierOfFollowsResidency) {
  auto m = Model::load(kQ8);
  ASSERT_TRUE(m.ok()) << m.message();
  auto store = two_slot_store(**m, /*prefetch=*/false);
  ASSERT_TRUE(store);
  const int n_expert = static_cast<int>((*m)->layer(0).experts.size());
  auto check = [&](const char* when) {
    for (int l = 0; l < (*m)->hparams().n_layer; ++l) {
      const auto res = store->residents(l);
      for (int e = 0; e < n_expert; ++e) {
        const bool resident = std::find(res.begin(), res.end(), e) != res.end();
        EXPECT_EQ(store->tier_of(l, e), resident ? Tier::kRam : Tier::kDisk)
            << when << ": layer " << l << " expert " << e;
      }
    }
  };
  check("after warm-up");
  ExpertView v;
  for (int e = 0; e < n_expert; ++e) {  // every expert once: loads and evictions
    ASSERT_TRUE(store->acquire(0, e, v).ok());
    store->release(0, e);
  }
  check("after cycling layer 0");
  EXPECT_EQ(store->tier_of(-1, 0), Tier::kDisk);
  EXPECT_EQ(store->tier_of(0, n_expert), Tier::kDisk);
}

// ---- I/O errors ----

TEST(TieredStore, TruncatedFileIsAnErrorNamingLayerAndExpert) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("tiered_trunc_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "model.gguf").string();
  std::filesystem::copy_file(kQ8, path, std::filesystem::copy_options::overwrite_existing);
  auto m = Model::load(path);
  ASSERT_TRUE(m.ok()) << m.message();
  const Model& model = **m;
  auto store = make_store(model, 1ull << 30, false);
  ASSERT_TRUE(store);
  // The expert whose bytes end last in the file loses its tail.
  int last_layer = 0, last_expert = 0;
  uint64_t last_end = 0;
  for (int il = 0; il < model.n_layer(); ++il) {
    for (int e = 0; e < model.hparams().n_expert; ++e) {
      const ExpertWeights& w = model.layer(il).experts[static_cast<size_t>(e)];
      for (const MatrixView* mv : {&w.gate, &w.up, &w.down}) {
        const uint64_t end = static_cast<uint64_t>(mv->data - model.file().base()) + mv->bytes();
        if (end > last_end) {
          last_end = end;
          last_layer = il;
          last_expert = e;
        }
      }
    }
  }
  ASSERT_EQ(truncate(path.c_str(), static_cast<off_t>(last_end - 16)), 0);
  ExpertView v;
  Status st = store->acquire(last_layer, last_expert, v);
  ASSERT_FALSE(st.ok());
  const std::string want =
      "expert " + std::to_string(last_expert) + " of layer " + std::to_string(last_layer);
  EXPECT_NE(st.message().find(want), std::string::npos) << st.message();
  EXPECT_NE(st.message().find(path), std::string::npos) << st.message();
  // Nothing stays acquired or held for it; a second try fails the same way, no crash.
  TieredStoreStats s = store->stats();
  EXPECT_EQ(s.in_use_bytes, 0u);
  EXPECT_FALSE(store->acquire(last_layer, last_expert, v).ok());
  // acquire_many is all or nothing.
  const int32_t both[] = {last_expert == 0 ? 1 : 0, last_expert};
  ExpertView views[2];
  EXPECT_FALSE(store->acquire_many(last_layer, both, views).ok());
  EXPECT_EQ(store->stats().in_use_bytes, 0u);
  EXPECT_EQ(store->counters().acquires, store->counters().releases + 0u);
  store.reset();
  m->reset();
  std::filesystem::remove_all(dir);
}

// The CacheEvents alone tell where every expert is (what the app's residency map draws): from
// an empty store, replaying loaded (not transient) -> RAM and evict -> disk over a decode with
// prefetch and a budget shrink gives exactly the store's own residency snapshot; the loaded
// bytes are the bytes read and the wasted prefetches are counted as events too.
TEST(TieredStore, CacheEventsReplayToTheResidencySnapshot) {
  auto m = Model::load(kQ8);
  ASSERT_TRUE(m.ok()) << m.message();
  auto store = make_store(**m, 1ull << 30, /*prefetch=*/true);
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->set_ram_budget(store->all_experts_bytes() / 2).ok());
  EventBus bus;
  auto q = bus.subscribe();
  store->set_event_bus(&bus);
  run(**m, *store, true, 12, [&](int i) {
    if (i == 6) {
      ASSERT_TRUE(store->set_ram_budget(store->min_budget_bytes()).ok());
    }
  });
  store->wait_for_loads();
  const TieredStoreStats s = store->stats();
  const size_t n_expert = static_cast<size_t>(s.n_expert);
  std::vector<ExpertResidency> replay(s.residency.size(), ExpertResidency::kDisk);
  uint64_t loaded_bytes = 0, wasted = 0, evicted = 0;
  std::vector<Event> evs;
  q->drain(evs);
  for (const Event& e : evs) {
    const auto* ce = std::get_if<CacheEvent>(&e);
    ASSERT_NE(ce, nullptr);
    const size_t i = static_cast<size_t>(ce->layer) * n_expert + static_cast<size_t>(ce->expert);
    if (ce->kind == CacheEvent::Kind::kLoaded) {
      loaded_bytes += ce->bytes;
      EXPECT_GT(ce->seconds, 0.0);
      if ((ce->flags & CacheEvent::kTransient) == 0) replay[i] = ExpertResidency::kRam;
    }
    if (ce->kind == CacheEvent::Kind::kEvict) replay[i] = ExpertResidency::kDisk, ++evicted;
    if (ce->kind == CacheEvent::Kind::kPrefetchWasted) ++wasted;
  }
  EXPECT_EQ(replay, s.residency);
  EXPECT_EQ(loaded_bytes, s.total.bytes_read);
  EXPECT_EQ(wasted, s.total.prefetch_wasted);
  EXPECT_EQ(evicted, s.evictions);
  EXPECT_GT(evicted, 0u);
  EXPECT_EQ(s.policy, "lru");
  int in_ram = 0;
  for (ExpertResidency r : s.residency) in_ram += r == ExpertResidency::kRam ? 1 : 0;
  EXPECT_GT(in_ram, 0);
  EXPECT_LE(in_ram, s.n_layer);  // one slot per layer after the shrink
}

// Belady's oracle on the accesses the store served: every policy's demand hits (no prefetch,
// whose hits no demand cache could match) stay at or under it, on the same run and slots.
TEST(TieredStore, OracleHitsBoundEveryPolicyOnTheSameRun) {
  auto m = Model::load(kF32);
  ASSERT_TRUE(m.ok()) << m.message();
  const Model& model = **m;
  auto probe = make_store(model, 1ull << 30);
  ASSERT_TRUE(probe);
  const uint64_t slot = probe->min_budget_bytes() / static_cast<uint64_t>(model.n_layer());
  probe.reset();
  bool some_gap = false;
  for (const CachePolicyKind policy : {CachePolicyKind::kLru, CachePolicyKind::kLfu,
                                       CachePolicyKind::kPinned, CachePolicyKind::kHybrid}) {
    for (const int slots : {1, 2, 3}) {
      SCOPED_TRACE(std::string(cache_policy_name(policy)) + " " + std::to_string(slots));
      TieredStoreOptions o;
      o.ram_budget_bytes = slot * static_cast<uint64_t>(slots * model.n_layer());
      o.policy = policy;
      o.prefetch = false;
      auto store = TieredExpertStore::create(model, o);
      ASSERT_TRUE(store.ok()) << store.message();
      run(model, **store, false, 24);
      const TieredStoreStats s = (*store)->stats();
      const HitStats oracle = (*store)->oracle_hits();
      EXPECT_EQ(oracle.accesses, s.total.hits + s.total.misses);
      EXPECT_GE(oracle.hits, s.total.hits);
      EXPECT_LE(oracle.hits, oracle.accesses);
      some_gap = some_gap || oracle.hits > s.total.hits;
    }
  }
  EXPECT_TRUE(some_gap);  // the oracle is a replay, not a copy of the store's count
}

}  // namespace
}  // namespace moe
