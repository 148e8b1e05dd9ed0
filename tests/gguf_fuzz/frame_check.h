#pragma once
// The expert RPC fuzz target: a byte stream as a connection delivers it (in chunks whose sizes
// come from the input) through FrameDecoder, and every complete frame's payload through the
// decoder of its type (netlink/frame.h, netlink/messages.h). Checked beyond memory safety: the
// decoder never holds a frame over its limit, and an accepted message re-encodes to the same
// payload bytes (f32 rows; other row types round-trip through float).
#include <cstdint>
#include <span>
#include <vector>

#include "tests/gguf_fuzz/gguf_check.h"

namespace moe::fuzz {

/// Input: byte 0 = chunk-size seed (its top bit set: every frame's CRC is first rewritten to
/// match, so mutations reach the payload decoders), then the stream. loaded = at least one frame
/// decoded.
CheckOutcome check_frames(std::span<const uint8_t> bytes);

/// Streams of valid frames of every type (hello, hello-ack, expert request/response in each row
/// type, ping/pong, error), each prefixed by its chunk-size seed.
std::vector<std::vector<uint8_t>> make_frame_seeds();

}  // namespace moe::fuzz
