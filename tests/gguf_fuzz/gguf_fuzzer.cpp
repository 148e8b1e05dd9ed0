// libFuzzer entry point for the GGUF parser (built with -DMOE_FUZZ=ON and clang). Start it from
// the seed files: gguf_fuzz_replay --dump-seeds DIR, then gguf_fuzzer DIR -max_total_time=60.
#include <cstddef>
#include <cstdint>

#include "tests/gguf_fuzz/gguf_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto o = moe::fuzz::check_gguf({data, size}, "fuzz.gguf");
  if (!o.loaded && o.message.find("fuzz.gguf") == std::string::npos) __builtin_trap();
  return 0;
}
