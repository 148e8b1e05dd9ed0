// Replays the seeded GGUF mutation corpus (built in memory) through the parser. Built with
// -fsanitize=address,undefined (tests/gguf_fuzz/CMakeLists.txt), so any out-of-bounds read,
// overflow or UB aborts the test. Every file must load or be rejected with a non-empty message
// that names the file.
//   gguf_fuzz_replay [--count N] [--seed S] [--dump-seeds DIR] [--dump DIR]
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>

#include "core/gguf/gguf_file.h"
#include "tests/gguf_fuzz/gguf_check.h"
#include "tests/gguf_fuzz/gguf_corpus.h"

namespace {

void write_file(const std::string& path, const std::vector<uint8_t>& b) {
  if (std::FILE* f = std::fopen(path.c_str(), "wb")) {
    std::fwrite(b.data(), 1, b.size(), f);
    std::fclose(f);
  }
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t count = 6000, seed = 20261124;
  std::string dump_seeds, dump;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--count")
      count = std::strtoull(argv[i + 1], nullptr, 10);
    else if (a == "--seed")
      seed = std::strtoull(argv[i + 1], nullptr, 10);
    else if (a == "--dump-seeds")
      dump_seeds = argv[i + 1];
    else if (a == "--dump")
      dump = argv[i + 1];
  }
  const auto seeds = moe::fuzz::make_seeds();
  if (!dump_seeds.empty()) {
    for (size_t i = 0; i < seeds.size(); ++i) {
      write_file(dump_seeds + "/seed_" + std::to_string(i) + ".gguf", seeds[i]);
    }
  }
  int failures = 0;
  for (size_t i = 0; i < seeds.size(); ++i) {
    auto o = moe::fuzz::check_gguf(seeds[i], "seed_" + std::to_string(i) + ".gguf");
    if (!o.loaded) {
      std::fprintf(stderr, "FAIL: valid seed %zu rejected: %s\n", i, o.message.c_str());
      ++failures;
    }
  }
  uint64_t loaded = 0, rejected = 0;
  std::map<std::string, uint64_t> reasons;  // first words after "name: "
  for (uint64_t i = 0; i < count; ++i) {
    std::string kind;
    const auto bytes = moe::fuzz::make_mutant(seeds, seed, i, &kind);
    const std::string name = "corpus_" + std::to_string(i) + ".gguf";
    if (!dump.empty()) write_file(dump + "/" + name, bytes);
    const auto o = moe::fuzz::check_gguf(bytes, name);
    if (i % 97 == 0) {  // the mmap path must agree with the in-memory parse
      const std::string path = "gguf_fuzz_open_" + name;
      write_file(path, bytes);
      auto f = moe::GgufFile::open(path);
      std::remove(path.c_str());
      if (f.ok() != o.loaded || (!f.ok() && f.message().find(path) == std::string::npos)) {
        std::fprintf(stderr, "FAIL: %s: open() and parse() disagree: '%s'\n", name.c_str(),
                     f.message().c_str());
        ++failures;
      }
    }
    if (o.loaded) {
      ++loaded;
      continue;
    }
    ++rejected;
    if (o.message.empty() || o.message.find(name) == std::string::npos) {
      std::fprintf(stderr, "FAIL: %s (%s): message does not name the file: '%s'\n", name.c_str(),
                   kind.c_str(), o.message.c_str());
      ++failures;
    }
    std::string reason = o.message.substr(std::min(o.message.size(), name.size() + 2));
    reason = reason.substr(0, reason.find_first_of("0123456789'"));
    ++reasons[reason];
  }
  std::printf("gguf corpus: %llu files (seed %llu): %llu loaded, %llu rejected\n",
              static_cast<unsigned long long>(count), static_cast<unsigned long long>(seed),
              static_cast<unsigned long long>(loaded), static_cast<unsigned long long>(rejected));
  for (const auto& [r, n] : reasons) {
    std::printf("  %6llu  %s\n", static_cast<unsigned long long>(n), r.c_str());
  }
  if (count > 0 && (loaded == 0 || rejected == 0)) {
    std::fprintf(stderr, "FAIL: a useful corpus has both loaded and rejected files\n");
    ++failures;
  }
  return failures == 0 ? 0 : 1;
}
