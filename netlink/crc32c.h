#pragma once
// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78; iSCSI, ext4, gRPC's framing checks):
// the checksum of every frame of the expert RPC protocol (docs/protocol.md). The SSE 4.2
// instruction is used when the CPU has it (checked at run time), else a table; both give the
// same value. crc32c("123456789") == 0xE3069283.
#include <cstddef>
#include <cstdint>
#include <span>

namespace moe::net {

/// Extends `crc` (0 to start) over `bytes`: crc32c(b, crc32c(a)) == crc32c(a + b).
uint32_t crc32c(std::span<const uint8_t> bytes, uint32_t crc = 0);
/// The table version alone (tests compare the two).
uint32_t crc32c_portable(std::span<const uint8_t> bytes, uint32_t crc = 0);

}  // namespace moe::net
