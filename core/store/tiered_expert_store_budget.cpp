// The tiered store's control and read side: live budget changes, statistics snapshot, load
// latency predictions, backend line, CacheEvents (the load/evict machinery is in
// tiered_expert_store.cpp).
#include <algorithm>

#include "core/store/ram_budget.h"
#include "core/store/tiered_expert_store.h"

namespace moe {

// ---- budget ----

Status TieredExpertStore::set_ram_budget(uint64_t bytes) {
  std::unique_lock<std::mutex> lock(mu_);
  if (bytes < min_budget_) {
    return make_error("RAM budget ", format_bytes(bytes), " is below the minimum of ",
                      format_bytes(min_budget_), " (", std::to_string(min_budget_),
                      " bytes: one expert slot per layer)");
  }
  budget_ = bytes;
  // Evict what may leave now; prefetches still loading into a slot the layer no longer has
  // are waited for and then evicted. Loads a demand waits for count as in use.
  const std::vector<int> split = slot_split();
  for (;;) {
    bool wait = false;
    for (size_t il = 0; il < layers_.size(); ++il) {
      Layer& L = layers_[il];
      L.cache->set_slots(split[il]);
      guard_.set_slots(static_cast<int>(il), split[il]);
      drop_over_capacity_locked(static_cast<int>(il));
      if (L.cache->n_resident() <= L.cache->slots()) continue;
      for (const Entry& en : L.entries) {
        if (en.state == State::kLoading && !en.demand && en.refs == 0 && !en.transient) wait = true;
      }
    }
    if (!wait) break;
    done_cv_.wait(lock);
  }
  return {};
}

void TieredExpertStore::wait_for_loads() {
  std::unique_lock<std::mutex> lock(mu_);
  done_cv_.wait(lock, [this] {
    for (const Layer& L : layers_) {
      for (const Entry& en : L.entries) {
        if (en.state == State::kLoading) return false;
      }
    }
    return true;
  });
}

uint64_t TieredExpertStore::warm_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t bytes = 0;
  for (const Layer& L : layers_) bytes += static_cast<uint64_t>(L.cache->slots()) * L.slot_bytes;
  return bytes;
}

Status TieredExpertStore::warm(const WarmProgress& progress) {
  uint64_t done = 0;
  Status result;
  for (size_t il = 0; il < layers_.size() && result.ok(); ++il) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      warming_ = true;
      Layer& L = layers_[il];
      // Hottest first: the experts pinned/hybrid keep, and LFU's prior, come in before the rest.
      for (const int e :
           rank_by_profile(n_expert_, options_.profile.layer(static_cast<int>(il)))) {
        if (L.cache->n_resident() >= L.cache->slots()) break;
        if (L.entries[static_cast<size_t>(e)].state != State::kAbsent) continue;
        if (!start_load_locked(static_cast<int>(il), e, false)) break;
      }
      done += static_cast<uint64_t>(L.cache->n_resident()) * L.slot_bytes;
    }
    wait_for_loads();
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!warm_error_.empty()) result = Error{warm_error_};
    }
    if (result.ok() && progress && !progress(done)) result = cancelled();
  }
  std::lock_guard<std::mutex> lock(mu_);
  warming_ = false;
  // The oracle starts from what the warm-up left, as the policy does (else it would pay
  // compulsory misses the store never had, and could fall below the policy).
  warm_residents_.clear();
  for (const Layer& L : layers_) warm_residents_.push_back(L.cache->residents());
  return result;
}

uint64_t TieredExpertStore::ram_budget() const {
  std::lock_guard<std::mutex> lock(mu_);
  return budget_;
}

uint64_t TieredExpertStore::held_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return held_;
}

double TieredStoreStats::hit_rate() const {
  const uint64_t n = total.hits + total.misses;
  return n ? static_cast<double>(total.hits) / static_cast<double>(n) : 0.0;
}

double TieredStoreStats::prefetch_accuracy() const {
  return total.prefetch_issued
             ? static_cast<double>(total.prefetch_used) / static_cast<double>(total.prefetch_issued)
             : 0.0;
}

std::vector<int> TieredExpertStore::residents(int layer) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (layer < 0 || layer >= static_cast<int>(layers_.size())) return {};
  return layers_[static_cast<size_t>(layer)].cache->residents();
}

