#include "netlink/crc32c.h"

#include <array>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace moe::net {
namespace {

constexpr uint32_t kPoly = 0x82F63B78u;

// Slicing-by-8 tables: t[0] is the byte table, t[k][b] advances t[k-1][b] by one zero byte.
constexpr std::array<std::array<uint32_t, 256>, 8> make_tables() {
  std::array<std::array<uint32_t, 256>, 8> t{};
  for (uint32_t b = 0; b < 256; ++b) {
    uint32_t c = b;
    for (int i = 0; i < 8; ++i) c = (c >> 1) ^ ((c & 1u) ? kPoly : 0u);
    t[0][b] = c;
  }
  for (size_t k = 1; k < 8; ++k) {
    for (uint32_t b = 0; b < 256; ++b) t[k][b] = (t[k - 1][b] >> 8) ^ t[0][t[k - 1][b] & 0xFFu];
  }
  return t;
}
constexpr auto kTables = make_tables();

uint32_t portable(const uint8_t* p, size_t n, uint32_t c) {
  while (n >= 8) {
    const uint32_t lo = c ^ (uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 |
                             uint32_t{p[3]} << 24);
    c = kTables[7][lo & 0xFF] ^ kTables[6][(lo >> 8) & 0xFF] ^ kTables[5][(lo >> 16) & 0xFF] ^
        kTables[4][lo >> 24] ^ kTables[3][p[4]] ^ kTables[2][p[5]] ^ kTables[1][p[6]] ^
        kTables[0][p[7]];
    p += 8;
    n -= 8;
  }
  while (n-- > 0) c = (c >> 8) ^ kTables[0][(c ^ *p++) & 0xFFu];
  return c;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) uint32_t hardware_serial(const uint8_t* p, size_t n, uint32_t c) {
  uint64_t c64 = c;
  while (n >= 8) {
    uint64_t v;
    __builtin_memcpy(&v, p, 8);
    c64 = _mm_crc32_u64(c64, v);
    p += 8;
    n -= 8;
  }
  c = static_cast<uint32_t>(c64);
  while (n-- > 0) c = _mm_crc32_u8(c, *p++);
  return c;
}

// The crc32 instruction has a latency of 3 cycles and a throughput of one per cycle: one chain
// of it runs at a third of the instruction's speed. Long buffers go as three independent
// chains over consecutive lanes of kLane bytes, joined by the CRC's linearity: (unreflected
// state, no pre/post inversion) crc(A || B, c) = shift(crc(A, c)) ^ crc(B, 0), where shift
// advances a state over kLane zero bytes — a linear map on 32 bits, applied by four byte
// tables built once from its 32 basis images.
constexpr size_t kLane = 4096;

struct LaneShift {
  std::array<std::array<uint32_t, 256>, 4> t{};
  uint32_t operator()(uint32_t c) const {
    return t[0][c & 0xFF] ^ t[1][(c >> 8) & 0xFF] ^ t[2][(c >> 16) & 0xFF] ^ t[3][c >> 24];
  }
};

const LaneShift& lane_shift() {
  static const LaneShift shift = [] {
    static const std::array<uint8_t, kLane> zeros{};
    std::array<uint32_t, 32> basis{};
    for (int i = 0; i < 32; ++i) basis[i] = hardware_serial(zeros.data(), kLane, 1u << i);
    LaneShift s;
    for (int k = 0; k < 4; ++k) {
      for (uint32_t b = 0; b < 256; ++b) {
        uint32_t v = 0;
        for (int j = 0; j < 8; ++j) {
          if ((b >> j) & 1u) v ^= basis[8 * k + j];
        }
        s.t[k][b] = v;
      }
    }
    return s;
  }();
  return shift;
}

__attribute__((target("sse4.2"))) uint32_t hardware(const uint8_t* p, size_t n, uint32_t c) {
  if (n >= 3 * kLane) {
    const LaneShift& shift = lane_shift();
    while (n >= 3 * kLane) {
      uint64_t c0 = c, c1 = 0, c2 = 0;
      for (size_t i = 0; i < kLane; i += 8) {
        uint64_t v0, v1, v2;
        __builtin_memcpy(&v0, p + i, 8);
        __builtin_memcpy(&v1, p + kLane + i, 8);
        __builtin_memcpy(&v2, p + 2 * kLane + i, 8);
        c0 = _mm_crc32_u64(c0, v0);
        c1 = _mm_crc32_u64(c1, v1);
        c2 = _mm_crc32_u64(c2, v2);
      }
      c = shift(shift(static_cast<uint32_t>(c0)) ^ static_cast<uint32_t>(c1)) ^
          static_cast<uint32_t>(c2);
      p += 3 * kLane;
      n -= 3 * kLane;
    }
  }
  return hardware_serial(p, n, c);
}
const bool kHaveSse42 = __builtin_cpu_supports("sse4.2");
#endif

}  // namespace

uint32_t crc32c_portable(std::span<const uint8_t> bytes, uint32_t crc) {
  return ~portable(bytes.data(), bytes.size(), ~crc);
}

uint32_t crc32c(std::span<const uint8_t> bytes, uint32_t crc) {
#if defined(__x86_64__)
  if (kHaveSse42) return ~hardware(bytes.data(), bytes.size(), ~crc);
#endif
  return crc32c_portable(bytes, crc);
}

}  // namespace moe::net
