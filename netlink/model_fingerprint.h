#pragma once
// Which model file a device serves, so that the host never mixes weights of two files: the
// file size, then CRC-32C over the GGUF header (metadata + tensor directory) and over 64
// samples of 64 KiB spread evenly across the tensor data (so two files of the same shape but
// different weights differ). Reads ~4 MiB whatever the file size (milliseconds, where hashing a
// 26 GB file whole would take a minute at every start). Printed as hex: "<size>-<crc>-<crc>".
#include <string>

#include "core/util/status.h"

namespace moe::net {

Result<std::string> model_fingerprint(const std::string& gguf_path);

}  // namespace moe::net
