#include "core/store/tiered_expert_store.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/store/cache_replay.h"
#include "core/store/mapped_expert_store.h"
#include "core/store/ram_budget.h"

namespace moe {
namespace {

std::string expert_name(int layer, int expert) {
  return "expert " + std::to_string(expert) + " of layer " + std::to_string(layer);
}

std::string format_percent(double p) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g%%", p);
  return buf;
}

int latency_bucket(double seconds) {
  const double us = seconds * 1e6;
  if (us < 2) return 0;
  return std::min(kLatencyBuckets - 1, static_cast<int>(std::floor(std::log2(us))));
}

}  // namespace

TieredExpertStore::TieredExpertStore(const Model& model, const TieredStoreOptions& options)
    : model_(model), options_(options) {}

Result<std::unique_ptr<TieredExpertStore>> TieredExpertStore::create(
    const Model& model, const TieredStoreOptions& options) {
  std::unique_ptr<TieredExpertStore> s(new TieredExpertStore(model, options));
  MOE_TRY(s->init());
  return s;
}

Status TieredExpertStore::init() {
  const GgufFile& file = model_.file();
  if (file.fd() < 0) {
    return make_error(
        "tiered expert store: the model was not loaded from a file (experts are "
        "read from the file on demand)");
  }
  auto reader = DirectReader::open(file.path(), options_.direct_io);
  if (!reader.ok()) return reader.error();
  reader_ = std::move(reader).value();
  advise_mapping();
  n_expert_ = static_cast<int>(model_.layer(0).experts.size());
  layers_.resize(static_cast<size_t>(model_.n_layer()));
  uint64_t max_slot = 0;
  for (int il = 0; il < model_.n_layer(); ++il) {
    Layer& L = layers_[static_cast<size_t>(il)];
    const auto& experts = model_.layer(il).experts;
    if (static_cast<int>(experts.size()) != n_expert_) {
      return make_error("tiered expert store: layer ", std::to_string(il), " has ",
                        std::to_string(experts.size()), " experts, layer 0 has ",
                        std::to_string(n_expert_));
    }
    L.entries.resize(experts.size());
    for (size_t e = 0; e < experts.size(); ++e) {
      Entry& en = L.entries[e];
      en.weights = experts[e];
      en.ranges = expert_ranges(model_, il, static_cast<int>(e));
      L.slot_bytes = std::max(L.slot_bytes, expert_read_bytes(en.ranges));
    }
    max_slot = std::max(max_slot, L.slot_bytes);
  }
  // One slot size for every layer (the largest): the equal split then gives every layer the
  // same number of slots, and a share of the budget means the same everywhere.
  for (Layer& L : layers_) L.slot_bytes = max_slot;
  all_bytes_ = max_slot * static_cast<uint64_t>(n_expert_) * layers_.size();
  min_budget_ = max_slot * static_cast<uint64_t>(model_.n_layer());
  stats_.resize(layers_.size() * static_cast<size_t>(n_expert_));
  accesses_.resize(layers_.size());
  resident_ = std::make_unique<std::atomic<uint8_t>[]>(stats_.size());
  if (options_.ram_budget_percent > 0) {
    options_.ram_budget_bytes = RamBudget{0, options_.ram_budget_percent}.resolve(all_bytes_);
  }
  if (options_.ram_budget_bytes < min_budget_) {
    const std::string pct =
        options_.ram_budget_percent > 0
            ? " (" + format_percent(options_.ram_budget_percent) + " of the expert bytes)"
            : std::string();
    return make_error("RAM budget ", format_bytes(options_.ram_budget_bytes), pct,
                      " is below the minimum of ", format_bytes(min_budget_), " (",
                      std::to_string(min_budget_), " bytes: one expert slot per layer, ",
                      std::to_string(model_.n_layer()), " layers)");
  }
  const RoutingProfile& prof = options_.profile;
  if (prof.n_layer() > 0 && (prof.n_layer() != model_.n_layer() || prof.n_expert != n_expert_)) {
    return make_error("routing profile ", options_.profile_source, " has ",
                      std::to_string(prof.n_layer()), " layers of ", std::to_string(prof.n_expert),
                      " experts; the model has ", std::to_string(model_.n_layer()), " of ",
                      std::to_string(n_expert_), ": a profile of another model?");
  }
  if (options_.adaptive_slots) {
    if (prof.n_layer() == 0) {
      return make_error(
          "adaptive slots need a routing profile (record one with moe-cli profile, or give "
          "--profile)");
    }
    curves_ = profile_hit_curves(prof);
  }
  budget_ = options_.ram_budget_bytes;
  const std::vector<int> split = slot_split();
  // auto: the planner's choice per layer at these slots (a live budget change keeps it).
  policy_ = choose_store_policy(options_.policy, prof, options_.profile_source, split);
  for (size_t il = 0; il < layers_.size(); ++il) {
    Layer& L = layers_[il];
    const int slots = split[il];
    // Hybrid pins the planner's share of the slots (PolicyConfig; half unless auto chose).
    const PolicyConfig& pc = policy_.layers[il];
    L.cache = make_layer_cache(pc.kind, n_expert_, slots, prof.layer(static_cast<int>(il)),
                               pc.pinned_slots(slots));
  }
  if (options_.policy == CachePolicyKind::kAuto) {
    guard_.init(policy_, split, n_expert_, options_.auto_guard_window);
  }
  // Without a cache a prefetched expert would have nowhere to stay.
  if (options_.policy == CachePolicyKind::kNone) options_.prefetch = false;
  options_.prefetch_depth = std::clamp(options_.prefetch_depth, 0, n_expert_);
  depth_ = PrefetchDepth(options_.prefetch_depth);
  n_io_ = std::clamp(options_.io_threads, 1, 64);
  for (int i = 0; i < n_io_; ++i) io_threads_.emplace_back([this] { io_loop(); });
  return {};
}

