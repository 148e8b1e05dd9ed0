#include "core/store/mapped_expert_store.h"

#include <sys/mman.h>
#include <unistd.h>

#include <string>

namespace moe {

uint64_t physical_memory_bytes() {
  return static_cast<uint64_t>(sysconf(_SC_PHYS_PAGES)) *
         static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

Status check_expert_index(const Model& model, int layer, int expert) {
  if (layer < 0 || layer >= model.n_layer() || expert < 0 ||
      expert >= static_cast<int>(model.layer(layer).experts.size())) {
    return make_error("expert store: no expert ", std::to_string(expert), " in layer ",
                      std::to_string(layer));
  }
  return {};
}

MappedExpertStore::MappedExpertStore(const Model& model, uint64_t ram_bytes)
    : model_(model),
      warm_all_(model.file().file_size() < (ram_bytes ? ram_bytes : physical_memory_bytes()) / 2) {}

Status MappedExpertStore::acquire(int layer, int expert, ExpertView& out) {
  MOE_TRY(check_expert_index(model_, layer, expert));
  out.weights = &model_.layer(layer).experts[static_cast<size_t>(expert)];
  out.tier = Tier::kRam;  // the mapping: RAM once paged in
  out.device = 0;
  counters_.acquires.fetch_add(1, std::memory_order_relaxed);
  return {};
}

void MappedExpertStore::release(int, int) {
  counters_.releases.fetch_add(1, std::memory_order_relaxed);
}

void MappedExpertStore::prefetch(int, std::span<const int32_t> experts) {
  counters_.prefetch_hints.fetch_add(experts.size(), std::memory_order_relaxed);
}

Status MappedExpertStore::warm(const WarmProgress& progress) {
  if (!warm_all_) return progress(0) ? Status{} : cancelled();
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  uint64_t done = 0;
  for (int il = 0; il < model_.n_layer(); ++il) {
    for (const ExpertWeights& e : model_.layer(il).experts) {
      for (const MatrixView* m : {&e.gate, &e.up, &e.down}) {
        if (model_.file().fd() >= 0) {  // read ahead (a no-op for in-memory test files)
          const uintptr_t a = reinterpret_cast<uintptr_t>(m->data) & ~(page - 1);
          const uintptr_t b = reinterpret_cast<uintptr_t>(m->data) + m->bytes();
          madvise(reinterpret_cast<void*>(a), b - a, MADV_WILLNEED);
        }
        if (!touch_pages(m->data, m->bytes(), done, progress)) return cancelled();
      }
    }
  }
  return {};
}

}  // namespace moe
