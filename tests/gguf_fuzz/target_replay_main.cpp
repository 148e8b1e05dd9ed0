// Replays a seeded mutation corpus through the loader, the tokenizer or the expert RPC frame
// fuzz target (the parser has gguf_fuzz_replay). Built with -fsanitize=address,undefined like the parser's replay, so
// an out-of-bounds read, overflow or UB aborts the test; a violated invariant traps.
//   fuzz_target_replay --target model|tokenizer|frame [--count N] [--seed S] [--dump-seeds DIR]
// model: a rejected file must have a message naming it; the seeds must load.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "tests/gguf_fuzz/frame_check.h"
#include "tests/gguf_fuzz/fuzz_seeds.h"
#include "tests/gguf_fuzz/gguf_corpus.h"
#include "tests/gguf_fuzz/model_check.h"
#include "tests/gguf_fuzz/tokenizer_check.h"

namespace {

void write_file(const std::string& path, const std::vector<uint8_t>& b) {
  if (std::FILE* f = std::fopen(path.c_str(), "wb")) {
    std::fwrite(b.data(), 1, b.size(), f);
    std::fclose(f);
  }
}

moe::fuzz::CheckOutcome check(const std::string& target, const std::vector<uint8_t>& bytes,
                              const std::string& name) {
  if (target == "frame") return moe::fuzz::check_frames(bytes);
  return target == "model" ? moe::fuzz::check_model(bytes, name)
                           : moe::fuzz::check_tokenizer(bytes);
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t count = 3000, seed = 20261124;
  std::string target, dump_seeds;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--count") {
      count = std::strtoull(argv[i + 1], nullptr, 10);
    } else if (a == "--seed") {
      seed = std::strtoull(argv[i + 1], nullptr, 10);
    } else if (a == "--target") {
      target = argv[i + 1];
    } else if (a == "--dump-seeds") {
      dump_seeds = argv[i + 1];
    }
  }
  if (target != "model" && target != "tokenizer" && target != "frame") {
    std::fprintf(stderr,
                 "usage: %s --target model|tokenizer|frame [--count N] [--seed S] "
                 "[--dump-seeds DIR]\n",
                 argv[0]);
    return 2;
  }
  const auto seeds = target == "model"   ? moe::fuzz::make_model_seeds()
                     : target == "frame" ? moe::fuzz::make_frame_seeds()
                                         : moe::fuzz::make_tokenizer_seeds();
  int failures = 0;
  for (size_t i = 0; i < seeds.size(); ++i) {
    const std::string name = "seed_" + std::to_string(i) + ".bin";
    if (!dump_seeds.empty()) write_file(dump_seeds + "/" + name, seeds[i]);
    const auto o = check(target, seeds[i], name);
    if (!o.loaded) {
      std::fprintf(stderr, "FAIL: seed %zu rejected: %s\n", i, o.message.c_str());
      ++failures;
    }
  }
  uint64_t loaded = 0;
  for (uint64_t i = 0; i < count; ++i) {
    std::string kind;
    const auto bytes = moe::fuzz::make_mutant(seeds, seed, i, &kind);
    const std::string name = "corpus_" + std::to_string(i) + ".gguf";
    const auto o = check(target, bytes, name);
    loaded += o.loaded;
    if (target == "model" && !o.loaded && o.message.find(name) == std::string::npos) {
      std::fprintf(stderr, "FAIL: %s (%s): message does not name the file: '%s'\n", name.c_str(),
                   kind.c_str(), o.message.c_str());
      ++failures;
    }
  }
  std::printf("%s corpus: %llu inputs (seed %llu): %llu accepted, %llu rejected\n", target.c_str(),
              static_cast<unsigned long long>(count), static_cast<unsigned long long>(seed),
              static_cast<unsigned long long>(loaded),
              static_cast<unsigned long long>(count - loaded));
  if (count > 0 && (loaded == 0 || loaded == count)) {
    std::fprintf(stderr, "FAIL: a useful corpus has both accepted and rejected inputs\n");
    ++failures;
  }
  return failures == 0 ? 0 : 1;
}
