// libFuzzer entry point for the model loader (built with -DMOE_FUZZ=ON and clang). Seeds:
// fuzz_target_replay --target model --count 0 --dump-seeds DIR (docs/fuzzing.md).
#include <cstddef>
#include <cstdint>

#include "tests/gguf_fuzz/model_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto o = moe::fuzz::check_model({data, size}, "fuzz.gguf");
  if (!o.loaded && o.message.find("fuzz.gguf") == std::string::npos) __builtin_trap();
  return 0;
}
