#include "core/store/cache_policy.h"

#include <algorithm>
#include <cstdint>
#include <list>
#include <set>
#include <string>
#include <unordered_map>

namespace moe {

const char* cache_policy_name(CachePolicyKind k) {
  switch (k) {
    case CachePolicyKind::kLru:
      return "lru";
    case CachePolicyKind::kLfu:
      return "lfu";
    case CachePolicyKind::kPinned:
      return "pinned";
    case CachePolicyKind::kHybrid:
      return "hybrid";
    case CachePolicyKind::kNone:
      return "none";
    case CachePolicyKind::kAuto:
      return "auto";
  }
  return "?";
}

Result<CachePolicyKind> parse_cache_policy(std::string_view s) {
  for (auto k : {CachePolicyKind::kLru, CachePolicyKind::kLfu, CachePolicyKind::kPinned,
                 CachePolicyKind::kHybrid, CachePolicyKind::kNone, CachePolicyKind::kAuto}) {
    if (s == cache_policy_name(k)) return k;
  }
  return Error{"unknown cache policy '" + std::string(s) +
               "' (auto, lru, lfu, pinned, hybrid or none)"};
}

std::vector<int> rank_by_profile(int n_expert, std::span<const uint64_t> profile) {
  std::vector<int> order(static_cast<size_t>(std::max(n_expert, 0)));
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
  auto count = [&](int e) {
    return static_cast<size_t>(e) < profile.size() ? profile[static_cast<size_t>(e)] : 0;
  };
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return count(a) > count(b); });
  return order;
}

namespace {

/// Recency order: front = most recently used. Shared by LRU and hybrid.
class RecencyList {
 public:
  bool contains(int e) const { return pos_.count(e) != 0; }
  int size() const { return static_cast<int>(order_.size()); }
  std::vector<int> items() const { return {order_.begin(), order_.end()}; }
  void touch(int e) {
    auto it = pos_.find(e);
    if (it != pos_.end()) order_.splice(order_.begin(), order_, it->second);
  }
  void insert(int e, bool at_mru) {
    order_.insert(at_mru ? order_.begin() : order_.end(), e);
    pos_[e] = at_mru ? order_.begin() : std::prev(order_.end());
  }
  void erase(int e) {
    auto it = pos_.find(e);
    if (it == pos_.end()) return;
    order_.erase(it->second);
    pos_.erase(it);
  }
  /// The least recently used resident that `ok` accepts; -1 when none.
  template <class Pred>
  int lru_where(Pred ok) const {
    for (auto it = order_.rbegin(); it != order_.rend(); ++it) {
      if (ok(*it)) return *it;
    }
    return -1;
  }

 private:
  std::list<int> order_;
  std::unordered_map<int, std::list<int>::iterator> pos_;
};

bool can_evict(const Evictable& evictable, int e) {
  return !evictable || evictable(e);
}

class LruCache final : public LayerCache {
 public:
  LruCache(int slots, SpeculativeInsert spec) : LayerCache(slots), spec_(spec) {}
  CachePolicyKind kind() const override { return CachePolicyKind::kLru; }
  bool resident(int e) const override { return list_.contains(e); }
  int n_resident() const override { return list_.size(); }
  std::vector<int> residents() const override { return list_.items(); }
  void on_access(int e) override { list_.touch(e); }
  int admit(int e, const Evictable& evictable, bool speculative) override {
    if (slots() == 0 || resident(e)) return kNotAdmitted;
    int evicted = kAdmittedFree;
    if (n_resident() >= slots()) {
      evicted = evict_one(evictable);
      if (evicted < 0) return kNotAdmitted;
    }
    list_.insert(e, !speculative || spec_ == SpeculativeInsert::kMruEnd);
    return evicted;
  }
  int evict_one(const Evictable& evictable) override {
    const int e = list_.lru_where([&](int x) { return can_evict(evictable, x); });
    if (e >= 0) list_.erase(e);
    return e;
  }

