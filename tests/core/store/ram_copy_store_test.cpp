// Executors read expert weights only through an ExpertStore: a store that serves every expert
// from its own RAM copy gives bit-identical logits to the file mapping, its copy is what the
// kernels read, and every acquire is matched by a release (decode: k experts per layer).
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "core/engine/cpu_expert_executor.h"
#include "core/engine/session.h"
#include "core/store/mapped_expert_store.h"
#include "core/store/ram_copy_expert_store.h"

namespace moe {
namespace {

const std::string kDir = std::string(MOE_FIXTURE_DIR) + "/golden/";

struct Outputs {
  std::vector<float> prefill, decode;  // all prompt logits; the logits of each decoded token
  std::vector<int32_t> tokens;
};

// Prefill 7 tokens, then 5 greedy decode steps, on `store`.
Outputs run(const Model& m, ExpertStore& store, int threads) {
  ThreadPool pool(threads);
  auto exec = CpuExpertExecutor::create(m, store, pool, 16);
  EXPECT_TRUE(exec.ok()) << exec.message();
  auto s = Session::create(m, pool, **exec, {64, 16});
  EXPECT_TRUE(s.ok()) << s.message();
  Outputs r;
  const std::vector<int32_t> prompt = {1, 15, 27, 3, 99, 42, 7};
  EXPECT_TRUE((*s)->eval(prompt, /*all_logits=*/true).ok());
  r.prefill.assign((*s)->logits().begin(), (*s)->logits().end());
  for (int i = 0; i < 5; ++i) {
    const auto l = (*s)->logits();
    const auto last = l.subspan(l.size() - static_cast<size_t>(m.hparams().n_vocab));
    const int32_t next =
        static_cast<int32_t>(std::max_element(last.begin(), last.end()) - last.begin());
    r.tokens.push_back(next);
    EXPECT_TRUE((*s)->eval({&next, 1}).ok());
    r.decode.insert(r.decode.end(), (*s)->logits().begin(), (*s)->logits().end());
  }
  return r;
}

bool bit_identical(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

class RamCopyStore : public ::testing::TestWithParam<const char*> {};

TEST_P(RamCopyStore, BitIdenticalLogitsAndBalancedAcquires) {
  auto m = Model::load(kDir + GetParam());
  ASSERT_TRUE(m.ok()) << m.message();
  const Model& model = **m;
  MappedExpertStore mapped(model);
  auto copy = RamCopyExpertStore::create(model, mapped);
  ASSERT_TRUE(copy.ok()) << copy.message();
  EXPECT_EQ((*copy)->bytes(), model.expert_bytes());
  // The copy was read once from the mapping, expert by expert.
  const int n_layer = model.n_layer(), n_expert = model.hparams().n_expert;
  EXPECT_EQ(mapped.counters().acquires, static_cast<uint64_t>(n_layer * n_expert));
  EXPECT_EQ(mapped.counters().releases, mapped.counters().acquires);

  // Views of the copy lie outside the file mapping: the kernels read the copy.
  ExpertView v;
  ASSERT_TRUE((*copy)->acquire(0, 1, v).ok());
  const uint8_t* base = model.file().base();
  const uint8_t* p = v.weights->gate.data;
  EXPECT_TRUE(p < base || p >= base + model.file().file_size());
  EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 64, 0u);
  EXPECT_EQ(std::memcmp(p, model.layer(0).experts[1].gate.data, v.weights->gate.bytes()), 0);
  EXPECT_EQ(v.tier, Tier::kRam);
  (*copy)->release(0, 1);
  EXPECT_FALSE((*copy)->acquire(n_layer, 0, v).ok());  // out of range: an error, no crash
  EXPECT_FALSE((*copy)->acquire(0, n_expert, v).ok());
  const StoreCounters before = (*copy)->counters();

  const Outputs a = run(model, mapped, 2);
  const Outputs b = run(model, **copy, 2);
  EXPECT_TRUE(bit_identical(a.prefill, b.prefill));
  EXPECT_TRUE(bit_identical(a.decode, b.decode));
  EXPECT_EQ(a.tokens, b.tokens);

  const StoreCounters c = (*copy)->counters();
  const uint64_t acquires = c.acquires - before.acquires;
  EXPECT_EQ(c.acquires - before.acquires, c.releases - before.releases);
  // Prefill: each layer acquires each expert its 7 tokens use, once (2..n_expert per layer);
  // each decode step: exactly k = 2 experts per layer.
  const uint64_t decode = 5u * 2u * static_cast<uint64_t>(n_layer);
  EXPECT_GE(acquires, decode + 2u * n_layer);
  EXPECT_LE(acquires, decode + static_cast<uint64_t>(n_layer * n_expert));
  EXPECT_EQ(c.hits - before.hits, acquires);  // everything resident
}

INSTANTIATE_TEST_SUITE_P(GoldenFiles, RamCopyStore,
                         ::testing::Values("mixtral_tiny_f32.gguf", "mixtral_tiny_q8_0.gguf"));

TEST(MappedStore, PrefaultPolicyFollowsTheRam) {
  auto m = Model::load(kDir + "mixtral_tiny_q8_0.gguf");
  ASSERT_TRUE(m.ok()) << m.message();
  const uint64_t file = (*m)->file().file_size();
  MappedExpertStore small_ram(**m, /*ram_bytes=*/file);  // file >= RAM/2: experts on demand
  EXPECT_EQ(small_ram.warm_bytes(), 0u);
  MappedExpertStore big_ram(**m, /*ram_bytes=*/4 * file);
  EXPECT_EQ(big_ram.warm_bytes(), (*m)->expert_bytes());
  uint64_t last = 0;
  EXPECT_TRUE(big_ram
                  .warm([&](uint64_t done) {
                    last = done;
                    return true;
                  })
                  .ok());
  EXPECT_GE(last, (*m)->expert_bytes());
  EXPECT_FALSE(big_ram.warm([](uint64_t) { return false; }).ok());  // cancelled
}

// Both tensor layouts (merged ffn_*_exps, per-expert ffn_*.E) are expert tensors to the store
// and the warm-up; everything else is resident weight.
TEST(MappedStore, ExpertTensorsAreKnownInEveryLayout) {
  auto m = Model::load(kDir + "mixtral_tiny_f32.gguf");
  ASSERT_TRUE(m.ok()) << m.message();
  uint64_t expert = 0, other = 0;
  for (const TensorInfo& t : (*m)->file().tensors()) {
    ((*m)->is_expert_tensor(t) ? expert : other) += t.n_bytes;
  }
  EXPECT_EQ(expert, (*m)->expert_bytes());
  EXPECT_GT(other, 0u);
}

}  // namespace
}  // namespace moe