TieredStoreStats TieredExpertStore::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  TieredStoreStats s;
  s.budget_bytes = budget_;
  s.held_bytes = held_;
  s.peak_held_bytes = peak_held_;
  s.all_experts_bytes = all_bytes_;
  s.min_budget_bytes = min_budget_;
  s.n_layer = static_cast<int>(layers_.size());
  s.n_expert = n_expert_;
  s.experts = stats_;
  s.policy = policy_.label;
  s.policy_reason = policy_.reason;
  s.prefetch_depth = options_.prefetch ? depth_.depth() : 0;
  s.prefetch_depth_max = options_.prefetch ? depth_.max_depth() : 0;
  s.prefetch_depth_changes = depth_.changes();
  for (const Layer& L : layers_) {
    s.layer_slots.push_back(L.cache->slots());
    s.n_resident.push_back(L.cache->n_resident());
    const std::vector<int> pinned = L.cache->pinned();
    for (const Entry& en : L.entries) {
      ExpertResidency r = ExpertResidency::kDisk;
      if (en.state == State::kLoading) r = ExpertResidency::kLoading;
      if (en.state == State::kResident && !en.transient) r = ExpertResidency::kRam;
      const int x = static_cast<int>(&en - L.entries.data());
      if (r == ExpertResidency::kRam &&
          std::find(pinned.begin(), pinned.end(), x) != pinned.end()) {
        r = ExpertResidency::kPinned;
      }
      s.residency.push_back(r);
      if (en.refs > 0 && en.buf != nullptr) s.in_use_bytes += L.slot_bytes;
      if (en.speculative) ++s.prefetch_pending;
    }
  }
  for (const ExpertStats& e : stats_) {
    s.total.hits += e.hits;
    s.total.misses += e.misses;
    s.total.prefetch_issued += e.prefetch_issued;
    s.total.prefetch_used += e.prefetch_used;
    s.total.prefetch_wasted += e.prefetch_wasted;
    s.total.bytes_read += e.bytes_read;
  }
  s.transient_loads = transient_loads_;
  s.evictions = evictions_;
  s.load_latency_us_log2 = latency_hist_;
  s.load_seconds = load_seconds_;
  s.loads = loads_;
  return s;
}

HitStats TieredExpertStore::oracle_hits() const {
  std::vector<LayerRoute> routes;
  std::vector<int> slots;
  std::vector<std::vector<int>> initial;
  {
    std::lock_guard<std::mutex> lock(mu_);
    routes = accesses_;
    initial = warm_residents_;
    for (const Layer& L : layers_) slots.push_back(L.cache->slots());
  }
  initial.resize(routes.size());
  HitStats total;
  for (size_t l = 0; l < routes.size(); ++l) {
    total.add(belady_hits(routes[l], slots[l], initial[l]));
  }
  return total;
}

// ---- load latency (design §3.1, load_latency.h) ----

void TieredExpertStore::set_load_latency(const LoadLatencyModel& m) {
  std::lock_guard<std::mutex> lock(mu_);
  latency_ = m;
  drift_ = {};  // a new calibration starts without drift
}

LoadLatencyModel TieredExpertStore::load_latency(std::string* source) const {
  std::lock_guard<std::mutex> lock(mu_);
  return load_latency_locked(source);
}

namespace {

// The calibration at read size w (it was taken at this read size; keep w exact).
LoadLatencyModel calibrated_at(const LoadLatencyModel& cal, uint64_t w) {
  LoadLatencyModel m = cal;
  m.read_bytes = w;
  if (cal.read_bytes > 0 && cal.read_bytes != w) {
    m.read_s = cal.read_s * static_cast<double>(w) / static_cast<double>(cal.read_bytes);
  }
  return m;
}

}  // namespace

// The prediction of a step never reads that step's own loads: they finish after it was made.
void TieredExpertStore::note_read_time_locked(int sharing, double seconds) {
  if (!latency_.valid() || layers_.empty()) return;
  drift_.note(calibrated_at(latency_, layers_[0].slot_bytes), sharing, n_io_, seconds);
}

// Calibrated (times the recent drift), else the mean latency of the loads so far (warm-up
// included: it is the first measurement of this disk in this run), else a 1 GB/s prior. A mean per-load latency already
// holds the sharing of the disk between concurrent loads, so no parallel rate is assumed then.
LoadLatencyModel TieredExpertStore::load_latency_locked(std::string* source) const {
  const uint64_t w = layers_.empty() ? 0 : layers_[0].slot_bytes;
  if (latency_.valid()) {
    LoadLatencyModel m = calibrated_at(latency_, w);
    const bool drifted = drift_.apply(m, n_io_);
    if (source) {
      *source = drifted ? "calibration " + drift_.describe() + " (recent reads)" : "calibration";
    }
    return m;
  }
  const uint64_t loads = loads_ + warm_loads_;
  const double secs = load_seconds_ + warm_seconds_;
  if (loads > 0 && secs > 0) {
    if (source) *source = "measured reads";
    LoadLatencyModel m;
    m.read_bytes = w;
    m.read_s = secs / static_cast<double>(loads);
    m.parallel_bytes_per_s =
        static_cast<double>(std::max(n_io_, 1)) * static_cast<double>(w) / m.read_s;
    return m;
  }
  if (source) *source = "prior 1 GB/s";
  return LoadLatencyModel::from_rate(w, 1e9);
}

