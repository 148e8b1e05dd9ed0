// Every CUDA kernel against its CPU twin (core/cuda/kernels.h) at several sizes, as yalm's CUDA
// tests do. Without a device (or without the CUDA backend) each test skips with the reason.
// Tolerances: the integer block sums are exact on both sides; what differs is the order of the
// float sums (warp reductions) and fused multiply-adds, so mat-vec outputs agree to 1e-5 of
// their magnitude sum, and the elementwise kernels to a few float ulps.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "core/cuda/kernels.h"
#include "tests/core/cuda/cuda_test_support.h"

#ifdef MOE_HAVE_CUDA
#include <cuda_runtime.h>

#include "core/cuda/cuda_error.h"
#include "core/engine/session_ops.h"
#endif

namespace moe {
namespace {

#ifdef MOE_HAVE_CUDA

// A device copy of a host vector, freed at scope end.
template <class T>
struct Dev {
  T* p = nullptr;
  size_t n = 0;
  explicit Dev(const std::vector<T>& h) : n(h.size()) {
    cuda::check(cudaMalloc(&p, n * sizeof(T)), "cudaMalloc");
    cuda::check(cudaMemcpy(p, h.data(), n * sizeof(T), cudaMemcpyHostToDevice), "cudaMemcpy");
  }
  explicit Dev(size_t count) : n(count) {
    cuda::check(cudaMalloc(&p, n * sizeof(T)), "cudaMalloc");
    cuda::check(cudaMemset(p, 0, n * sizeof(T)), "cudaMemset");
  }
  ~Dev() { cudaFree(p); }
  std::vector<T> get() const {
    cuda::check(cudaDeviceSynchronize(), "kernel");
    std::vector<T> h(n);
    cuda::check(cudaMemcpy(h.data(), p, n * sizeof(T), cudaMemcpyDeviceToHost), "cudaMemcpy");
    return h;
  }
};

void expect_close(const std::vector<float>& got, const std::vector<float>& want, double rel,
                  const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  double scale = 0;
  for (float v : want) scale = std::max(scale, std::fabs(static_cast<double>(v)));
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_NEAR(got[i], want[i], rel * scale + 1e-7) << what << " at " << i;
  }
}

TEST(CudaParity, Matvec) {
  MOE_SKIP_WITHOUT_CUDA_DEVICE();
  for (GgmlType type : cuda_test::matvec_types()) {
    for (const auto& sz : cuda_test::matvec_sizes()) {
      const std::string what = std::string(type_name(type)) + " n " + std::to_string(sz.n) +
                               " rows " + std::to_string(sz.rows);
      const auto w = cuda_test::random_rows(type, sz.n, sz.rows, 3);
      const auto act = cuda_test::prepared_activation(
          type, cuda_test::random_floats(static_cast<size_t>(sz.n), 9));
      const size_t rb = row_bytes(type, sz.n);
      std::vector<float> want(static_cast<size_t>(sz.rows));
      cuda::twin::matvec(type, w.data(), rb, sz.n, sz.rows, act.data(), want.data());
      Dev<uint8_t> dw(w), da(act);
      Dev<float> dout(want.size());
      cuda::matvec(type, dw.p, rb, sz.n, sz.rows, da.p, dout.p, nullptr);
      expect_close(dout.get(), want, 1e-5, what);
    }
  }
}

TEST(CudaParity, DequantF16GatherScatter) {
  MOE_SKIP_WITHOUT_CUDA_DEVICE();
  for (GgmlType type : cuda_test::matvec_types()) {
    for (const auto& sz : cuda_test::matvec_sizes()) {
      const auto w = cuda_test::random_rows(type, sz.n, sz.rows, 31);
      const size_t rb = row_bytes(type, sz.n);
      std::vector<uint16_t> want(static_cast<size_t>(sz.n * sz.rows));
      cuda::twin::dequant_f16(type, w.data(), rb, sz.n, sz.rows, want.data());
      Dev<uint8_t> dw(w);
      Dev<uint16_t> dout(want.size());
      cuda::dequant_f16(type, dw.p, rb, sz.n, sz.rows, dout.p, nullptr);
      EXPECT_EQ(dout.get(), want) << type_name(type) << " n " << sz.n << " rows " << sz.rows;
    }
  }
  const int64_t n = 4096;
  const auto x = cuda_test::random_floats(static_cast<size_t>(n) * 5, 8);
  const std::vector<int32_t> rows{4, 0, 2};
  const std::vector<float> wts{0.25f, 0.5f, 0.125f};
  std::vector<uint16_t> g(static_cast<size_t>(n) * 3);
  cuda::twin::gather_f16(x.data(), rows.data(), 3, n, g.data());
  Dev<float> dx(x), dy(std::vector<float>(x.begin(), x.begin() + 3 * n));
  Dev<int32_t> dr(rows);
  Dev<float> dwts(wts);
  Dev<uint16_t> dg(g.size());
  cuda::gather_f16(dx.p, dr.p, 3, n, dg.p, nullptr);
  EXPECT_EQ(dg.get(), g);
  std::vector<float> out = x;
  cuda::twin::scatter_add_scaled(out.data(), x.data(), rows.data(), wts.data(), 3, n);
  cuda::scatter_add_scaled(dx.p, dy.p, dr.p, dwts.p, 3, n, nullptr);
  expect_close(dx.get(), out, 1e-6, "scatter_add_scaled");
}

TEST(CudaParity, ActivationQuantizationIsByteIdentical) {
  MOE_SKIP_WITHOUT_CUDA_DEVICE();
  for (GgmlType type : cuda_test::matvec_types()) {
    for (int64_t n : {256, 4096, 14336}) {
      const auto x = cuda_test::random_floats(static_cast<size_t>(n), 21);
      std::vector<uint8_t> want(row_bytes(vec_dot_type(type), n));
      cuda::twin::quantize_act(type, x.data(), want.data(), n);
      Dev<float> dx(x);
      Dev<uint8_t> dq(want.size());
      cuda::quantize_act(type, dx.p, dq.p, n, nullptr);
      const auto got = dq.get();
      EXPECT_EQ(0, std::memcmp(got.data(), want.data(), want.size()))
          << type_name(type) << " n " << n;
    }
  }
}

TEST(CudaParity, RmsNormRopeSwigluAddScaled) {
  MOE_SKIP_WITHOUT_CUDA_DEVICE();
  for (int n : {64, 1024, 4096, 14336}) {
    const auto x = cuda_test::random_floats(static_cast<size_t>(n), 1);
    const auto w = cuda_test::random_floats(static_cast<size_t>(n), 2);
    std::vector<float> want(static_cast<size_t>(n));
    cuda::twin::rms_norm(x.data(), w.data(), 1e-5f, n, want.data());
    Dev<float> dx(x), dw(w), dout(want.size());
    cuda::rms_norm(dx.p, dw.p, 1e-5f, n, dout.p, nullptr);
    expect_close(dout.get(), want, 1e-6, "rms_norm n " + std::to_string(n));

    std::vector<float> h(static_cast<size_t>(n));
    cuda::twin::swiglu(x.data(), w.data(), h.data(), n);
    cuda::swiglu(dx.p, dw.p, dout.p, n, nullptr);
    expect_close(dout.get(), h, 1e-6, "swiglu n " + std::to_string(n));

    std::vector<float> acc = w;
    cuda::twin::add_scaled(acc.data(), x.data(), 0.37f, n);
    cuda::add_scaled(dw.p, dx.p, 0.37f, n, nullptr);
    expect_close(dw.get(), acc, 1e-6, "add_scaled n " + std::to_string(n));
  }
  for (int heads : {1, 8, 32}) {
    const int hd = 128, n_rot = 128;
    auto q = cuda_test::random_floats(static_cast<size_t>(heads) * hd, 4);
    std::vector<float> cs(n_rot), inv_freq(n_rot / 2);
    for (int i = 0; i < n_rot / 2; ++i) inv_freq[i] = std::pow(10000.0f, -2.0f * i / n_rot);
    ops::rope_angles(inv_freq.data(), 1.0f, 1234, n_rot, cs.data());
    Dev<float> dq(q), dcs(cs);
    cuda::twin::rope(q.data(), heads, hd, n_rot, cs.data());
    cuda::rope(dq.p, heads, hd, n_rot, dcs.p, nullptr);
    expect_close(dq.get(), q, 1e-6, "rope heads " + std::to_string(heads));
  }
}

TEST(CudaParity, RouterTopK) {
  MOE_SKIP_WITHOUT_CUDA_DEVICE();
  for (int n_expert : {8, 64, 256}) {
    for (int k : {1, 2, 8}) {
      auto logits = cuda_test::random_floats(static_cast<size_t>(n_expert), 7 + n_expert);
      logits[1] = logits[0];  // a tie: the lower index first on both sides
      std::vector<int32_t> ids(static_cast<size_t>(k));
      std::vector<float> w(static_cast<size_t>(k));
      cuda::twin::router_topk(logits.data(), n_expert, k, ids.data(), w.data());
      Dev<float> dl(logits), dw(w.size());
      Dev<int32_t> di(ids.size());
      cuda::router_topk(dl.p, n_expert, k, di.p, dw.p, nullptr);
      EXPECT_EQ(di.get(), ids) << n_expert << " experts, k " << k;
      expect_close(dw.get(), w, 1e-6, "router weights");
    }
  }
}

TEST(CudaParity, DecodeAttention) {
  MOE_SKIP_WITHOUT_CUDA_DEVICE();
  struct Shape {
    int n_pos, n_head, n_head_kv, hd;
  };
  for (const Shape s :
       {Shape{1, 4, 4, 64}, Shape{37, 8, 2, 64}, Shape{512, 32, 8, 128}, Shape{2048, 32, 8, 128}}) {
    const size_t stride = static_cast<size_t>(s.n_head_kv) * s.hd;
    const auto q = cuda_test::random_floats(static_cast<size_t>(s.n_head) * s.hd, 1);
    const auto k = cuda_test::random_floats(stride * s.n_pos, 2);
    const auto v = cuda_test::random_floats(stride * s.n_pos, 3);
    const float scale = 1.0f / std::sqrt(static_cast<float>(s.hd));
    std::vector<float> scratch(static_cast<size_t>(s.n_head) * s.n_pos);
    std::vector<float> want(q.size());
    cuda::twin::attention_decode(q.data(), k.data(), v.data(), stride, s.n_pos, s.n_head,
                                 s.n_head_kv, s.hd, scale, scratch.data(), want.data());
    Dev<float> dq(q), dk(k), dv(v), ds(scratch.size()), dout(want.size());
    cuda::attention_decode(dq.p, dk.p, dv.p, stride, s.n_pos, s.n_head, s.n_head_kv, s.hd, scale,
                           ds.p, dout.p, nullptr);
    expect_close(dout.get(), want, 1e-5, "attention n_pos " + std::to_string(s.n_pos));
  }
}

TEST(CudaParity, UnsupportedTypeIsAClearError) {
  MOE_SKIP_WITHOUT_CUDA_DEVICE();
  try {
    cuda::matvec(GgmlType::Q5_K, nullptr, 0, 256, 1, nullptr, nullptr, nullptr);
    FAIL() << "expected CudaError";
  } catch (const cuda::CudaError& e) {
    EXPECT_NE(std::string(e.what()).find("Q5_K"), std::string::npos) << e.what();
  }
}

#else

TEST(CudaParity, SkippedWithoutTheCudaBackend) {
  GTEST_SKIP() << "no CUDA device: " << cuda_inventory().note;
}

#endif

}  // namespace
}  // namespace moe
