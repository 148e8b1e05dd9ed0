#include "core/cuda/vram_expert_cache.h"

#include "core/store/slot_allocation.h"
#include "core/util/check.h"

namespace moe::cuda {

VramExpertCache::VramExpertCache(int n_layer, int n_expert, int total_slots)
    : n_expert_(n_expert), total_slots_(0) {
  MOE_CHECK(n_layer > 0 && n_expert > 0 && total_slots >= n_layer,
            "VRAM expert cache: at least one slot per layer");
  const std::vector<int> per_layer = allocate_slots_equal(total_slots, n_layer, n_expert);
  free_.resize(static_cast<size_t>(n_layer));
  for (int l = 0; l < n_layer; ++l) {
    const int s = per_layer[static_cast<size_t>(l)];
    caches_.push_back(make_layer_cache(CachePolicyKind::kLru, n_expert, s));
    // Highest slot first in the free list, so that slots are handed out in ascending order.
    for (int i = s - 1; i >= 0; --i) free_[static_cast<size_t>(l)].push_back(total_slots_ + i);
    total_slots_ += s;
  }
  slot_of_.assign(static_cast<size_t>(n_layer) * n_expert, -1);
  busy_.assign(slot_of_.size(), 0);
}

VramExpertCache::Place VramExpertCache::use(int layer, int expert) {
  return place(layer, expert, false);
}

VramExpertCache::Place VramExpertCache::prefetch(int layer, int expert) {
  if (resident(layer, expert)) return {};  // nothing to upload
  return place(layer, expert, true);
}

VramExpertCache::Place VramExpertCache::place(int layer, int expert, bool speculative) {
  const size_t base = static_cast<size_t>(layer) * n_expert_;
  LayerCache& c = *caches_[static_cast<size_t>(layer)];
  Place p;
  if (!speculative) {
    c.on_access(expert);
    if (!busy_[base + expert]) {
      busy_[base + expert] = 1;
      busy_list_.push_back(layer * n_expert_ + expert);
    }
  }
  if (c.resident(expert)) {
    p.slot = slot_of_[base + expert];
    p.hit = true;
    return p;
  }
  const int r = c.admit(
      expert, [&](int e) { return !busy_[base + e]; }, speculative);
  if (r == kNotAdmitted) return p;
  std::vector<int>& fr = free_[static_cast<size_t>(layer)];
  if (r == kAdmittedFree) {
    MOE_CHECK(!fr.empty(), "VRAM expert cache: the policy admitted into a full layer");
    p.slot = fr.back();
    fr.pop_back();
  } else {
    p.evicted = r;
    p.slot = slot_of_[base + r];
    slot_of_[base + r] = -1;
  }
  slot_of_[base + expert] = p.slot;
  return p;
}

void VramExpertCache::clear_busy() {
  for (int i : busy_list_) busy_[static_cast<size_t>(i)] = 0;
  busy_list_.clear();
}

bool VramExpertCache::resident(int layer, int expert) const {
  return caches_[static_cast<size_t>(layer)]->resident(expert);
}

int VramExpertCache::slots_of_layer(int layer) const {
  return caches_[static_cast<size_t>(layer)]->slots();
}

}  // namespace moe::cuda
