#pragma once
// Test helper: assembles GGUF bytes field by field, so tests can build files the writer would
// never produce (bad counts, lengths, types, offsets).
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

namespace moe::test {

struct RawGguf {
  std::vector<uint8_t> b;

  template <class T>
  RawGguf& put(T v) {
    // resize + memcpy rather than insert: g++ 12 -O3 reports a false -Wstringop-overflow on
    // the inlined range insert.
    const size_t at = b.size();
    b.resize(at + sizeof(T));
    std::memcpy(b.data() + at, &v, sizeof(T));
    return *this;
  }
  RawGguf& u32(uint32_t v) { return put(v); }
  RawGguf& u64(uint64_t v) { return put(v); }
  RawGguf& str(std::string_view s) {
    u64(s.size());
    b.insert(b.end(), s.begin(), s.end());
    return *this;
  }
  RawGguf& header(uint64_t n_tensors, uint64_t n_kv, uint32_t version = 3) {
    return u32(0x46554747).u32(version).u64(n_tensors).u64(n_kv);
  }
  RawGguf& kv_u32(std::string_view key, uint32_t v) { return str(key).u32(4).u32(v); }
  RawGguf& tensor(std::string_view name, std::vector<uint64_t> dims, uint32_t type,
                  uint64_t offset) {
    str(name).u32(static_cast<uint32_t>(dims.size()));
    for (uint64_t d : dims) u64(d);
    return u32(type).u64(offset);
  }
  RawGguf& pad_to(size_t align) {
    while (b.size() % align) b.push_back(0);
    return *this;
  }
  RawGguf& zeros(size_t n) {
    b.insert(b.end(), n, 0);
    return *this;
  }
};

}  // namespace moe::test
