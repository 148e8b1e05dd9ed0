#pragma once
// Expert cache replacement policies (design §3.1, [P1] §3.3): which experts of one MoE layer
// stay in the fast tier. A LayerCache holds expert ids only; the tiered store owns the bytes and
// calls it under its own lock (not thread-safe by itself). The same classes drive the offline
// replay (`moe-cli cache-sim`), so a simulated hit rate is the store's hit rate on that trace.
//
// Protocol for one demand access of `e`:
//   on_access(e);                        // recency / frequency bookkeeping, hit or miss
//   if (!resident(e)) admit(e, evictable, /*speculative=*/false);
// A prefetch admits with speculative = true and no on_access (it is not a use). While a read is
// in flight the store reports the expert as not evictable, so a second prefetch cannot evict the
// first (the replay does the same for the experts of the token being routed).
//
// What each policy does (docs/offloading.md has the measurements behind the choices):
//   LRU     demand: most-recently-used end; speculative: the LRU end, so a wrong guess is the
//           next victim and a right one moves to the MRU end at its first on_access().
//   LFU     count = profile prior + demand uses seen (speculative admissions add nothing); the
//           victim has the lowest count, ties -> least recently used. Demand misses are always
//           admitted; a speculative one only when a slot is free or the victim's count is
//           lower than the candidate's (a guess never displaces a hotter expert).
//   pinned  the profile's slots() hottest experts (ties -> lower id; no profile -> ids 0..),
//           admitted on first use, by a speculative admission, or up front by the store from
//           pinned() (the warm list); never evicted while they rank within slots(); any other
//           expert is declined (kNotAdmitted), demand or speculative.
//   hybrid  the min(pinned_slots, slots()) hottest experts are pinned as above; every other
//           expert shares the remaining slots under LRU (speculative at the LRU end). A pinned
//           expert admitted when all slots are taken evicts the LRU unpinned resident.
// Pinned sets follow slots(): after set_slots() the pinned set is the top slots() (hybrid:
// min(pinned_slots, slots())), and evict_one() prefers residents that are no longer pinned.
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "core/store/cache_policy_kind.h"
#include "core/util/status.h"

namespace moe {

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
  /// The experts this policy keeps fixed, hottest first (pinned and hybrid; empty for the
  /// others): the warm list a store may admit up front (admit(e, …, /*speculative=*/true)).
  virtual std::vector<int> pinned() const { return {}; }

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

/// Where LRU (and hybrid's LRU part) puts a speculative admission. kLruEnd is the default (a
/// wrong guess is evicted first); kMruEnd exists to measure the choice (cache-sim).
enum class SpeculativeInsert : uint8_t { kLruEnd, kMruEnd };

/// make_layer_cache() with every knob.
struct LayerCacheOptions {
  CachePolicyKind kind = CachePolicyKind::kLru;
  int n_expert = 0;
  int slots = 0;
  std::span<const uint64_t> profile;  ///< [n_expert] counts of this layer, may be empty
  int pinned_slots = 0;
  SpeculativeInsert speculative = SpeculativeInsert::kLruEnd;
};
std::unique_ptr<LayerCache> make_layer_cache(const LayerCacheOptions& o);

/// Experts of a layer ranked hottest first by profile count (ties -> lower id); with an empty
/// profile, 0 .. n_expert-1.
std::vector<int> rank_by_profile(int n_expert, std::span<const uint64_t> profile);

}  // namespace moe
