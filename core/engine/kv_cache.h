#pragma once
// Key/value cache of every layer, [n_layer][n_ctx][n_head_kv * head_dim] for K and V, allocated
// once at session creation, in F32 or F16. Size: n_layer * n_ctx * n_kv_dim * 2 * (4 or 2)
// bytes (Mixtral 8x7B at 4096 tokens: 1 GiB in F32, 512 MiB in F16). F32 keeps the golden
// comparison exact; F16 (what llama.cpp uses) halves the memory for long contexts.
#include <cstddef>
#include <cstdint>

#include "core/model/memory_plan.h"
#include "core/util/huge_array.h"

namespace moe {

class KvCache {
 public:
  KvCache(int n_layer, int n_ctx, int n_kv_dim, KvType type);

  KvType type() const { return type_; }
  int n_ctx() const { return n_ctx_; }
  int n_kv_dim() const { return n_kv_dim_; }
  size_t bytes() const { return (k32_.size() + v32_.size()) * 4 + (k16_.size() + v16_.size()) * 2; }

  /// Row of position `pos` of layer `layer`: [n_kv_dim], for the cache's type only.
  float* k32(int layer, int pos) { return k32_.data() + offset(layer, pos); }
  float* v32(int layer, int pos) { return v32_.data() + offset(layer, pos); }
  uint16_t* k16(int layer, int pos) { return k16_.data() + offset(layer, pos); }
  uint16_t* v16(int layer, int pos) { return v16_.data() + offset(layer, pos); }

 private:
  size_t offset(int layer, int pos) const {
    return (static_cast<size_t>(layer) * n_ctx_ + static_cast<size_t>(pos)) * n_kv_dim_;
  }
  KvType type_;
  int n_ctx_, n_kv_dim_;
  // Huge pages: a head's rows are n_kv_dim values apart, so a walk over the positions touches a
  // new 4 KiB page every few rows.
  HugeArray<float> k32_, v32_;
  HugeArray<uint16_t> k16_, v16_;
};

}  // namespace moe