// The mapping now serves non-expert weights only. A page fault reads ahead (read_ahead_kb:
// often 128 KiB, 8 MiB on some virtual disks) into the expert tensors that follow, which fills
// the page cache with expert bytes behind the budget. So: no readahead on faults from here on
// (MADV_RANDOM); the non-expert tensors asked for exactly (MADV_WILLNEED); and what the load
// already read ahead (Model::load reads every layer's norm vectors) dropped from the page
// cache (fadvise DONTNEED on each expert tensor; pages shared with other data stay).
void TieredExpertStore::advise_mapping() {
  const GgufFile& file = model_.file();
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const auto base = reinterpret_cast<uintptr_t>(file.base());
  if (base % page == 0) madvise(reinterpret_cast<void*>(base), file.file_size(), MADV_RANDOM);
  for (const TensorInfo& t : file.tensors()) {
    if (t.n_bytes == 0) continue;
    if (model_.is_expert_tensor(t)) {
      posix_fadvise(reader_->fd(), static_cast<off_t>(t.offset), static_cast<off_t>(t.n_bytes),
                    POSIX_FADV_DONTNEED);
    } else if (base % page == 0) {
      const uintptr_t a = reinterpret_cast<uintptr_t>(t.data) & ~(page - 1);
      const uintptr_t b = reinterpret_cast<uintptr_t>(t.data) + t.n_bytes;
      madvise(reinterpret_cast<void*>(a), b - a, MADV_WILLNEED);
    }
  }
}

TieredExpertStore::~TieredExpertStore() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  io_cv_.notify_all();
  for (std::thread& t : io_threads_) t.join();
  for (Layer& L : layers_) {
    for (Entry& e : L.entries) std::free(e.buf);
    for (uint8_t* b : L.free_bufs) std::free(b);
  }
}

std::vector<int> TieredExpertStore::slot_split() const {
  // No cache: no slots whatever the budget; every use is a transient (staging) load.
  if (options_.policy == CachePolicyKind::kNone) return std::vector<int>(layers_.size(), 0);
  const int n_layer = static_cast<int>(layers_.size());
  const uint64_t slot = layers_.empty() ? 0 : layers_[0].slot_bytes;  // one size for all
  if (!options_.adaptive_slots) {
    return std::vector<int>(layers_.size(), slots_per_layer(budget_, n_layer, slot, n_expert_));
  }
  const uint64_t max_total = static_cast<uint64_t>(n_layer) * static_cast<uint64_t>(n_expert_);
  const int total = static_cast<int>(std::min(max_total, slot ? budget_ / slot : 0));
  // At least a token's k experts per layer where the budget allows, so no layer turns every
  // decode step into transient loads because its profile looks concentrated.
  const int k = std::clamp(model_.hparams().n_expert_used, 1, n_expert_);
  return allocate_slots_adaptive(total, curves_, k);
}

