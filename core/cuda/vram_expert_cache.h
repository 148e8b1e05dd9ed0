#pragma once
// Bookkeeping of the VRAM expert tier: which (layer, expert) sits in which device slot. Pure
// C++ (no CUDA), so it is tested on any machine; the CUDA executor owns the bytes. The slots
// are split equally over the layers (allocate_slots_equal) and each layer's residents follow
// an LRU LayerCache (core/store/cache_policy.h, the policy the RAM tier uses), so a VRAM hit
// rate can be replayed offline like a RAM one. Experts of the call in flight are `busy` and
// never evicted: their slots may still be read by queued kernels.
#include <cstdint>
#include <memory>
#include <vector>

#include "core/store/cache_policy.h"

namespace moe::cuda {

class VramExpertCache {
 public:
  /// `total_slots` >= n_layer (one slot per layer at least; the plan checks that first).
  VramExpertCache(int n_layer, int n_expert, int total_slots);

  struct Place {
    int slot = -1;     ///< global slot index; -1: no slot free (every resident is busy)
    bool hit = false;  ///< already resident (no upload needed)
    int evicted = -1;  ///< expert of this layer whose slot was taken, -1 when none
  };
  /// A demand use of (layer, expert): its slot, or a slot to upload it into (the policy's
  /// victim among non-busy residents, or a free one). Marks the expert busy.
  Place use(int layer, int expert);
  /// A speculative admission (prefetch): a slot when one is free or evictable, else -1; the
  /// expert sits at the LRU end until its first use. Not marked busy.
  Place prefetch(int layer, int expert);
  /// The call's kernels are done: nothing is busy any more.
  void clear_busy();
  bool resident(int layer, int expert) const;
  int slots_of_layer(int layer) const;
  int total_slots() const { return total_slots_; }

 private:
  Place place(int layer, int expert, bool speculative);

  int n_expert_, total_slots_;
  std::vector<std::unique_ptr<LayerCache>> caches_;  // [layer]
  std::vector<int> slot_of_;                         // [layer * n_expert + expert], -1
  std::vector<std::vector<int>> free_;               // [layer] free global slots
  std::vector<uint8_t> busy_;                        // [layer * n_expert + expert]
  std::vector<int> busy_list_;
};

}  // namespace moe::cuda
