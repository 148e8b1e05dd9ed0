#include "core/engine/kv_cache.h"

namespace moe {

KvCache::KvCache(int n_layer, int n_ctx, int n_kv_dim, KvType type)
    : type_(type), n_ctx_(n_ctx), n_kv_dim_(n_kv_dim) {
  const size_t n = static_cast<size_t>(n_layer) * n_ctx * n_kv_dim;
  if (type == KvType::kF32) {
    k32_ = HugeArray<float>(n);
    v32_ = HugeArray<float>(n);
  } else {
    k16_ = HugeArray<uint16_t>(n);
    v16_ = HugeArray<uint16_t>(n);
  }
}

}  // namespace moe
