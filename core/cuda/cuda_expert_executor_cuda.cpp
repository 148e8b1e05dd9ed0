// The CUDA expert executor: ExpertExecutor (design §6) on one GPU. Per layer call:
//   1. x [n_tokens, n_embd] goes up once (pinned buffer, compute stream); out_dev is zeroed;
//   2. per expert group, in assignment order: a VRAM hit uses its slot; a miss takes a slot
//      from the VRAM cache (LRU per layer over slots, vram_expert_cache.h), reads the expert
//      through the store, and uploads it on the copy stream in chunks through pinned staging
//      buffers (the CPU fills chunk i+1 while the DMA engine moves chunk i); the slot's event
//      is recorded after the last chunk and the compute stream waits on it, so an upload
//      overlaps the kernels of the groups queued before it;
//   3. per assignment: quantize x[t] (Q8_0 / Q8_K), gate and up mat-vecs, SwiGLU, quantize h,
//      down mat-vec, out_dev[t] += w y (WDMoE eq. 1), in assignment order as the CPU executor;
//      a group of >= gemm_min_tokens tokens (prefill) instead dequantizes each matrix to an f16
//      tile and runs cuBLAS GEMMs over the group's tokens (f16 in, f32 accumulate and out);
//   4. out_dev comes back and is added to batch.out.
// The call ends synchronised, so a slot used in one call is free to be overwritten in the next;
// within a call the experts in use are `busy` and never evicted. prefetch() uploads predicted
// experts of the next layer on the copy stream while this layer's host work goes on.
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>
#include <type_traits>
#include <vector>

#include "core/cuda/cuda_backend.h"
#include "core/cuda/cuda_error.h"
#include "core/cuda/cuda_info.h"
#include "core/cuda/device_memory.h"
#include "core/cuda/kernels.h"
#include "core/cuda/vram_expert_cache.h"
#include "core/cuda/vram_plan.h"
#include "core/engine_api/expert_selection.h"  // kMaxExpertsUsed
#include "core/model/memory_plan.h"            // max_act_row_bytes
#include "core/quant/quant.h"

namespace moe {
namespace {

using cuda::Device;
using cuda::DeviceBuffer;
using cuda::Event;
using cuda::PinnedBuffer;
using cuda::VramUse;

constexpr size_t kStagingChunk = size_t{8} << 20;  // 8 MiB per staging buffer
constexpr int kStagingBuffers = 4;

// Device layout of one expert in a slot: gate, up, down rows packed (row_bytes apart).
struct SlotLayout {
  GgmlType gate_t{}, up_t{}, down_t{};
  int64_t n_embd = 0, n_ff = 0;
  size_t gate_row = 0, up_row = 0, down_row = 0;
  size_t up_off = 0, down_off = 0, bytes = 0;
};

SlotLayout layout_of(const ExpertWeights& e) {
  SlotLayout s;
  s.gate_t = e.gate.type;
  s.up_t = e.up.type;
  s.down_t = e.down.type;
  s.n_embd = e.gate.n_in;
  s.n_ff = e.gate.n_out;
  s.gate_row = row_bytes(s.gate_t, s.n_embd);
  s.up_row = row_bytes(s.up_t, s.n_embd);
  s.down_row = row_bytes(s.down_t, s.n_ff);
  s.up_off = s.gate_row * static_cast<size_t>(s.n_ff);
  s.down_off = s.up_off + s.up_row * static_cast<size_t>(s.n_ff);
  s.bytes = s.down_off + s.down_row * static_cast<size_t>(s.n_embd);
  return s;
}

// cuBLAS, opened at run time (dlopen) rather than linked: linking it maps libcublasLt (~0.5 GB
// of code, ~200 MiB of relocated pages) into every process that links the engine, CPU-only
// runs included. Types come from the header; only the five entry points used are resolved.
struct CublasApi {
  decltype(&cublasCreate) create = nullptr;
  decltype(&cublasDestroy) destroy = nullptr;
  decltype(&cublasSetStream) set_stream = nullptr;
  // cublasGemmEx is overloaded in C++ (an inline wrapper): the C entry point's type by hand.
  cublasStatus_t (*gemm_ex)(cublasHandle_t, cublasOperation_t, cublasOperation_t, int, int, int,
                            const void*, const void*, cudaDataType, int, const void*, cudaDataType,
                            int, const void*, void*, cudaDataType, int, cublasComputeType_t,
                            cublasGemmAlgo_t) = nullptr;
  decltype(&cublasGetStatusString) status_string = nullptr;
  std::string error;  ///< why it is unavailable (empty: all resolved)
};

const CublasApi& cublas_api() {
  static const CublasApi api = [] {
    CublasApi a;
    const std::string name = "libcublas.so." + std::to_string(CUBLAS_VER_MAJOR);
    void* lib = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr)
      lib = dlopen((std::string(MOE_CUDA_LIB_DIR) + "/" + name).c_str(), RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) {
      a.error = name + ": " + dlerror();
      return a;
    }
    const auto sym = [&](auto& fn, const char* symbol) {
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(lib, symbol));
      if (fn == nullptr && a.error.empty()) a.error = name + ": no symbol " + symbol;
    };
    sym(a.create, "cublasCreate_v2");
    sym(a.destroy, "cublasDestroy_v2");
    sym(a.set_stream, "cublasSetStream_v2");
    sym(a.gemm_ex, "cublasGemmEx");
    sym(a.status_string, "cublasGetStatusString");
    return a;  // the library stays open for the process
  }();
  return api;
}

