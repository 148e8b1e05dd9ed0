#include "tests/gguf_fuzz/gguf_check.h"

#include "core/gguf/gguf_file.h"

namespace moe::fuzz {

CheckOutcome check_gguf(std::span<const uint8_t> bytes, const std::string& name) {
  CheckOutcome out;
  auto f = GgufFile::parse(bytes, name);
  if (!f.ok()) {
    out.message = f.message();
    return out;
  }
  out.loaded = true;
  const GgufFile& g = **f;
  for (const auto& kv : g.metadata()) {
    // Every typed lookup on every key: must return a value or an error, never crash.
    out.checksum += g.get_uint(kv.key).ok() + g.get_int(kv.key).ok() + g.get_float(kv.key).ok();
    out.checksum += g.get_string(kv.key).ok() + g.get_bool(kv.key).ok();
    out.checksum += g.get_string_array(kv.key).ok() + g.get_float_array(kv.key).ok();
    out.checksum += g.get_int_array(kv.key).ok();
    out.checksum += gguf_value_to_string(kv.value).size();
    if (g.find(kv.key) != &kv.value) out.checksum += 1000000;  // index must find this entry
  }
  for (const auto& t : g.tensors()) {
    if (t.n_bytes > 0) out.checksum += t.data[0] + t.data[t.n_bytes - 1];
    if (g.find_tensor(t.name) != &t) out.checksum += 1000000;
  }
  return out;
}

}  // namespace moe::fuzz