// ---- buffers and eviction (under mu_) ----

uint8_t* TieredExpertStore::take_buffer_locked(Layer& L) {
  if (!L.free_bufs.empty()) {
    uint8_t* b = L.free_bufs.back();
    L.free_bufs.pop_back();
    return b;
  }
  auto* b = static_cast<uint8_t*>(std::aligned_alloc(DirectReader::kAlign, L.slot_bytes));
  if (b == nullptr) return nullptr;
  ++L.n_bufs;
  held_ += L.slot_bytes;
  peak_held_ = std::max(peak_held_, held_);
  return b;
}

void TieredExpertStore::give_buffer_locked(Layer& L, uint8_t* buf) {
  if (buf == nullptr) return;
  if (L.n_bufs <= L.cache->slots()) {
    L.free_bufs.push_back(buf);
    return;
  }
  std::free(buf);
  --L.n_bufs;
  held_ -= L.slot_bytes;
}

// The entry side of an eviction the cache has decided (the cache no longer lists `expert`).
void TieredExpertStore::evict_locked(int layer, int expert) {
  Layer& L = layers_[static_cast<size_t>(layer)];
  Entry& en = L.entries[static_cast<size_t>(expert)];
  if (en.speculative) {
    ++stat(layer, expert).prefetch_wasted;
    depth_.settled(false);
    en.speculative = false;
    publish(CacheEvent::Kind::kPrefetchWasted, layer, expert, Tier::kRam, Tier::kDisk, 0, 0);
  }
  publish(CacheEvent::Kind::kEvict, layer, expert, Tier::kRam, Tier::kDisk, L.slot_bytes, 0);
  give_buffer_locked(L, en.buf);
  en.buf = nullptr;
  en.state = State::kAbsent;
  mark_resident(layer, expert, false);
  ++evictions_;
}

// After a shrink or a release: evicts evictable residents while the layer holds more than its
// slots, and frees spare buffers.
void TieredExpertStore::drop_over_capacity_locked(int layer) {
  Layer& L = layers_[static_cast<size_t>(layer)];
  const Evictable idle = [&L](int x) {
    const Entry& en = L.entries[static_cast<size_t>(x)];
    return en.state == State::kResident && en.refs == 0;
  };
  while (L.cache->n_resident() > L.cache->slots()) {
    const int v = L.cache->evict_one(idle);
    if (v < 0) break;
    evict_locked(layer, v);
  }
  while (L.n_bufs > L.cache->slots() && !L.free_bufs.empty()) {
    std::free(L.free_bufs.back());
    L.free_bufs.pop_back();
    --L.n_bufs;
    held_ -= L.slot_bytes;
  }
}

// auto's run-time fallback (PolicyGuard): the layer's residents (resident or loading) move to
// an LRU cache, the policy's first-listed ones most recent; if it held more than its slots
// (after a shrink), the surplus leaves as after any shrink.
void TieredExpertStore::fall_back_to_lru_locked(int layer) {
  Layer& L = layers_[static_cast<size_t>(layer)];
  const std::vector<int> residents = L.cache->residents();
  const int slots = L.cache->slots();
  auto lru = make_layer_cache(CachePolicyKind::kLru, n_expert_,
                              std::max(slots, static_cast<int>(residents.size())));
  const Evictable none = [](int) { return false; };
  for (auto it = residents.rbegin(); it != residents.rend(); ++it) lru->admit(*it, none, false);
  lru->set_slots(slots);
  L.cache = std::move(lru);
  fall_back_to_lru(policy_, layer);
  drop_over_capacity_locked(layer);
}