// Assignments one call may carry: every token with up to kMaxExpertsUsed experts (the live
// experts-per-token setting may exceed the model's own), as the CPU executor sizes it.
size_t max_assignments(const Model& model, size_t max_tokens) {
  return max_tokens * static_cast<size_t>(std::min(model.hparams().n_expert, kMaxExpertsUsed));
}

class CudaExpertExecutor final : public ExpertExecutor {
 public:
  CudaExpertExecutor(const Model& model, ExpertStore& store, const CudaExecutorOptions& o,
                     const SlotLayout& lay, const cuda::VramPlan& plan)
      : model_(model),
        store_(store),
        lay_(lay),
        plan_(plan),
        max_tokens_(std::max(1, o.max_tokens)),
        gemm_min_tokens_(std::max(2, o.gemm_min_tokens)),
        dev_(o.device, plan.budget),
        cache_(model.n_layer(), model.hparams().n_expert, plan.expert_slots) {
    const size_t n_embd = static_cast<size_t>(lay.n_embd), n_ff = static_cast<size_t>(lay.n_ff);
    const size_t act_bytes = std::max(max_act_row_bytes(lay.n_embd), max_act_row_bytes(lay.n_ff));
    slots_ = dev_.alloc(VramUse::kExperts, plan.expert_bytes());
    x_ = dev_.alloc(VramUse::kScratch, max_tokens_ * n_embd * sizeof(float));
    out_ = dev_.alloc(VramUse::kScratch, max_tokens_ * n_embd * sizeof(float));
    act_ = dev_.alloc(VramUse::kScratch, act_bytes);
    act2_ = dev_.alloc(VramUse::kScratch, act_bytes);
    g_ = dev_.alloc(VramUse::kScratch, n_ff * sizeof(float));
    u_ = dev_.alloc(VramUse::kScratch, n_ff * sizeof(float));
    y_ = dev_.alloc(VramUse::kScratch, n_embd * sizeof(float));
    host_io_ = std::make_unique<PinnedBuffer>(max_tokens_ * n_embd * sizeof(float));
    const size_t max_assign = max_assignments(model, max_tokens_);
    if (max_tokens_ >= static_cast<size_t>(gemm_min_tokens_)) {
      wh_ = dev_.alloc(VramUse::kScratch, n_ff * n_embd * sizeof(uint16_t));
      xh_ = dev_.alloc(VramUse::kScratch, max_tokens_ * std::max(n_ff, n_embd) * sizeof(uint16_t));
      gemm_g_ = dev_.alloc(VramUse::kScratch, max_tokens_ * n_ff * sizeof(float));
      gemm_u_ = dev_.alloc(VramUse::kScratch, max_tokens_ * n_ff * sizeof(float));
      gemm_y_ = dev_.alloc(VramUse::kScratch, max_tokens_ * n_embd * sizeof(float));
      ids_ = dev_.alloc(VramUse::kScratch, max_assign * sizeof(int32_t));
      wts_ = dev_.alloc(VramUse::kScratch, max_assign * sizeof(float));
      host_meta_ = std::make_unique<PinnedBuffer>(max_assign * (sizeof(int32_t) + sizeof(float)));
      const CublasApi& api = cublas_api();
      if (api.error.empty()) {
        check_cublas(api.create(&cublas_.h), "cublasCreate");
        check_cublas(api.set_stream(cublas_.h, dev_.compute()), "cublasSetStream");
      } else {
        gemm_note_ = "no cuBLAS (" + api.error + "): prefill by mat-vecs";
      }
    }
    for (int i = 0; i < kStagingBuffers; ++i) {
      staging_.push_back(std::make_unique<PinnedBuffer>(kStagingChunk));
      staging_done_.push_back(std::make_unique<Event>());
      staging_done_.back()->record(dev_.copy());  // "free" from the start
    }
    slot_ready_.resize(static_cast<size_t>(plan.expert_slots));
    slot_owner_.assign(static_cast<size_t>(plan.expert_slots), -1);
    name_ = "CUDA " + dev_.name();
  }

