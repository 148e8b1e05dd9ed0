// libFuzzer entry point for the tokenizer (built with -DMOE_FUZZ=ON and clang); input format in
// tokenizer_check.h. Seeds: fuzz_target_replay --target tokenizer --count 0 --dump-seeds DIR.
#include <cstddef>
#include <cstdint>

#include "tests/gguf_fuzz/tokenizer_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)moe::fuzz::check_tokenizer({data, size});
  return 0;
}
