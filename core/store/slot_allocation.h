#pragma once
// How many cache slots each MoE layer gets from a total (the RAM budget divided by the bytes of
// one expert). Equal: total / n_layer each. Adaptive: greedy by marginal gain on per-layer hit
// curves, so slots go where they save the most misses — layers whose routing is flatter (higher
// entropy) need more slots for the same hit rate, and a near-constant layer needs few. The
// curves come from a profile (hits of the s hottest experts kept resident) or from a trace
// (LRU hits at every slot count, from one pass of Mattson's stack-distance algorithm).
#include <vector>

#include "core/store/routing_profile.h"
#include "core/store/routing_trace.h"

namespace moe {

/// curves[l][s] = hits of layer l with s slots, s = 0 .. n_expert (non-decreasing).
using HitCurves = std::vector<std::vector<double>>;

/// total / n_layer slots per layer, the remainder to the first layers, each at most n_expert.
std::vector<int> allocate_slots_equal(int total, int n_layer, int n_expert);

/// Starts every layer at min(min_slots, its max) and hands out the rest one slot at a time to
/// the layer whose next slot gains the most hits (ties -> lower layer). Never more slots than a
/// layer's curve allows; the sum is min(total, sum of maxima) (when total < n_layer * min_slots
/// the split is equal instead).
std::vector<int> allocate_slots_adaptive(int total, const HitCurves& curves, int min_slots);

/// Static curves: curves[l][s] = sum of the s largest counts of layer l.
HitCurves profile_hit_curves(const RoutingProfile& p);
/// LRU curves of a trace (demand accesses only): curves[l][s] = hits of an LRU cache of s slots.
HitCurves lru_hit_curves(const RoutingTrace& t);

}  // namespace moe
