// Hyperparameters that disagree with the tensors present, or that no model has, are rejected
// before anything is sized from them (issue 12, item 1): a 150 KB file with
// llama.block_count = 2^23 used to take 2.2 GB and 6 s before "missing tensor blk.1...", and
// 2^30 ended in a bare std::bad_alloc. Each load runs in a child under a 2 GiB address-space
// limit, so the old behaviour fails the test instead of taking the machine's memory.
#include <gtest/gtest.h>
#include <atomic>
#include <cstdlib>
#include <new>

#include <cstdio>
#include <fstream>
#include <functional>
#include <iterator>

#include "core/gguf/gguf_writer.h"
#include "core/model/model.h"
#include "tests/support/child_usage.h"

// GCC sees malloc'd memory released by operator delete once both are replaced here (they pair).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

// Fault injection for OutOfMemoryIsAnErrorNamingTheFile: >= 0 counts allocations down to the one
// that throws (then -1: one fault per load, so the error path itself can allocate).
std::atomic<long> g_fail_allocation{-1};

void* operator new(std::size_t n) {
  long left = g_fail_allocation.load(std::memory_order_relaxed);
  while (left >= 0) {
    if (g_fail_allocation.compare_exchange_weak(left, left == 0 ? -2 : left - 1)) {
      if (left == 0) throw std::bad_alloc();
      break;
    }
  }
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}

namespace moe {
namespace {

const std::string kF32 = std::string(MOE_FIXTURE_DIR) + "/golden/mixtral_tiny_f32.gguf";

// The golden model with one metadata value replaced (an integer key set to `value`).
std::vector<uint8_t> golden_with(const std::string& key, uint64_t value) {
  auto src = GgufFile::open(kF32);
  EXPECT_TRUE(src.ok()) << src.message();
  GgufWriter w;
  for (GgufKv kv : (*src)->metadata()) {
    if (kv.key == "general.alignment") continue;
    if (kv.key == key) kv.value = GgufValue{GgufType::kUint32, value};
    w.set_value(kv.key, kv.value);
  }
  for (const TensorInfo& t : (*src)->tensors()) {
    EXPECT_TRUE(w.add_tensor(t.name, t.type, t.shape, {t.data, t.n_bytes}).ok());
  }
  auto bytes = w.to_bytes();
  EXPECT_TRUE(bytes.ok()) << bytes.message();
  return std::move(*bytes);
}

// Loads `bytes` as "hostile.gguf" in a child; exit 0 when the load fails with a message that
// names the file and contains every needle.
test::ChildUsage expect_rejected_in_child(const std::vector<uint8_t>& bytes,
                                          std::vector<std::string> needles) {
  return test::run_in_child([&] {
    auto f = GgufFile::parse(bytes, "hostile.gguf");
    if (!f.ok()) return 3;
    auto m = Model::from_file(std::move(*f));
    if (m.ok()) return 1;
    bool all = m.message().rfind("hostile.gguf: ", 0) == 0;
    for (const auto& n : needles) all = all && m.message().find(n) != std::string::npos;
    if (!all) std::fprintf(stderr, "message: %s\n", m.message().c_str());
    return all ? 0 : 2;
  });
}

TEST(ModelHostileHparams, BlockCountBeyondTheTensorsFailsAtOnce) {
  for (uint64_t n : {uint64_t{3}, uint64_t{4096}}) {  // 4096: the largest count allowed
    const auto u = expect_rejected_in_child(golden_with("llama.block_count", n),
                                            {"llama.block_count = " + std::to_string(n)});
    EXPECT_TRUE(u.exited && u.exit_code == 0) << n << ": exit " << u.exit_code;
    EXPECT_LT(u.max_rss_mb, 64) << n;
    EXPECT_LT(u.cpu_s, 1.0) << n;  // a complexity bound: the check is O(1)
  }
}

TEST(ModelHostileHparams, CountsNoModelHasAreOutOfRange) {
  const std::pair<const char*, uint64_t> cases[] = {
      {"llama.block_count", uint64_t{1} << 23},
      {"llama.block_count", uint64_t{1} << 30},
      {"llama.expert_count", uint64_t{1} << 30},
      {"llama.context_length", uint64_t{1} << 30},
      {"llama.embedding_length", uint64_t{1} << 30},
      {"llama.feed_forward_length", uint64_t{1} << 30},
  };
  for (const auto& [key, value] : cases) {
    const auto u = expect_rejected_in_child(golden_with(key, value), {key, "out of range"});
    EXPECT_TRUE(u.exited && u.exit_code == 0) << key << ": exit " << u.exit_code;
  }
}

TEST(ModelHostileHparams, ExpertCountMustMatchTheRouter) {
  const auto u = expect_rejected_in_child(golden_with("llama.expert_count", 4000),
                                          {"expert_count = 4000", "ffn_gate_inp", "4 rows"});
  EXPECT_TRUE(u.exited && u.exit_code == 0) << "exit " << u.exit_code;
}

// Fault injection: allocation number k of a load throws std::bad_alloc, for every k until the
// load needs no more. Each load must end in an Error naming the file ("out of memory"), never
// in an exception reaching the caller or std::terminate.
TEST(ModelHostileHparams, OutOfMemoryIsAnErrorNamingTheFile) {
  std::ifstream in(kF32, std::ios::binary);
  const std::vector<uint8_t> bytes{std::istreambuf_iterator<char>(in), {}};
  ASSERT_GT(bytes.size(), 100000u);
  const auto u = test::run_in_child([&] {
    int out_of_memory = 0;
    for (long k = 0;; ++k) {
      g_fail_allocation.store(k);
      auto f = GgufFile::parse(bytes, "tight.gguf");
      auto m = f.ok() ? Model::from_file(std::move(*f)) : Result<std::unique_ptr<Model>>(f.error());
      const bool injected = g_fail_allocation.exchange(-1) < 0;
      if (!injected) {  // the load finished before allocation k
        std::fprintf(stderr, "%d injected faults, all reported\n", out_of_memory);
        return m.ok() && out_of_memory > 10 ? 0 : 1;
      }
      if (m.ok() || m.message().rfind("tight.gguf: ", 0) != 0 ||
          m.message().find("out of memory") == std::string::npos) {
        std::fprintf(stderr, "allocation %ld: %s\n", k, m.ok() ? "loaded" : m.message().c_str());
        return 2;
      }
      ++out_of_memory;
    }
  });
  EXPECT_TRUE(u.exited && u.exit_code == 0) << "exit " << u.exit_code;
}

}  // namespace
}  // namespace moe