  Status run(const ExpertBatch& b) override {
    try {
      // The current device is per host thread; the engine thread may not be the creator.
      cuda::check(cudaSetDevice(dev_.index()), "cudaSetDevice");
      Status st = run_on_device(b);
      if (!st.ok()) abandon_call();
      return st;
    } catch (const cuda::CudaError& e) {
      abandon_call();
      return make_error(name_, ": ", e.what());
    }
  }

  void prefetch(int layer, std::span<const int32_t> experts) override {
    try {
      cuda::check(cudaSetDevice(dev_.index()), "cudaSetDevice");
      for (int32_t e : experts) {
        const cuda::VramExpertCache::Place p = cache_.prefetch(layer, e);
        if (p.slot >= 0 && !p.hit && upload(layer, e, p.slot).ok()) ++counters_.prefetch_uploads;
      }
    } catch (const cuda::CudaError&) {
      // A failed prefetch is only a lost hint: the demand path reports the error if it recurs.
    }
  }

  bool wants_prefetch() const override {
    return plan_.expert_slots < model_.n_layer() * model_.hparams().n_expert;
  }
  std::string_view name() const override { return name_; }
  std::string computed_on() const override {
    return name_ + " (" + std::to_string(counters_.hits) + " VRAM hits, " +
           std::to_string(counters_.misses) + " uploads (" +
           std::to_string(counters_.bytes_uploaded) + " bytes), " +
           std::to_string(counters_.prefetch_uploads) + " prefetched, " +
           std::to_string(counters_.gemm_groups) + " GEMM groups" +
           (gemm_note_.empty() ? "" : ", " + gemm_note_) + "; " +
           plan_.describe(model_.n_layer(), model_.hparams().n_expert) + ")";
  }
  LoadWait load_wait() const override { return load_wait_; }

 private:
  struct Counters {
    uint64_t hits = 0, misses = 0, prefetch_uploads = 0, bytes_uploaded = 0, gemm_groups = 0;
  };

  uint8_t* slot_ptr(int slot) const {
    return slots_.as<uint8_t>() + static_cast<size_t>(slot) * plan_.slot_bytes;
  }

  // Copies host bytes into device memory through the staging ring on the copy stream.
  void stage_upload(uint8_t* dst, const uint8_t* src, size_t bytes) {
    for (size_t off = 0; off < bytes; off += kStagingChunk) {
      const size_t n = std::min(kStagingChunk, bytes - off);
      const int k = next_staging_;
      next_staging_ = (next_staging_ + 1) % kStagingBuffers;
      staging_done_[static_cast<size_t>(k)]->synchronize();  // its previous DMA has finished
      std::memcpy(staging_[static_cast<size_t>(k)]->data(), src + off, n);
      cuda::check(cudaMemcpyAsync(dst + off, staging_[static_cast<size_t>(k)]->data(), n,
                                  cudaMemcpyHostToDevice, dev_.copy()),
                  "cudaMemcpyAsync (expert upload)");
      staging_done_[static_cast<size_t>(k)]->record(dev_.copy());
    }
  }