 private:
  RecencyList list_;
  SpeculativeInsert spec_;
};

/// count(e) = profile prior + demand uses seen; victim = lowest count, then oldest use.
class LfuCache final : public LayerCache {
 public:
  LfuCache(int n_expert, int slots, std::span<const uint64_t> profile) : LayerCache(slots) {
    grow(n_expert - 1);
    for (size_t i = 0; i < profile.size() && i < count_.size(); ++i) count_[i] = profile[i];
  }
  CachePolicyKind kind() const override { return CachePolicyKind::kLfu; }
  bool resident(int e) const override { return valid(e) && resident_[idx(e)]; }
  int n_resident() const override { return n_resident_; }
  std::vector<int> residents() const override {
    std::vector<int> r;
    for (size_t i = 0; i < resident_.size(); ++i) {
      if (resident_[i]) r.push_back(static_cast<int>(i));
    }
    return r;
  }
  void on_access(int e) override {
    if (e < 0) return;
    grow(e);
    ++count_[idx(e)];
    last_[idx(e)] = ++tick_;
  }
  int admit(int e, const Evictable& evictable, bool speculative) override {
    if (e < 0 || slots() == 0 || resident(e)) return kNotAdmitted;
    grow(e);
    int evicted = kAdmittedFree;
    if (n_resident_ >= slots()) {
      const int victim = choose(evictable);
      if (victim < 0) return kNotAdmitted;
      if (speculative && count_[idx(victim)] >= count_[idx(e)]) return kNotAdmitted;
      remove(victim);
      evicted = victim;
    }
    resident_[idx(e)] = true;
    ++n_resident_;
    if (speculative) last_[idx(e)] = ++tick_;  // recency for ties only; not a use
    return evicted;
  }
  int evict_one(const Evictable& evictable) override {
    const int e = choose(evictable);
    if (e >= 0) remove(e);
    return e;
  }

 private:
  static size_t idx(int e) { return static_cast<size_t>(e); }
  bool valid(int e) const { return e >= 0 && idx(e) < resident_.size(); }
  void grow(int e) {
    if (e < 0 || idx(e) < resident_.size()) return;
    resident_.resize(idx(e) + 1, false);
    count_.resize(idx(e) + 1, 0);
    last_.resize(idx(e) + 1, 0);
  }
  int choose(const Evictable& evictable) const {
    int best = -1;
    for (size_t i = 0; i < resident_.size(); ++i) {
      const int e = static_cast<int>(i);
      if (!resident_[i] || !can_evict(evictable, e)) continue;
      if (best < 0 || count_[i] < count_[idx(best)] ||
          (count_[i] == count_[idx(best)] && last_[i] < last_[idx(best)])) {
        best = e;
      }
    }
    return best;
  }
  void remove(int e) {
    resident_[idx(e)] = false;
    --n_resident_;
  }

  std::vector<bool> resident_;
  std::vector<uint64_t> count_, last_;
  uint64_t tick_ = 0;
  int n_resident_ = 0;
};

/// Ranks from the profile; rank_of(e) < n_pinned() means pinned. Shared by pinned and hybrid.
class PinRanking {
 public:
  PinRanking(int n_expert, std::span<const uint64_t> profile)
      : order_(rank_by_profile(n_expert, profile)), rank_(order_.size()) {
    for (size_t r = 0; r < order_.size(); ++r) rank_[static_cast<size_t>(order_[r])] = r;
  }
  /// Experts outside [0, n_expert) rank last.
  size_t rank_of(int e) const {
    return e >= 0 && static_cast<size_t>(e) < rank_.size() ? rank_[static_cast<size_t>(e)]
                                                           : SIZE_MAX;
  }
  std::vector<int> top(int n) const {
    const size_t m = std::min(order_.size(), static_cast<size_t>(std::max(n, 0)));
    return {order_.begin(), order_.begin() + static_cast<std::ptrdiff_t>(m)};
  }

 private:
  std::vector<int> order_;
  std::vector<size_t> rank_;
};

class PinnedCache final : public LayerCache {
 public:
  PinnedCache(int n_expert, int slots, std::span<const uint64_t> profile)
      : LayerCache(slots), ranks_(n_expert, profile) {}
  CachePolicyKind kind() const override { return CachePolicyKind::kPinned; }
  bool resident(int e) const override { return resident_.count(e) != 0; }
  int n_resident() const override { return static_cast<int>(resident_.size()); }
  std::vector<int> residents() const override { return {resident_.begin(), resident_.end()}; }
  void on_access(int) override {}
  int admit(int e, const Evictable& evictable, bool) override {
    if (resident(e) || !is_pinned(e)) return kNotAdmitted;
    int evicted = kAdmittedFree;
    if (n_resident() >= slots()) {  // only after a shrink: residents that lost their pin
      evicted = evict_one(evictable);
      if (evicted < 0) return kNotAdmitted;
    }
    resident_.insert(e);
    return evicted;
  }
  /// The worst-ranked evictable resident (one no longer pinned, if any).
  int evict_one(const Evictable& evictable) override {
    int worst = -1;
    for (const int e : resident_) {
      if (can_evict(evictable, e) && (worst < 0 || ranks_.rank_of(e) > ranks_.rank_of(worst))) {
        worst = e;
      }
    }
    if (worst >= 0) resident_.erase(worst);
    return worst;
  }
  std::vector<int> pinned() const override { return ranks_.top(slots()); }

