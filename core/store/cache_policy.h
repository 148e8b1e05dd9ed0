#pragma once
// Expert cache replacement policies (design §3.1, [P1] §3.3): which experts of one MoE layer
// stay in the fast tier. A LayerCache holds expert ids only; the tiered store owns the bytes and
// calls it under its own lock (not thread-safe by itself). The same classes drive the offline
// replay (`moe-cli cache-sim`), so a simulated hit rate is the store's hit rate on that trace.
//
// Protocol for one demand access of `e`:
//   on_access(e);                        // recency / frequency bookkeeping, hit or miss
//   if (!resident(e)) admit(e, evictable, /*speculative=*/false);
// A prefetch admits with speculative = true and no on_access (it is not a use).
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "core/util/status.h"

namespace moe {

enum class CachePolicyKind : uint8_t {
  kLru,     ///< least recently used (the paper's)
  kLfu,     ///< least frequently used (profile counts + counts seen so far)
  kPinned,  ///< the profile's hottest experts, fixed; misses are not admitted
  kHybrid,  ///< a pinned core from the profile + LRU slots for the rest
};
const char* cache_policy_name(CachePolicyKind k);
/// "lru" | "lfu" | "pinned" | "hybrid"; anything else is an error listing them.
Result<CachePolicyKind> parse_cache_policy(std::string_view s);

/// admit() results besides an evicted expert id.
constexpr int kAdmittedFree = -1;  ///< inserted into a free slot
constexpr int kNotAdmitted = -2;   ///< declined (no slot, nothing evictable, or pinned policy)

/// May resident expert `e` leave now? (false while an executor holds it)
using Evictable = std::function<bool(int expert)>;

class LayerCache {
 public:
  virtual ~LayerCache() = default;
  virtual CachePolicyKind kind() const = 0;
  int slots() const { return slots_; }
  virtual bool resident(int expert) const = 0;
  virtual int n_resident() const = 0;
  virtual std::vector<int> residents() const = 0;
  /// A demand use of `expert`, resident or not (before admit() on a miss).
  virtual void on_access(int expert) = 0;
  /// Inserts a non-resident `expert`, evicting one evictable resident when full. Returns the
  /// evicted expert, kAdmittedFree, or kNotAdmitted.
  virtual int admit(int expert, const Evictable& evictable, bool speculative) = 0;
  /// Changes the slot count (a live budget change). Shrinking does not evict by itself: the
  /// store calls evict_one() while n_resident() > slots().
  void set_slots(int slots) { slots_ = slots < 0 ? 0 : slots; }
  /// Removes the policy's choice among evictable residents; -1 when none can leave.
  virtual int evict_one(const Evictable& evictable) = 0;

 protected:
  explicit LayerCache(int slots) { set_slots(slots); }

 private:
  int slots_ = 0;
};

/// A policy for one layer of `n_expert` experts with `slots` slots. `profile` (may be empty):
/// routing counts per expert of this layer from a recorded profile, used by LFU (as prior
/// counts), pinned and hybrid (which experts to pin). `pinned_slots`: how many of the slots
/// the hybrid policy pins (ignored by the others; clamped to slots).
std::unique_ptr<LayerCache> make_layer_cache(CachePolicyKind kind, int n_expert, int slots,
                                             std::span<const uint64_t> profile = {},
                                             int pinned_slots = 0);

}  // namespace moe