// Takes a slot (evicting per the policy) and a buffer for `expert` and queues its read.
// A demand load that finds every slot busy (in use or loading) goes into a transient buffer;
// a prefetch then gives up (false).
bool TieredExpertStore::start_load_locked(int layer, int expert, bool speculative,
                                          std::span<const int32_t> keep) {
  Layer& L = layers_[static_cast<size_t>(layer)];
  Entry& en = L.entries[static_cast<size_t>(expert)];
  // A prefetch never pushes out another prefetched expert that has not been used yet, nor a
  // resident the same prediction names (`keep`): evicting it would turn a likely hit into a miss.
  const Evictable evictable = [&L, speculative, keep](int x) {
    const Entry& o = L.entries[static_cast<size_t>(x)];
    return o.state == State::kResident && o.refs == 0 &&
           !(speculative &&
             (o.speculative || std::find(keep.begin(), keep.end(), x) != keep.end()));
  };
  const int r = L.cache->admit(expert, evictable, speculative);
  if (r == kNotAdmitted && speculative) return false;
  if (r >= 0) evict_locked(layer, r);
  en.transient = r == kNotAdmitted;
  uint8_t* buf = take_buffer_locked(L);
  if (buf == nullptr) {
    if (!en.transient) L.cache->evict_one([expert](int x) { return x == expert; });
    en.state = State::kFailed;
    en.error = "out of memory for a slot of " + format_bytes(L.slot_bytes);
    return false;
  }
  if (en.transient) ++transient_loads_;
  en.buf = buf;
  en.state = State::kLoading;
  en.started = {};  // queued; the I/O thread that reads it sets the time
  en.speculative = speculative;
  en.demand = !speculative;
  (speculative ? prefetch_q_ : demand_q_).push_back({layer, expert});
  io_cv_.notify_one();
  return true;
}

// ---- I/O threads ----

// Demand requests first. Prefetches use at most io_threads - 1 threads at once (one with a
// single thread), so a thread is free when the next demand miss comes: a read in flight
// cannot be preempted, and waiting behind a wrong guess would make prefetch cost more than
// it saves.
void TieredExpertStore::io_loop() {
  const int prefetch_limit = std::max(1, n_io_ - 1);
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    io_cv_.wait(lock, [&] {
      return stop_ || !demand_q_.empty() ||
             (!prefetch_q_.empty() && prefetch_in_flight_ < prefetch_limit);
    });
    if (stop_) return;
    const bool demand = !demand_q_.empty();
    std::deque<Request>& q = demand ? demand_q_ : prefetch_q_;
    const Request rq = q.front();
    q.pop_front();
    if (!demand) ++prefetch_in_flight_;
    Entry& en = layers_[static_cast<size_t>(rq.layer)].entries[static_cast<size_t>(rq.expert)];
    uint8_t* buf = en.buf;
    const auto t0 = Clock::now();
    en.started = t0;
    const int sharing = ++reads_running_;
    lock.unlock();
    uint64_t bytes = 0;
    Status st = load(rq.layer, rq.expert, buf, bytes);
    const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    lock.lock();
    --reads_running_;
    // Warm-up reads are a burst at load time, beside the mapping's page faults: not the disk
    // the run will see, so they teach the drift nothing.
    if (st.ok() && !warming_) note_read_time_locked(sharing, secs);
    if (!demand) {
      --prefetch_in_flight_;
      io_cv_.notify_one();  // a queued prefetch may start now
    }
    finish_load(rq.layer, rq.expert, std::move(st), bytes, secs);
  }
}

// Reads the aligned supersets of gate, up and down one after the other into `buf` (ranges are
// fixed at init; no lock needed).
Status TieredExpertStore::load(int layer, int expert, uint8_t* buf, uint64_t& bytes_read) {
  const Entry& en = layers_[static_cast<size_t>(layer)].entries[static_cast<size_t>(expert)];
  if (Status s = read_expert(*reader_, en.ranges, buf); !s.ok()) {
    return make_error("tiered expert store: reading ", expert_name(layer, expert), ": ",
                      s.message());
  }
  bytes_read = expert_read_bytes(en.ranges);
  return {};
}