  void upload_matrix(uint8_t* dst, const MatrixView& m, size_t packed_row) {
    if (m.row_stride == packed_row) {
      stage_upload(dst, m.data, packed_row * static_cast<size_t>(m.n_out));
      return;
    }
    for (int64_t r = 0; r < m.n_out; ++r) {
      stage_upload(dst + static_cast<size_t>(r) * packed_row, m.row(r), packed_row);
    }
  }

  // After a failed call: let queued kernels finish (errors here have been reported already)
  // so that no slot of this call is overwritten under them, then free the call's experts.
  void abandon_call() {
    cudaStreamSynchronize(dev_.compute());
    cache_.clear_busy();
  }

  static void check_cublas(cublasStatus_t st, const char* what) {
    if (st != CUBLAS_STATUS_SUCCESS) {
      throw cuda::CudaError(std::string("cuBLAS ") + what + ": " + cublas_api().status_string(st));
    }
  }

  // c [n_tok, m] (row-major f32) = a [n_tok, k] (f16) . w [m, k]^T (f16). cuBLAS is
  // column-major: w is a k x m matrix (ld k) taken transposed, a a k x n_tok one, c m x n_tok.
  void gemm(const uint16_t* w, int64_t m, int64_t k, const uint16_t* a, int n_tok, float* c) {
    const float alpha = 1.0f, beta = 0.0f;
    check_cublas(
        cublas_api().gemm_ex(cublas_.h, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(m), n_tok,
                             static_cast<int>(k), &alpha, w, CUDA_R_16F, static_cast<int>(k), a,
                             CUDA_R_16F, static_cast<int>(k), &beta, c, CUDA_R_32F,
                             static_cast<int>(m), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
        "cublasGemmEx");
  }

  // Assignments [begin, end) of one expert (slot bytes at w) as GEMMs over f16 tiles.
  void run_group_gemm(const ExpertBatch& b, int begin, int end, const uint8_t* w) {
    const cuda::Stream cs = dev_.compute();
    const int n = end - begin;
    const size_t max_assign = host_meta_->bytes() / (sizeof(int32_t) + sizeof(float));
    auto* ids_h = reinterpret_cast<int32_t*>(host_meta_->data()) + begin;
    auto* wts_h =
        reinterpret_cast<float*>(host_meta_->data() + max_assign * sizeof(int32_t)) + begin;
    for (int i = 0; i < n; ++i) {
      ids_h[i] = b.assignments[static_cast<size_t>(begin + i)].token;
      wts_h[i] = b.assignments[static_cast<size_t>(begin + i)].weight;
    }
    int32_t* ids_d = ids_.as<int32_t>() + begin;
    float* wts_d = wts_.as<float>() + begin;
    const size_t nn = static_cast<size_t>(n);
    cuda::check(cudaMemcpyAsync(ids_d, ids_h, nn * sizeof(int32_t), cudaMemcpyHostToDevice, cs),
                "cudaMemcpyAsync (group tokens)");
    cuda::check(cudaMemcpyAsync(wts_d, wts_h, nn * sizeof(float), cudaMemcpyHostToDevice, cs),
                "cudaMemcpyAsync (group weights)");
    auto* wh = wh_.as<uint16_t>();
    auto* xh = xh_.as<uint16_t>();
    float *g = gemm_g_.as<float>(), *u = gemm_u_.as<float>(), *y = gemm_y_.as<float>();
    cuda::gather_f16(x_.as<float>(), ids_d, n, lay_.n_embd, xh, cs);
    cuda::dequant_f16(lay_.gate_t, w, lay_.gate_row, lay_.n_embd, lay_.n_ff, wh, cs);
    gemm(wh, lay_.n_ff, lay_.n_embd, xh, n, g);
    cuda::dequant_f16(lay_.up_t, w + lay_.up_off, lay_.up_row, lay_.n_embd, lay_.n_ff, wh, cs);
    gemm(wh, lay_.n_ff, lay_.n_embd, xh, n, u);
    cuda::swiglu(g, u, g, static_cast<int64_t>(n) * lay_.n_ff, cs);
    cuda::gather_f16(g, nullptr, n, lay_.n_ff, xh, cs);  // h [n, n_ff] as f16
    cuda::dequant_f16(lay_.down_t, w + lay_.down_off, lay_.down_row, lay_.n_ff, lay_.n_embd, wh,
                      cs);
    gemm(wh, lay_.n_embd, lay_.n_ff, xh, n, y);
    cuda::scatter_add_scaled(out_.as<float>(), y, ids_d, wts_d, n, lay_.n_embd, cs);
  }

  int key(int layer, int expert) const { return layer * model_.hparams().n_expert + expert; }

  // (layer, expert) from the store into `slot`; the slot's event marks the end of the DMA.
  // The slot is marked as holding the expert only once the upload is queued: after a failed
  // read the cache may still list it, and the next use uploads it again.
  Status upload(int layer, int expert, int slot) {
    slot_owner_[static_cast<size_t>(slot)] = -1;
    ExpertView v;
    MOE_TRY(store_.acquire(layer, expert, v));
    struct Release {
      ExpertStore& s;
      int l, e;
      ~Release() { s.release(l, e); }
    } release{store_, layer, expert};
    const ExpertWeights& w = *v.weights;
    if (w.gate.type != lay_.gate_t || w.up.type != lay_.up_t || w.down.type != lay_.down_t ||
        w.gate.n_out != lay_.n_ff) {
      return make_error(name_, ": expert ", std::to_string(expert), " of layer ",
                        std::to_string(layer), " differs in weight types or shape from layer 0's");
    }
    uint8_t* dst = slot_ptr(slot);
    upload_matrix(dst, w.gate, lay_.gate_row);
    upload_matrix(dst + lay_.up_off, w.up, lay_.up_row);
    upload_matrix(dst + lay_.down_off, w.down, lay_.down_row);
    auto& ready = slot_ready_[static_cast<size_t>(slot)];
    if (!ready) ready = std::make_unique<Event>();
    ready->record(dev_.copy());
    slot_owner_[static_cast<size_t>(slot)] = key(layer, expert);
    counters_.bytes_uploaded += lay_.bytes;
    return {};
  }

  void publish_cache(CacheEvent::Kind kind, int layer, int expert) {
    if (bus_ == nullptr || !bus_->has_subscribers()) return;
    CacheEvent ev;
    ev.kind = kind;
    ev.layer = static_cast<int16_t>(layer);
    ev.expert = static_cast<int16_t>(expert);
    ev.from_tier = static_cast<uint8_t>(Tier::kRam);
    ev.to_tier = static_cast<uint8_t>(Tier::kVram);
    ev.bytes = kind == CacheEvent::Kind::kMiss ? lay_.bytes : 0;
    bus_->publish(ev);
  }

  Status run_on_device(const ExpertBatch& b) {
    const int n_assign = static_cast<int>(b.assignments.size());
    if (b.layer < 0 || b.layer >= model_.n_layer() || b.n_embd != lay_.n_embd ||
        static_cast<size_t>(b.n_tokens) > max_tokens_ || b.n_tokens < 0) {
      return make_error(name_, ": batch (layer ", std::to_string(b.layer), ", ",
                        std::to_string(b.n_tokens), " tokens, n_embd ", std::to_string(b.n_embd),
                        ") does not match the model or the executor's buffers");
    }
    if (n_assign == 0) return {};
    if (static_cast<size_t>(n_assign) > max_assignments(model_, max_tokens_)) {
      return make_error(name_, ": ", std::to_string(n_assign),
                        " assignments exceed the executor's buffers");
    }
    const int n_expert = model_.hparams().n_expert;
    for (const ExpertAssignment& a : b.assignments) {
      if (a.expert < 0 || a.expert >= n_expert || a.token < 0 || a.token >= b.n_tokens) {
        return make_error(name_, ": assignment (token ", std::to_string(a.token), ", expert ",
                          std::to_string(a.expert), ") out of range");
      }
    }
    const size_t n_embd = static_cast<size_t>(lay_.n_embd);
    const size_t io_bytes = static_cast<size_t>(b.n_tokens) * n_embd * sizeof(float);
    const cuda::Stream cs = dev_.compute();
    std::memcpy(host_io_->data(), b.x, io_bytes);
    cuda::check(cudaMemcpyAsync(x_.get(), host_io_->data(), io_bytes, cudaMemcpyHostToDevice, cs),
                "cudaMemcpyAsync (activations)");
    cuda::check(cudaMemsetAsync(out_.get(), 0, io_bytes, cs), "cudaMemsetAsync");

    const bool same_up = vec_dot_type(lay_.up_t) == vec_dot_type(lay_.gate_t);
    int i = 0;
    while (i < n_assign) {
      const int expert = b.assignments[static_cast<size_t>(i)].expert;
      int end = i + 1;
      while (end < n_assign && b.assignments[static_cast<size_t>(end)].expert == expert) ++end;
      cuda::VramExpertCache::Place p = cache_.use(b.layer, expert);
      if (p.slot < 0) {
        // Every slot of this layer holds an expert of this call: let their kernels finish.
        cuda::check(cudaStreamSynchronize(cs), "cudaStreamSynchronize");
        cache_.clear_busy();
        p = cache_.use(b.layer, expert);
        if (p.slot < 0) {
          return make_error(name_, ": no VRAM slot for expert ", std::to_string(expert),
                            " of layer ", std::to_string(b.layer));
        }
      }
      if (p.hit && slot_owner_[static_cast<size_t>(p.slot)] == key(b.layer, expert)) {
        ++counters_.hits;
        publish_cache(CacheEvent::Kind::kHit, b.layer, expert);
      } else {
        ++counters_.misses;
        publish_cache(CacheEvent::Kind::kMiss, b.layer, expert);
        const auto t0 = std::chrono::steady_clock::now();
        MOE_TRY(upload(b.layer, expert, p.slot));
        load_wait_.measured_s +=
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        ++load_wait_.calls;
      }
      if (const auto& ready = slot_ready_[static_cast<size_t>(p.slot)]) ready->wait_on(cs);
      const uint8_t* w = slot_ptr(p.slot);
      if (end - i >= gemm_min_tokens_ && cublas_.h != nullptr) {
        run_group_gemm(b, i, end, w);
        ++counters_.gemm_groups;
        i = end;
        continue;
      }
      for (int a = i; a < end; ++a) {
        const ExpertAssignment& as = b.assignments[static_cast<size_t>(a)];
        const float* xt = x_.as<float>() + static_cast<size_t>(as.token) * n_embd;
        cuda::quantize_act(lay_.gate_t, xt, act_.get(), lay_.n_embd, cs);
        if (!same_up) cuda::quantize_act(lay_.up_t, xt, act2_.get(), lay_.n_embd, cs);
        cuda::matvec(lay_.gate_t, w, lay_.gate_row, lay_.n_embd, lay_.n_ff, act_.get(),
                     g_.as<float>(), cs);
        cuda::matvec(lay_.up_t, w + lay_.up_off, lay_.up_row, lay_.n_embd, lay_.n_ff,
                     same_up ? act_.get() : act2_.get(), u_.as<float>(), cs);
        cuda::swiglu(g_.as<float>(), u_.as<float>(), g_.as<float>(), lay_.n_ff, cs);
        cuda::quantize_act(lay_.down_t, g_.as<float>(), act_.get(), lay_.n_ff, cs);
        cuda::matvec(lay_.down_t, w + lay_.down_off, lay_.down_row, lay_.n_ff, lay_.n_embd,
                     act_.get(), y_.as<float>(), cs);
        cuda::add_scaled(out_.as<float>() + static_cast<size_t>(as.token) * n_embd, y_.as<float>(),
                         as.weight, lay_.n_embd, cs);
      }
      i = end;
    }
    cuda::check(cudaMemcpyAsync(host_io_->data(), out_.get(), io_bytes, cudaMemcpyDeviceToHost, cs),
                "cudaMemcpyAsync (expert outputs)");
    cuda::check(cudaStreamSynchronize(cs), "cudaStreamSynchronize");
    cache_.clear_busy();
    const auto* y = reinterpret_cast<const float*>(host_io_->data());
    const size_t n = static_cast<size_t>(b.n_tokens) * n_embd;
    for (size_t k = 0; k < n; ++k) b.out[k] += y[k];
    return {};
  }

  const Model& model_;
  ExpertStore& store_;
  SlotLayout lay_;
  cuda::VramPlan plan_;
  size_t max_tokens_;
  int gemm_min_tokens_;
  Device dev_;
  cuda::VramExpertCache cache_;
  DeviceBuffer slots_, x_, out_, act_, act2_, g_, u_, y_;
  // The GEMM path (allocated when a batch can reach gemm_min_tokens): one f16 weight tile, the
  // group's f16 tokens / h, f32 gate, up and down outputs, the group's tokens and weights.
  DeviceBuffer wh_, xh_, gemm_g_, gemm_u_, gemm_y_, ids_, wts_;
  std::unique_ptr<PinnedBuffer> host_io_, host_meta_;
  // Destroyed with the executor, also when its constructor throws after creating it.
  struct Cublas {
    cublasHandle_t h = nullptr;
    Cublas() = default;
    Cublas(const Cublas&) = delete;
    Cublas& operator=(const Cublas&) = delete;
    ~Cublas() {
      if (h) cublas_api().destroy(h);
    }
  } cublas_;
  std::string gemm_note_;  // why the GEMM path is off, when it is
  std::vector<std::unique_ptr<PinnedBuffer>> staging_;
  std::vector<std::unique_ptr<Event>> staging_done_;
  int next_staging_ = 0;
  std::vector<std::unique_ptr<Event>> slot_ready_;  // [slot] end of its last upload
  std::vector<int> slot_owner_;                     // [slot] key() of its contents, -1: none
  std::string name_;
  Counters counters_;
  LoadWait load_wait_;
};

}  // namespace

