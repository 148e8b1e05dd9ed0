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
};
const char* cache_policy_name(CachePolicyKind k);
/// "lru" | "lfu" | "pinned" | "hybrid"; anything else is an error listing them.
Result<CachePolicyKind> parse_cache_policy(std::string_view s);

}  // namespace moe