void TieredExpertStore::finish_load(int layer, int expert, Status st, uint64_t bytes,
                                    double seconds) {
  Layer& L = layers_[static_cast<size_t>(layer)];
  Entry& en = L.entries[static_cast<size_t>(expert)];
  ExpertStats& s = stat(layer, expert);
  if (st.ok()) {
    // Point the views at the expert's bytes inside each aligned read.
    en.weights = expert_views(model_.layer(layer).experts[static_cast<size_t>(expert)],
                              en.ranges, en.buf);
    en.state = State::kResident;
    mark_resident(layer, expert, !en.transient);  // a transient one leaves at release
    publish(CacheEvent::Kind::kLoaded, layer, expert, Tier::kDisk, Tier::kRam, bytes, seconds,
            en.transient ? CacheEvent::kTransient : 0);
    if (en.transient && en.refs == 0) {  // its acquirer gave up (an error elsewhere): free it
      give_buffer_locked(L, en.buf);
      en.buf = nullptr;
      en.state = State::kAbsent;
      en.transient = false;
    }
    counters_.bytes_loaded.fetch_add(bytes, std::memory_order_relaxed);
    if (warming_) {
      en.demand = false;
      warm_seconds_ += seconds;
      warm_bytes_ += bytes;
      ++warm_loads_;
    } else {
      s.bytes_read += bytes;
      ++loads_;
      load_seconds_ += seconds;
      load_bytes_ += bytes;
      if (load_seconds_ > 0) {
        read_rate_.store(static_cast<double>(load_bytes_) / load_seconds_,
                         std::memory_order_relaxed);
      }
      ++latency_hist_[static_cast<size_t>(latency_bucket(seconds))];
    }
  } else {
    if (!en.transient) L.cache->evict_one([expert](int x) { return x == expert; });
    give_buffer_locked(L, en.buf);
    en.buf = nullptr;
    if (en.speculative) {
      ++s.prefetch_wasted;
      depth_.settled(false);
      publish(CacheEvent::Kind::kPrefetchWasted, layer, expert, Tier::kDisk, Tier::kDisk, 0, 0);
    }
    en.speculative = false;
    // Nobody waits for a failed prefetch: forget it (a later demand retries and reports).
    en.state = en.refs > 0 ? State::kFailed : State::kAbsent;
    en.error = st.message();
    if (warming_ && warm_error_.empty()) warm_error_ = en.error;
  }
  done_cv_.notify_all();
}

// ---- engine-thread API ----

Status TieredExpertStore::wait_locked(std::unique_lock<std::mutex>& lock, int layer, int expert) {
  Entry& en = layers_[static_cast<size_t>(layer)].entries[static_cast<size_t>(expert)];
  done_cv_.wait(lock, [&en] { return en.state != State::kLoading; });
  if (en.state == State::kResident) return {};
  return Error{en.error};
}

void TieredExpertStore::fill_view(const Entry& e, ExpertView& out) const {
  out.weights = &e.weights;
  out.tier = Tier::kRam;
  out.device = 0;
}

Status TieredExpertStore::acquire(int layer, int expert, ExpertView& out) {
  const int32_t e = expert;
  return acquire_many(layer, {&e, 1}, {&out, 1});
}

Status TieredExpertStore::acquire_many(int layer, std::span<const int32_t> experts,
                                       std::span<ExpertView> out) {
  for (int32_t e : experts) MOE_TRY(check_expert_index(model_, layer, e));
  std::unique_lock<std::mutex> lock(mu_);
  Layer& L = layers_[static_cast<size_t>(layer)];
  if (n_accesses_ + experts.size() <= kOracleMaxAccesses) {
    std::vector<int16_t> ids(experts.begin(), experts.end());
    accesses_[static_cast<size_t>(layer)].push(ids);
    n_accesses_ += experts.size();
  }
  // 1. Bookkeeping and every miss queued at once, so their reads overlap on the I/O threads.
  std::vector<uint8_t> missed(experts.size(), 0);
  for (size_t i = 0; i < experts.size(); ++i) {
    const int x = experts[i];
    Entry& en = L.entries[static_cast<size_t>(x)];
    ExpertStats& s = stat(layer, x);
    L.cache->on_access(x);
    if (en.state == State::kFailed && en.refs == 0) en.state = State::kAbsent;
    if (en.state == State::kResident) {
      ++s.hits;
      counters_.hits.fetch_add(1, std::memory_order_relaxed);
      publish(CacheEvent::Kind::kHit, layer, x, Tier::kRam, Tier::kRam, 0, 0);
    } else {
      missed[i] = 1;
      ++s.misses;
      counters_.misses.fetch_add(1, std::memory_order_relaxed);
      if (en.state == State::kLoading) {
        en.demand = true;  // a queued prefetch becomes a demand load
        const auto it = std::find_if(prefetch_q_.begin(), prefetch_q_.end(), [&](const Request& r) {
          return r.layer == layer && r.expert == x;
        });
        if (it != prefetch_q_.end()) {
          prefetch_q_.erase(it);
          demand_q_.push_back({layer, x});
        }
      } else if (!start_load_locked(layer, x, false)) {
        en.state = State::kAbsent;
        lock.unlock();
        for (size_t j = 0; j < i; ++j) release(layer, experts[j]);
        counters_.acquires.fetch_add(i, std::memory_order_relaxed);
        return make_error("tiered expert store: ", expert_name(layer, x), ": ", en.error);
      }
    }
    if (en.speculative) {  // brought in (or being brought in) by a prefetch: a good guess
      en.speculative = false;
      ++s.prefetch_used;
      depth_.settled(true);
      publish(CacheEvent::Kind::kPrefetchUsed, layer, x, Tier::kDisk, Tier::kRam, L.slot_bytes, 0);
    }
    ++en.refs;
  }
  const auto n_missed = static_cast<int>(std::count(missed.begin(), missed.end(), 1));
  if (guard_.observe(layer, experts, static_cast<int>(experts.size()) - n_missed)) {
    fall_back_to_lru_locked(layer);
  }
  // 2. Wait for the misses; on a failure release everything this call acquired.
  Status failed;
  for (size_t i = 0; i < experts.size(); ++i) {
    if (!missed[i]) continue;
    const auto t0 = Clock::now();
    Status st = wait_locked(lock, layer, experts[i]);
    const double waited = std::chrono::duration<double>(Clock::now() - t0).count();
    publish(CacheEvent::Kind::kMiss, layer, experts[i], Tier::kDisk, Tier::kRam, L.slot_bytes,
            waited);
    if (!st.ok() && failed.ok()) failed = st;
  }
  counters_.acquires.fetch_add(experts.size(), std::memory_order_relaxed);
  if (!failed.ok()) {
    lock.unlock();
    for (int32_t x : experts) release(layer, x);
    return failed;
  }
  for (size_t i = 0; i < experts.size(); ++i) {
    fill_view(L.entries[static_cast<size_t>(experts[i])], out[i]);
  }
  return {};
}

