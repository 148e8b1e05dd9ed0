#pragma once
// How the tiered store reads one expert from the model file, in one place, so that the store,
// `moe-cli calibrate` (which times exactly these reads) and `moe-cli plan` (which sizes slots
// as the store does) agree. An expert is three byte ranges of the file (gate, up, down: slices
// of the merged ffn_*_exps tensors or three per-expert tensors); a load reads the aligned
// superset of each (DirectReader) one after the other into one slot buffer.
#include <array>
#include <cstdint>

#include "core/model/model.h"
#include "core/store/direct_reader.h"
#include "core/util/status.h"

namespace moe {

struct ByteRange {
  uint64_t offset = 0, len = 0;  ///< the matrix' bytes in the file
};
/// gate, up, down.
using ExpertRanges = std::array<ByteRange, 3>;

/// The file ranges of (layer, expert) of a model loaded from a file.
ExpertRanges expert_ranges(const Model& model, int layer, int expert);
/// Bytes one load reads: the aligned spans of the three ranges (the slot size it needs).
uint64_t expert_read_bytes(const ExpertRanges& r);
/// The store's slot size: the largest expert_read_bytes() of any expert of any layer.
uint64_t max_expert_read_bytes(const Model& model);
/// Reads the three aligned spans into `buf` (kAlign-aligned, expert_read_bytes(r) long).
/// Errors are the reader's (they name the file and the range).
Status read_expert(const DirectReader& reader, const ExpertRanges& r, uint8_t* buf);

/// `src` with its three matrices pointing into `buf`, where read_expert() put them (the same
/// bytes as in the file: the kernels compute identical results).
ExpertWeights expert_views(const ExpertWeights& src, const ExpertRanges& r, const uint8_t* buf);

/// Slots per layer for a budget, as the tiered store splits it: an equal share
/// budget / n_layer per layer, as many whole slots as fit, at most n_expert.
int slots_per_layer(uint64_t budget, int n_layer, uint64_t slot_bytes, int n_expert);

}  // namespace moe
