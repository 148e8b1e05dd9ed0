#include "core/store/expert_reads.h"

#include <algorithm>

namespace moe {

ExpertRanges expert_ranges(const Model& model, int layer, int expert) {
  const ExpertWeights& w = model.layer(layer).experts[static_cast<size_t>(expert)];
  const uint8_t* base = model.file().base();
  const MatrixView* mats[3] = {&w.gate, &w.up, &w.down};
  ExpertRanges r;
  for (size_t m = 0; m < 3; ++m) {
    r[m] = {static_cast<uint64_t>(mats[m]->data - base), mats[m]->bytes()};
  }
  return r;
}

uint64_t expert_read_bytes(const ExpertRanges& r) {
  uint64_t n = 0;
  for (const ByteRange& b : r) n += DirectReader::span_bytes(b.offset, b.len);
  return n;
}

uint64_t max_expert_read_bytes(const Model& model) {
  uint64_t m = 0;
  for (int il = 0; il < model.n_layer(); ++il) {
    const int n = static_cast<int>(model.layer(il).experts.size());
    for (int e = 0; e < n; ++e) m = std::max(m, expert_read_bytes(expert_ranges(model, il, e)));
  }
  return m;
}

Status read_expert(const DirectReader& reader, const ExpertRanges& r, uint8_t* buf) {
  uint64_t at = 0;
  for (const ByteRange& b : r) {
    MOE_TRY(reader.read(b.offset, b.len, buf + at));
    at += DirectReader::span_bytes(b.offset, b.len);
  }
  return {};
}

ExpertWeights expert_views(const ExpertWeights& src, const ExpertRanges& r, const uint8_t* buf) {
  ExpertWeights w = src;
  MatrixView* mats[3] = {&w.gate, &w.up, &w.down};
  uint64_t at = 0;
  for (size_t m = 0; m < 3; ++m) {
    mats[m]->data = buf + at + (r[m].offset - DirectReader::align_down(r[m].offset));
    at += DirectReader::span_bytes(r[m].offset, r[m].len);
  }
  return w;
}

int slots_per_layer(uint64_t budget, int n_layer, uint64_t slot_bytes, int n_expert) {
  if (n_layer <= 0 || slot_bytes == 0) return 0;
  const uint64_t share = budget / static_cast<uint64_t>(n_layer);
  return static_cast<int>(std::min<uint64_t>(static_cast<uint64_t>(n_expert), share / slot_bytes));
}

}  // namespace moe
