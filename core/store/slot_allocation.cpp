#include "core/store/slot_allocation.h"

#include <algorithm>
#include <functional>
#include <queue>

namespace moe {

std::vector<int> allocate_slots_equal(int total, int n_layer, int n_expert) {
  std::vector<int> slots(static_cast<size_t>(std::max(n_layer, 0)), 0);
  if (n_layer <= 0 || total <= 0) return slots;
  for (int l = 0; l < n_layer; ++l) {
    const int s = total / n_layer + (l < total % n_layer ? 1 : 0);
    slots[static_cast<size_t>(l)] = std::min(s, n_expert);
  }
  return slots;
}

std::vector<int> allocate_slots_adaptive(int total, const HitCurves& curves, int min_slots) {
  const int n_layer = static_cast<int>(curves.size());
  std::vector<int> slots(curves.size(), 0);
  if (n_layer == 0 || total <= 0) return slots;
  auto max_of = [&](size_t l) { return static_cast<int>(curves[l].size()) - 1; };
  if (total < n_layer * min_slots) {
    for (size_t l = 0; l < curves.size(); ++l) {
      slots[l] = std::min(total / n_layer + (static_cast<int>(l) < total % n_layer ? 1 : 0),
                          std::max(max_of(l), 0));
    }
    return slots;
  }
  int left = total;
  for (size_t l = 0; l < curves.size(); ++l) {
    slots[l] = std::clamp(min_slots, 0, std::max(max_of(l), 0));
    left -= slots[l];
  }
  // (gain, -layer): the largest gain first, the lower layer on ties.
  using Item = std::pair<double, int>;
  std::priority_queue<Item> heap;
  auto push = [&](size_t l) {
    const int s = slots[l];
    if (s < max_of(l)) {
      heap.push({curves[l][static_cast<size_t>(s) + 1] - curves[l][static_cast<size_t>(s)],
                 -static_cast<int>(l)});
    }
  };
  for (size_t l = 0; l < curves.size(); ++l) push(l);
  while (left > 0 && !heap.empty()) {
    const auto l = static_cast<size_t>(-heap.top().second);
    heap.pop();
    ++slots[l];
    --left;
    push(l);
  }
  return slots;
}

HitCurves profile_hit_curves(const RoutingProfile& p) {
  HitCurves curves;
  for (const auto& counts : p.counts) {
    std::vector<uint64_t> sorted(counts.begin(), counts.end());
    std::sort(sorted.begin(), sorted.end(), std::greater<>());
    std::vector<double> c(1, 0.0);
    for (const uint64_t n : sorted) c.push_back(c.back() + static_cast<double>(n));
    curves.push_back(std::move(c));
  }
  return curves;
}

HitCurves lru_hit_curves(const RoutingTrace& t) {
  HitCurves curves;
  for (const auto& layer : t.layers) {
    // Mattson: an access at stack depth d (0 = MRU) hits in every LRU cache of more than d slots.
    std::vector<int16_t> stack;
    std::vector<double> at_depth(static_cast<size_t>(t.n_expert) + 1, 0.0);
    for (const int16_t e : layer.flat()) {
      const auto it = std::find(stack.begin(), stack.end(), e);
      if (it != stack.end()) {
        at_depth[static_cast<size_t>(it - stack.begin())] += 1;
        stack.erase(it);
      }
      stack.insert(stack.begin(), e);
    }
    std::vector<double> c(static_cast<size_t>(t.n_expert) + 1, 0.0);
    for (size_t s = 1; s < c.size(); ++s) c[s] = c[s - 1] + at_depth[s - 1];
    curves.push_back(std::move(c));
  }
  return curves;
}

}  // namespace moe