Tier TieredExpertStore::tier_of(int layer, int expert) const {
  if (layer < 0 || expert < 0 || expert >= n_expert_ ||
      static_cast<size_t>(layer) >= layers_.size()) {
    return Tier::kDisk;
  }
  const size_t i = static_cast<size_t>(layer) * static_cast<size_t>(n_expert_) +
                   static_cast<size_t>(expert);
  return resident_[i].load(std::memory_order_relaxed) != 0 ? Tier::kRam : Tier::kDisk;
}

void TieredExpertStore::mark_resident(int layer, int expert, bool resident) {
  resident_[static_cast<size_t>(layer) * static_cast<size_t>(n_expert_) +
            static_cast<size_t>(expert)]
      .store(resident ? 1 : 0, std::memory_order_relaxed);
}

double TieredExpertStore::read_bytes_per_s() const {
  return read_rate_.load(std::memory_order_relaxed);
}

void TieredExpertStore::release(int layer, int expert) {
  counters_.releases.fetch_add(1, std::memory_order_relaxed);
  if (!check_expert_index(model_, layer, expert).ok()) return;
  std::lock_guard<std::mutex> lock(mu_);
  Layer& L = layers_[static_cast<size_t>(layer)];
  Entry& en = L.entries[static_cast<size_t>(expert)];
  if (en.refs <= 0) return;
  if (--en.refs > 0) return;
  en.demand = false;
  if (en.state == State::kFailed) {
    en.state = State::kAbsent;
  } else if (en.transient && en.state == State::kResident) {
    give_buffer_locked(L, en.buf);
    en.buf = nullptr;
    en.state = State::kAbsent;
    en.transient = false;
  }
  drop_over_capacity_locked(layer);
}

void TieredExpertStore::prefetch(int layer, std::span<const int32_t> experts) {
  counters_.prefetch_hints.fetch_add(experts.size(), std::memory_order_relaxed);
  if (!options_.prefetch || layer < 0 || layer >= model_.n_layer()) return;
  std::lock_guard<std::mutex> lock(mu_);
  depth_.on_call();
  const int depth = depth_.depth();
  Layer& L = layers_[static_cast<size_t>(layer)];
  int issued = 0;
  for (int32_t x : experts) {
    if (issued >= depth) break;
    if (x < 0 || x >= n_expert_) continue;
    if (L.entries[static_cast<size_t>(x)].state != State::kAbsent) continue;
    if (!start_load_locked(layer, x, true, experts)) continue;
    ++issued;
    ++stat(layer, x).prefetch_issued;
    publish(CacheEvent::Kind::kPrefetchIssued, layer, x, Tier::kDisk, Tier::kRam, L.slot_bytes, 0);
  }
}

}  // namespace moe
