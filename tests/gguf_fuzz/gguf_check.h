#pragma once
// Shared by the replay test and the libFuzzer target: parse bytes and, when they load, touch
// everything a later reader would trust (every metadata lookup, first and last byte of every
// tensor), so AddressSanitizer sees any out-of-bounds view.
#include <cstdint>
#include <span>
#include <string>

namespace moe::fuzz {

struct CheckOutcome {
  bool loaded = false;
  std::string message;  ///< error message when rejected
  uint64_t checksum = 0;
};

CheckOutcome check_gguf(std::span<const uint8_t> bytes, const std::string& name);

}  // namespace moe::fuzz
