#pragma once
// The cache policy names alone (cache_policy.h has the policies): front ends built with Qt
// include this one, since LayerCache::slots() clashes with Qt's `slots` macro.
#include <cstdint>
#include <string_view>

#include "core/util/status.h"

namespace moe {

enum class CachePolicyKind : uint8_t {
  kLru,     ///< least recently used (the paper's)
  kLfu,     ///< least frequently used (profile counts + counts seen so far)
  kPinned,  ///< the profile's hottest experts, fixed; misses are not admitted
  kHybrid,  ///< a pinned core from the profile + LRU slots for the rest
  /// No cache: every use reads the expert from disk into a staging buffer freed at release
  /// (the baseline an expert cache is measured against; every access is a miss).
  kNone,
  /// The planner's choice (plan_cache_policy(), cache_replay.h) on the routing profile's
  /// recorded trace, per layer; LRU without such a profile. Resolved by the tiered store at
  /// start: no LayerCache is ever of this kind.
  kAuto,
};
const char* cache_policy_name(CachePolicyKind k);
/// "lru" | "lfu" | "pinned" | "hybrid" | "none" | "auto"; anything else is an error listing
/// them.
Result<CachePolicyKind> parse_cache_policy(std::string_view s);

}  // namespace moe