 private:
  bool is_pinned(int e) const { return ranks_.rank_of(e) < static_cast<size_t>(slots()); }
  PinRanking ranks_;
  std::set<int> resident_;
};

class HybridCache final : public LayerCache {
 public:
  HybridCache(int n_expert, int slots, std::span<const uint64_t> profile, int pinned_slots,
              SpeculativeInsert spec)
      : LayerCache(slots),
        ranks_(n_expert, profile),
        pinned_slots_(std::max(pinned_slots, 0)),
        spec_(spec) {}
  CachePolicyKind kind() const override { return CachePolicyKind::kHybrid; }
  bool resident(int e) const override { return list_.contains(e); }
  int n_resident() const override { return list_.size(); }
  std::vector<int> residents() const override { return list_.items(); }
  void on_access(int e) override { list_.touch(e); }
  int admit(int e, const Evictable& evictable, bool speculative) override {
    if (slots() == 0 || resident(e)) return kNotAdmitted;
    const bool pin = is_pinned(e);
    int evicted = kAdmittedFree;
    if (n_resident() >= slots()) {
      // An unpinned newcomer may only displace an unpinned resident (the core is fixed).
      evicted = pin ? evict_one(evictable) : evict_unpinned(evictable);
      if (evicted < 0) return kNotAdmitted;
    }
    list_.insert(e, pin || !speculative || spec_ == SpeculativeInsert::kMruEnd);
    return evicted;
  }
  /// The LRU unpinned evictable resident; failing that (after a shrink), the worst-ranked one.
  int evict_one(const Evictable& evictable) override {
    int e = evict_unpinned(evictable);
    if (e >= 0) return e;
    for (const int x : list_.items()) {
      if (can_evict(evictable, x) && (e < 0 || ranks_.rank_of(x) > ranks_.rank_of(e))) e = x;
    }
    if (e >= 0) list_.erase(e);
    return e;
  }
  std::vector<int> pinned() const override { return ranks_.top(n_pinned()); }

 private:
  int n_pinned() const { return std::min(pinned_slots_, slots()); }
  bool is_pinned(int e) const { return ranks_.rank_of(e) < static_cast<size_t>(n_pinned()); }
  int evict_unpinned(const Evictable& evictable) {
    const int e = list_.lru_where([&](int x) { return !is_pinned(x) && can_evict(evictable, x); });
    if (e >= 0) list_.erase(e);
    return e;
  }

  PinRanking ranks_;
  RecencyList list_;
  int pinned_slots_;
  SpeculativeInsert spec_;
};

// No cache: nothing is ever resident, every demand use is a miss the store serves from a
// staging buffer (kNotAdmitted), and a speculative admission is declined (no prefetch).
class NoCache final : public LayerCache {
 public:
  NoCache() : LayerCache(0) {}
  CachePolicyKind kind() const override { return CachePolicyKind::kNone; }
  bool resident(int) const override { return false; }
  int n_resident() const override { return 0; }
  std::vector<int> residents() const override { return {}; }
  void on_access(int) override {}
  int admit(int, const Evictable&, bool) override { return kNotAdmitted; }
  int evict_one(const Evictable&) override { return -1; }
};

}  // namespace

std::unique_ptr<LayerCache> make_layer_cache(const LayerCacheOptions& o) {
  switch (o.kind) {
    case CachePolicyKind::kLru:
      return std::make_unique<LruCache>(o.slots, o.speculative);
    case CachePolicyKind::kLfu:
      return std::make_unique<LfuCache>(o.n_expert, o.slots, o.profile);
    case CachePolicyKind::kPinned:
      return std::make_unique<PinnedCache>(o.n_expert, o.slots, o.profile);
    case CachePolicyKind::kHybrid:
      return std::make_unique<HybridCache>(o.n_expert, o.slots, o.profile, o.pinned_slots,
                                           o.speculative);
    case CachePolicyKind::kNone:
      return std::make_unique<NoCache>();
    case CachePolicyKind::kAuto:  // resolved before a cache is made; alone it means LRU
      break;
  }
  return std::make_unique<LruCache>(o.slots, o.speculative);
}

std::unique_ptr<LayerCache> make_layer_cache(CachePolicyKind kind, int n_expert, int slots,
                                             std::span<const uint64_t> profile, int pinned_slots) {
  LayerCacheOptions o;
  o.kind = kind;
  o.n_expert = n_expert;
  o.slots = slots;
  o.profile = profile;
  o.pinned_slots = pinned_slots;
  return make_layer_cache(o);
}

}  // namespace moe
