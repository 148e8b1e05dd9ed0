#pragma once
// The loader fuzz target: GGUF bytes -> GgufFile::parse -> summarize_model (inspect) ->
// Model::from_file -> read_tokenizer_data -> Tokenizer::create -> a short encode/decode, i.e.
// everything `moe-cli run` does before the first matrix product. A loaded model has the first
// and last byte of every weight view read (AddressSanitizer sees an out-of-bounds view); a
// rejected one must have a message naming the file.
#include <cstdint>
#include <span>
#include <string>

#include "tests/gguf_fuzz/gguf_check.h"

namespace moe::fuzz {

CheckOutcome check_model(std::span<const uint8_t> bytes, const std::string& name);

}  // namespace moe::fuzz