// Every read in flight shares the disk with the ones this acquire starts (the store's I/O
// threads read at once; prefetches included), so the wait is the time to move the requested
// experts' bytes plus what is left of every read in flight, plus the queued prefetches that
// will start beside them, at the rate of that many reads at once: reads_s(n_reads + Σ
// remaining fractions + joining prefetches, io threads). With nothing else in flight that is
// eq. 6 per read; a requested load already reading alone costs its remainder.
double TieredExpertStore::predict_load_s(int layer, std::span<const int32_t> experts) const {
  if (layer < 0 || static_cast<size_t>(layer) >= layers_.size()) return 0;
  std::lock_guard<std::mutex> lock(mu_);
  const LoadLatencyModel m = load_latency_locked(nullptr);
  if (!m.valid()) return 0;
  const auto now = Clock::now();
  const auto remaining = [&](const Entry& en) {
    const double elapsed = std::chrono::duration<double>(now - en.started).count();
    return std::clamp(1.0 - elapsed / m.read_s, 0.0, 1.0);
  };
  const Layer& L = layers_[static_cast<size_t>(layer)];
  int n_reads = 0;
  bool waits = false;  // some requested expert is not resident
  for (const int32_t x : experts) {
    if (x < 0 || x >= n_expert_) continue;
    const Entry& en = L.entries[static_cast<size_t>(x)];
    if (en.state == State::kResident) continue;
    waits = true;
    const bool reading = en.state == State::kLoading && en.started != Clock::time_point{};
    if (!reading) ++n_reads;  // absent, failed, or a prefetch still queued: a whole read
  }
  if (!waits) return 0;
  double in_flight = 0;  // remaining fractions of every read running now (requested or not)
  int n_running = 0;
  for (const Layer& other : layers_) {
    for (const Entry& en : other.entries) {
      if (en.state == State::kLoading && en.started != Clock::time_point{}) {
        in_flight += remaining(en);
        ++n_running;
      }
    }
  }
  // Queued prefetches (the next layer's, queued before this acquire) start on the threads
  // this acquire's reads leave free, up to the prefetch limit, and share the disk with them.
  const int free_threads = std::max(0, n_io_ - n_running - n_reads);
  const int prefetch_room = std::max(0, std::max(1, n_io_ - 1) - prefetch_in_flight_);
  const int queued =
      static_cast<int>(std::min<size_t>(prefetch_q_.size(), static_cast<size_t>(n_io_)));
  const int joining = std::min({free_threads, prefetch_room, queued});
  return m.reads_s(n_reads + in_flight + joining, n_io_);
}

std::string TieredExpertStore::describe() const {
  std::lock_guard<std::mutex> lock(mu_);
  int lo = n_expert_, hi = 0;
  for (const Layer& L : layers_) {
    lo = std::min(lo, L.cache->slots());
    hi = std::max(hi, L.cache->slots());
  }
  const std::string slots =
      lo == hi ? std::to_string(hi) : std::to_string(lo) + "-" + std::to_string(hi);
  std::string out =
      "tiered (RAM budget " + format_bytes(budget_) + " of " + format_bytes(all_bytes_) +
      " experts, " + slots + "/" + std::to_string(n_expert_) + " slots per layer" +
      (options_.adaptive_slots ? " (adaptive)" : "") + ", " + policy_.label + " (" +
      policy_.reason + "), prefetch ";
  out += options_.prefetch
             ? "depth up to " + std::to_string(options_.prefetch_depth) + " by accuracy"
             : "off";
  if (options_.profile.n_layer() > 0) {
    out += ", profile " + options_.profile_source;
  } else if (options_.policy != CachePolicyKind::kLru && options_.policy != CachePolicyKind::kAuto &&
             options_.policy != CachePolicyKind::kNone) {
    out += ", no routing profile";
  }
  out += ", " + std::to_string(io_threads_.size()) + " I/O threads, " + reader_->note() + ")";
  return out;
}

void TieredExpertStore::publish(CacheEvent::Kind kind, int layer, int expert, Tier from, Tier to,
                                uint64_t bytes, double seconds, uint8_t flags) const {
  if (bus_ == nullptr || !bus_->has_subscribers()) return;
  const std::vector<int> pinned = layers_[static_cast<size_t>(layer)].cache->pinned();
  if (std::find(pinned.begin(), pinned.end(), expert) != pinned.end()) {
    flags |= CacheEvent::kPinned;
  }
  CacheEvent ev;
  ev.flags = flags;
  ev.kind = kind;
  ev.layer = static_cast<int16_t>(layer);
  ev.expert = static_cast<int16_t>(expert);
  ev.from_tier = static_cast<uint8_t>(from);
  ev.to_tier = static_cast<uint8_t>(to);
  ev.bytes = bytes;
  ev.seconds = seconds;
  bus_->publish(ev);
}

}  // namespace moe