Result<std::unique_ptr<ExpertExecutor>> make_cuda_expert_executor(const Model& model,
                                                                  ExpertStore& store,
                                                                  const CudaExecutorOptions& o) {
  const CudaInventory inv = cuda_inventory();
  if (o.device < 0 || o.device >= static_cast<int>(inv.devices.size())) {
    return make_error("CUDA device ", std::to_string(o.device), " not present",
                      inv.note.empty() ? "" : " (" + inv.note + ")");
  }
  const HParams& hp = model.hparams();
  if (model.n_layer() == 0 || model.layer(0).experts.empty()) {
    return make_error("CUDA executor: the model has no experts");
  }
  const SlotLayout lay = layout_of(model.layer(0).experts[0]);
  for (GgmlType t : {lay.gate_t, lay.up_t, lay.down_t}) {
    if (!cuda::has_matvec(t)) {
      return make_error("CUDA executor: expert weights of type ", std::string(type_name(t)),
                        " have no CUDA kernel yet (Q4_0, Q8_0, Q4_K, Q6_K do)");
    }
  }
  cuda::VramNeeds needs;
  needs.slot_bytes = lay.bytes;
  needs.n_layer = model.n_layer();
  needs.n_expert = hp.n_expert;
  const size_t tokens = static_cast<size_t>(std::max(1, o.max_tokens));
  needs.scratch_bytes = 2 * tokens * static_cast<size_t>(lay.n_embd) * sizeof(float) +
                        2 * std::max(max_act_row_bytes(lay.n_embd), max_act_row_bytes(lay.n_ff)) +
                        (2 * static_cast<size_t>(lay.n_ff) + lay.n_embd) * sizeof(float);
  if (tokens >= static_cast<size_t>(std::max(2, o.gemm_min_tokens))) {
    const size_t n_embd = static_cast<size_t>(lay.n_embd), n_ff = static_cast<size_t>(lay.n_ff);
    const size_t max_assign = max_assignments(model, tokens);
    needs.scratch_bytes += n_ff * n_embd * 2 + tokens * std::max(n_ff, n_embd) * 2 +
                           tokens * (2 * n_ff + n_embd) * sizeof(float) + max_assign * 8;
  }
  auto plan =
      cuda::plan_vram(needs, o.vram_budget, inv.devices[static_cast<size_t>(o.device)].free_bytes);
  if (!plan.ok()) return plan.error();
  try {
    return std::unique_ptr<ExpertExecutor>(
        std::make_unique<CudaExpertExecutor>(model, store, o, lay, *plan));
  } catch (const cuda::CudaError& e) {
    return make_error(e.what());
  }
}

}  // namespace moe
