#include "core/store/ram_copy_expert_store.h"

#include <cstdlib>
#include <cstring>
#include <new>

#include "core/store/mapped_expert_store.h"

namespace moe {
namespace {

constexpr size_t kAlign = 64;

size_t round_up(uint64_t n) {
  return static_cast<size_t>((n + kAlign - 1) / kAlign * kAlign);
}

}  // namespace

void RamCopyExpertStore::FreeDeleter::operator()(uint8_t* p) const {
  std::free(p);
}

Result<std::unique_ptr<RamCopyExpertStore>> RamCopyExpertStore::create(const Model& model,
                                                                       ExpertStore& source) {
  std::unique_ptr<RamCopyExpertStore> s(new RamCopyExpertStore(model));
  s->experts_.resize(static_cast<size_t>(model.n_layer()));
  for (int il = 0; il < model.n_layer(); ++il) {
    const int n_expert = static_cast<int>(model.layer(il).experts.size());
    for (int e = 0; e < n_expert; ++e) {
      ExpertView v;
      MOE_TRY(source.acquire(il, e, v));
      const ExpertWeights& w = *v.weights;
      const size_t total = round_up(w.gate.bytes()) + round_up(w.up.bytes()) + round_up(w.down.bytes());
      auto* block = static_cast<uint8_t*>(std::aligned_alloc(kAlign, total));
      if (block == nullptr) {
        source.release(il, e);
        return make_error("RAM copy store: cannot allocate ", std::to_string(total),
                          " bytes for expert ", std::to_string(e), " of layer ", std::to_string(il));
      }
      s->blocks_.emplace_back(block);
      ExpertWeights copy = w;
      size_t off = 0;
      for (MatrixView* m : {&copy.gate, &copy.up, &copy.down}) {
        std::memcpy(block + off, m->data, m->bytes());
        m->data = block + off;
        off += round_up(m->bytes());
      }
      source.release(il, e);
      s->experts_[static_cast<size_t>(il)].push_back(copy);
      s->bytes_ += w.bytes();
    }
  }
  s->counters_.bytes_loaded.store(s->bytes_, std::memory_order_relaxed);
  return s;
}

Status RamCopyExpertStore::acquire(int layer, int expert, ExpertView& out) {
  MOE_TRY(check_expert_index(model_, layer, expert));
  out.weights = &experts_[static_cast<size_t>(layer)][static_cast<size_t>(expert)];
  out.tier = Tier::kRam;
  out.device = 0;
  counters_.acquires.fetch_add(1, std::memory_order_relaxed);
  counters_.hits.fetch_add(1, std::memory_order_relaxed);
  if (bus_ != nullptr && bus_->has_subscribers()) {
    CacheEvent ev;
    ev.kind = CacheEvent::Kind::kHit;
    ev.layer = static_cast<int16_t>(layer);
    ev.expert = static_cast<int16_t>(expert);
    ev.from_tier = ev.to_tier = static_cast<uint8_t>(Tier::kRam);
    bus_->publish(ev);
  }
  return {};
}

void RamCopyExpertStore::release(int, int) {
  counters_.releases.fetch_add(1, std::memory_order_relaxed);
}

void RamCopyExpertStore::prefetch(int, std::span<const int32_t> experts) {
  counters_.prefetch_hints.fetch_add(experts.size(), std::memory_order_relaxed);
}

}  // namespace moe
