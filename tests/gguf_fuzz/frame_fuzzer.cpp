// libFuzzer entry point for the expert RPC frames (built with -DMOE_FUZZ=ON and clang); input
// format in frame_check.h. Seeds: fuzz_target_replay --target frame --count 0 --dump-seeds DIR.
#include <cstddef>
#include <cstdint>

#include "tests/gguf_fuzz/frame_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)moe::fuzz::check_frames({data, size});
  return 0;
}
