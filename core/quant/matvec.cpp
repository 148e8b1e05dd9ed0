// Public entry points of the dot-product kernels (quant.h) and the per-level dispatch tables.
#include <algorithm>
#include <array>
#include <atomic>

#include "core/quant/kernels.h"
#include "core/quant/quant.h"
#include "core/util/check.h"

namespace moe {
namespace kern {
namespace {

KernelTable build_table(SimdLevel level) {
  KernelTable t;
  register_scalar_float(t);
  register_scalar_legacy(t);
  register_scalar_kquant(t);
  register_scalar_act(t);
  if (level >= SimdLevel::kAvx2) {
    register_avx2(t);
    register_avx2_kquant(t);
    register_avx2_act(t);
  }
  if (level >= SimdLevel::kAvx512) {
    register_avx512(t);
    register_avx512_kquant(t);
  }
  return t;
}

// Callers (the model loader) reject non-computable types and bad shapes with an Error before
// any kernel runs; reaching here with one is a programming error.
VecDotFn checked_vec_dot(const KernelTable& k, GgmlType type, int64_t n) {
  const int id = idx(type);
  VecDotFn fn = id >= 0 && id < kNumTypeIds ? k.vec_dot[id] : nullptr;
  MOE_CHECK(fn != nullptr, "vec_dot: weight type has no dot-product kernel");
  MOE_CHECK(n >= 0 && n % type_traits(type)->block_size == 0,
            "vec_dot: row length not a multiple of the block size");
  return fn;
}

std::atomic<bool> g_vnni_allowed{true};
std::atomic<bool> g_tuned{false};
KernelTable g_tuned_table;  // written only while no kernel runs (set_tuned_table)

std::array<KernelTable, 3>& tables() {
  // Built for every level up front; entries of a level the CPU lacks are never selected
  // because set_simd_level() clamps to best_simd_level().
  static std::array<KernelTable, 3> t = {build_table(SimdLevel::kScalar),
                                         build_table(SimdLevel::kAvx2),
                                         build_table(SimdLevel::kAvx512)};
  return t;
}

}  // namespace

const KernelTable& kernel_table(SimdLevel level) {
  return tables()[static_cast<int>(level)];
}

const KernelTable& active_kernels() {
  const SimdLevel level = active_simd_level();
  if (g_tuned.load(std::memory_order_acquire) && level == best_simd_level() &&
      !simd_level_forced()) {
    return g_tuned_table;
  }
  return kernel_table(level);
}

void set_tuned_table(const KernelTable& t) {
  g_tuned.store(false, std::memory_order_release);
  g_tuned_table = t;
  g_tuned.store(true, std::memory_order_release);
}

void clear_tuned_table() { g_tuned.store(false, std::memory_order_release); }

bool vnni_allowed() {
  return g_vnni_allowed.load(std::memory_order_relaxed);
}

void set_vnni_allowed_for_testing(bool allow) {
  g_vnni_allowed.store(allow, std::memory_order_relaxed);
  tables()[2] = build_table(SimdLevel::kAvx512);
}

}  // namespace kern

float vec_dot(GgmlType weight_type, int64_t n, const void* w_row, const void* act) {
  return kern::checked_vec_dot(kern::active_kernels(), weight_type, n)(n, w_row, act);
}

void matvec_rows(GgmlType weight_type, const void* w, size_t row_stride, int64_t n,
                 int64_t row_begin, int64_t row_end, const void* act, float* out) {
  const kern::KernelTable& k = kern::active_kernels();
  const kern::VecDotFn dot = kern::checked_vec_dot(k, weight_type, n);
  if (row_end <= row_begin) return;
  const auto* base = static_cast<const uint8_t*>(w) + static_cast<size_t>(row_begin) * row_stride;
  if (kern::MatvecFn mv = k.matvec[kern::idx(weight_type)]) {
    mv(base, row_stride, n, row_end - row_begin, act, out);
    return;
  }
  for (int64_t r = 0; r < row_end - row_begin; ++r) {
    out[r] = dot(n, base + static_cast<size_t>(r) * row_stride, act);
  }
}

void matmul_rows(GgmlType weight_type, const void* w, size_t row_stride, int64_t n,
                 int64_t row_begin, int64_t row_end, const void* acts, size_t act_stride,
                 int64_t n_tokens, float* out, size_t out_stride) {
  const kern::KernelTable& k = kern::active_kernels();
  kern::checked_vec_dot(k, weight_type, n);
  if (row_end <= row_begin || n_tokens <= 0) return;
  if (n_tokens == 1) {
    // One token (a decode step, or an expert chosen by one token of a batch): the R-rows
    // matvec kernel streams the rows with a prefetch distance of whole row groups; the
    // token-batched kernels walk one row at a time and prefetch only one row ahead, which
    // measured ~35 % slower from DRAM on K-quants. Per (row, token) the arithmetic of both
    // kernels is that of vec_dot: identical results.
    matvec_rows(weight_type, w, row_stride, n, row_begin, row_end, acts, out);
    return;
  }
  const auto* a = static_cast<const uint8_t*>(acts);
  if (kern::MatmulFn mm = k.matmul[kern::idx(weight_type)]) {
    // Token-batched kernel: each weight block is unpacked once for several tokens.
    const auto* base = static_cast<const uint8_t*>(w) + static_cast<size_t>(row_begin) * row_stride;
    mm(base, row_stride, n, row_end - row_begin, a, act_stride, n_tokens, out, out_stride);
    return;
  }
  // Otherwise rows in tiles small enough to stay in L2 (~64 KiB of weights) while every
  // token's activation passes over them: each weight byte comes from DRAM once per tile, not
  // once per token.
  const size_t tile_bytes = 64 * 1024;
  const int64_t tile =
      std::max<int64_t>(4, static_cast<int64_t>(tile_bytes / std::max<size_t>(row_stride, 1)));
  for (int64_t r0 = row_begin; r0 < row_end; r0 += tile) {
    const int64_t r1 = std::min(row_end, r0 + tile);
    for (int64_t t = 0; t < n_tokens; ++t) {
      matvec_rows(weight_type, w, row_stride, n, r0, r1, a + static_cast<size_t>(t) * act_stride,
                  out + static_cast<size_t>(t) * out_stride + (r0 - row_begin));
    }
  }
}

}  // namespace moe
