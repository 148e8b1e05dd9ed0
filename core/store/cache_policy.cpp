#include "core/store/cache_policy.h"

#include <algorithm>
#include <list>
#include <string>
#include <unordered_map>

namespace moe {

const char* cache_policy_name(CachePolicyKind k) {
  switch (k) {
    case CachePolicyKind::kLru: return "lru";
    case CachePolicyKind::kLfu: return "lfu";
    case CachePolicyKind::kPinned: return "pinned";
    case CachePolicyKind::kHybrid: return "hybrid";
  }
  return "?";
}

Result<CachePolicyKind> parse_cache_policy(std::string_view s) {
  for (auto k : {CachePolicyKind::kLru, CachePolicyKind::kLfu, CachePolicyKind::kPinned,
                 CachePolicyKind::kHybrid}) {
    if (s == cache_policy_name(k)) return k;
  }
  return Error{"unknown cache policy '" + std::string(s) + "' (lru, lfu, pinned or hybrid)"};
}

namespace {

/// Recency order: front = most recently used.
class LruCache final : public LayerCache {
 public:
  explicit LruCache(int slots) : LayerCache(slots) {}
  CachePolicyKind kind() const override { return CachePolicyKind::kLru; }
  bool resident(int e) const override { return pos_.count(e) != 0; }
  int n_resident() const override { return static_cast<int>(order_.size()); }
  std::vector<int> residents() const override { return {order_.begin(), order_.end()}; }
  void on_access(int e) override {
    auto it = pos_.find(e);
    if (it != pos_.end()) order_.splice(order_.begin(), order_, it->second);
  }
  int admit(int e, const Evictable& evictable, bool /*speculative*/) override {
    if (slots() == 0 || resident(e)) return kNotAdmitted;
    int evicted = kAdmittedFree;
    if (n_resident() >= slots()) {
      evicted = evict_one(evictable);
      if (evicted < 0) return kNotAdmitted;
    }
    order_.push_front(e);
    pos_[e] = order_.begin();
    return evicted;
  }
  int evict_one(const Evictable& evictable) override {
    for (auto it = order_.rbegin(); it != order_.rend(); ++it) {
      const int e = *it;
      if (evictable && !evictable(e)) continue;
      order_.erase(std::next(it).base());
      pos_.erase(e);
      return e;
    }
    return -1;
  }

 private:
  std::list<int> order_;
  std::unordered_map<int, std::list<int>::iterator> pos_;
};

}  // namespace

std::unique_ptr<LayerCache> make_layer_cache(CachePolicyKind kind, int n_expert, int slots,
                                             std::span<const uint64_t> profile,
                                             int pinned_slots) {
  (void)n_expert;
  (void)profile;
  (void)pinned_slots;
  switch (kind) {
    case CachePolicyKind::kLru: return std::make_unique<LruCache>(slots);
    default: break;  // LFU, pinned, hybrid: the cache-policy work fills these in
  }
  return std::make_unique<LruCache>(slots);
}

}  // namespace moe
