#include "core/offload/calibrate.h"

#include <fcntl.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <numeric>
#include <random>
#include <thread>
#include <vector>

#include "core/engine/session_ops.h"
#include "core/model/memory_plan.h"
#include "core/quant/kernel_tuning.h"
#include "core/quant/quant.h"
#include "core/store/expert_reads.h"
#include "core/util/file_lock.h"
#include "core/util/percentile.h"
#include "core/util/regular_file.h"

namespace moe {
namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

struct FreeDeleter {
  void operator()(uint8_t* p) const { std::free(p); }
};
using AlignedBuffer = std::unique_ptr<uint8_t, FreeDeleter>;
AlignedBuffer aligned_buffer(uint64_t bytes) {
  const uint64_t n = DirectReader::align_up(std::max<uint64_t>(bytes, 1));
  auto* p = static_cast<uint8_t*>(std::aligned_alloc(DirectReader::kAlign, n));
  if (p != nullptr) std::memset(p, 0, n);  // touched: no page faults inside a timing
  return AlignedBuffer(p);
}

// What one timed read reads: an expert of the model (as the store reads it), or `w` bytes at
// a spread offset of a plain file. Consecutive reads land far apart (a stride coprime to the
// number of places), so no read continues where the previous one stopped.
class ReadPlan {
 public:
  ReadPlan(const Model* model, uint64_t file_size, uint64_t w) : model_(model), w_(w) {
    n_ = model ? static_cast<uint64_t>(model->n_layer()) * model->layer(0).experts.size()
               : std::max<uint64_t>(1, (file_size - w) / w + 1);
    stride_ = std::max<uint64_t>(1, static_cast<uint64_t>(static_cast<double>(n_) * 0.618));
    while (std::gcd(stride_, n_) != 1) ++stride_;
  }
  ExpertRanges ranges(uint64_t i) const {
    const uint64_t at = (i * stride_) % n_;
    if (model_) {
      const auto n_expert = static_cast<uint64_t>(model_->layer(0).experts.size());
      return expert_ranges(*model_, static_cast<int>(at / n_expert),
                           static_cast<int>(at % n_expert));
    }
    return {ByteRange{DirectReader::align_down(at * w_), w_}, ByteRange{}, ByteRange{}};
  }
  // ExpertWeights of read i (model only).
  const ExpertWeights& weights(uint64_t i) const {
    const uint64_t at = (i * stride_) % n_;
    const auto n_expert = static_cast<uint64_t>(model_->layer(0).experts.size());
    return model_->layer(static_cast<int>(at / n_expert)).experts[at % n_expert];
  }

 private:
  const Model* model_;
  uint64_t w_, n_ = 1, stride_ = 1;
};

// One read through the store's path; in the buffered fallback the range is dropped from the
// page cache first, so the read comes from the disk too.
Status timed_read(const DirectReader& r, const ExpertRanges& ranges, uint8_t* buf) {
  if (!r.direct()) {
    for (const ByteRange& b : ranges) {
      if (b.len > 0) {
        posix_fadvise(r.fd(), static_cast<off_t>(b.offset), static_cast<off_t>(b.len),
                      POSIX_FADV_DONTNEED);
      }
    }
  }
  return read_expert(r, ranges, buf);
}

// One decode token through one expert on this thread, as the CPU executor's decode path does
// it per expert group: x -> gate, up (all rows) -> h = silu(gate) * up -> down.
class ExpertDecode {
 public:
  explicit ExpertDecode(const ExpertWeights& w)
      : n_embd_(w.gate.n_in),
        n_ff_(w.gate.n_out),
        act_x_(max_act_row_bytes(n_embd_)),
        act_u_(act_x_.size()),
        act_h_(max_act_row_bytes(n_ff_)),
        x_(static_cast<size_t>(n_embd_)),
        h_(static_cast<size_t>(n_ff_)),
        u_(h_.size()),
        y_(x_.size()) {
    std::mt19937 rng(11);
    std::normal_distribution<float> d(0, 1);
    for (float& v : x_) v = d(rng);
  }
  void run(const ExpertWeights& w) {
    quantize_activation(w.gate.type, x_.data(), act_x_.data(), n_embd_);
    const bool same = vec_dot_type(w.up.type) == vec_dot_type(w.gate.type);
    if (!same) quantize_activation(w.up.type, x_.data(), act_u_.data(), n_embd_);
    matmul_rows(w.gate.type, w.gate.data, w.gate.row_stride, n_embd_, 0, n_ff_, act_x_.data(),
                act_x_.size(), 1, h_.data(), h_.size());
    matmul_rows(w.up.type, w.up.data, w.up.row_stride, n_embd_, 0, n_ff_,
                same ? act_x_.data() : act_u_.data(), act_x_.size(), 1, u_.data(), u_.size());
    for (size_t r = 0; r < h_.size(); ++r) h_[r] = ops::silu(h_[r]) * u_[r];
    quantize_activation(w.down.type, h_.data(), act_h_.data(), n_ff_);
    matmul_rows(w.down.type, w.down.data, w.down.row_stride, n_ff_, 0, n_embd_, act_h_.data(),
                act_h_.size(), 1, y_.data(), y_.size());
  }

 private:
  int64_t n_embd_, n_ff_;
  std::vector<uint8_t> act_x_, act_u_, act_h_;
  std::vector<float> x_, h_, u_, y_;
};

// memcpy of w-byte blocks from a source of at least 64 MiB (so it comes from RAM, not cache)
// into one work buffer: the median rate, bytes/s.
Result<double> measure_copy(uint64_t w, double seconds) {
  const uint64_t n_src = std::max<uint64_t>(1, (uint64_t{64} << 20) / w);
  AlignedBuffer src = aligned_buffer(n_src * w), dst = aligned_buffer(w);
  if (!src || !dst) return Error{"out of memory for the copy measurement"};
  std::vector<double> rates;
  const auto t_all = Clock::now();
  for (uint64_t i = 0; rates.size() < 5 || (since(t_all) < seconds && rates.size() < 200); ++i) {
    const auto t0 = Clock::now();
    std::memcpy(dst.get(), src.get() + (i % n_src) * w, w);
    const double s = since(t0);
    if (s > 0) rates.push_back(static_cast<double>(w) / s);
  }
  return median(rates);
}

Result<OffloadCalibration> measure(const Model* model, const std::string& read_file, uint64_t w,
                                   const CalibrateOptions& o) {
  const auto t_start = Clock::now();
  OffloadCalibration c;
  c.cpu = cpu_identity().describe();
  auto dev = describe_device(read_file);
  if (!dev.ok()) return dev.error();
  c.device = *dev;
  c.file = read_file;
  c.expert = model ? expert_shape(*model) : "";
  c.read_bytes = w;
  auto reader = DirectReader::open(read_file);
  if (!reader.ok()) return reader.error();
  const DirectReader& r = **reader;
  if (r.file_size() < w) {
    return make_error(read_file, ": the file has ", std::to_string(r.file_size()),
                      " bytes, less than one read of ", std::to_string(w));
  }
  const ReadPlan plan(model, r.file_size(), w);
  // A ring of slot buffers, so that the compute timing below streams weights from RAM.
  const size_t ring = static_cast<size_t>(std::clamp<uint64_t>((uint64_t{64} << 20) / w, 1, 8));
  std::vector<AlignedBuffer> bufs;
  for (size_t i = 0; i < ring; ++i) {
    bufs.push_back(aligned_buffer(w));
    if (!bufs.back()) return Error{"out of memory for the read buffers"};
  }
  // s_dc, one load at a time. The first read (untimed) sizes the rest.
  auto t0 = Clock::now();
  MOE_TRY(timed_read(r, plan.ranges(0), bufs[0].get()));
  const double first = std::max(since(t0), 1e-6);
  c.io = r.note();
  const int n1 = std::clamp(static_cast<int>(0.45 * o.seconds / first), 5, 40);
  std::vector<double> times;
  for (int i = 1; i <= n1; ++i) {
    t0 = Clock::now();
    MOE_TRY(timed_read(r, plan.ranges(static_cast<uint64_t>(i)),
                       bufs[static_cast<size_t>(i) % ring].get()));
    times.push_back(since(t0));
  }
  c.reads = n1;
  c.read_s = median(times);
  c.read_s_min = *std::min_element(times.begin(), times.end());
  c.read_s_max = *std::max_element(times.begin(), times.end());
  c.read_s_mean =
      std::accumulate(times.begin(), times.end(), 0.0) / static_cast<double>(times.size());
  // s_dc with the store's I/O threads reading at once (other experts than above).
  c.parallel_readers = std::max(1, o.io_threads);
  if (c.parallel_readers > 1) {
    const int per =
        std::clamp(static_cast<int>(0.25 * o.seconds / first / c.parallel_readers), 3, 20);
    std::vector<AlignedBuffer> pbufs;
    for (int t = 0; t < c.parallel_readers; ++t) {
      pbufs.push_back(aligned_buffer(w));
      if (!pbufs.back()) return Error{"out of memory for the read buffers"};
    }
    std::vector<Status> st(static_cast<size_t>(c.parallel_readers));
    std::vector<std::thread> threads;
    t0 = Clock::now();
    for (int t = 0; t < c.parallel_readers; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < per && st[static_cast<size_t>(t)].ok(); ++i) {
          const auto k = static_cast<uint64_t>(n1 + 1 + t * per + i);
          st[static_cast<size_t>(t)] =
              timed_read(r, plan.ranges(k), pbufs[static_cast<size_t>(t)].get());
        }
      });
    }
    for (std::thread& t : threads) t.join();
    const double wall = since(t0);
    for (const Status& s : st) MOE_TRY(s);
    c.parallel_bytes_per_s =
        wall > 0 ? static_cast<double>(w) * per * c.parallel_readers / wall : 0;
  }
  // s_cg: RAM -> a work buffer.
  auto copy = measure_copy(w, 0.1 * o.seconds);
  if (!copy.ok()) return copy.error();
  c.s_cg = *copy;
  // Compute: the experts left in the ring by the timed reads, weights in RAM.
  if (model) {
    std::vector<ExpertWeights> views;
    const auto last = static_cast<uint64_t>(n1);
    for (uint64_t b = 0; b < ring && b <= last; ++b) {
      const uint64_t i = last - (last - b) % ring;  // the last read i that went to bufs[i % ring]
      views.push_back(expert_views(plan.weights(i), plan.ranges(i), bufs[b].get()));
    }
    ExpertDecode dec(views[0]);
    dec.run(views[0]);  // warm the code paths
    std::vector<double> ct;
    const auto t_all = Clock::now();
    for (size_t i = 0; ct.size() < 5 || (since(t_all) < 0.3 * o.seconds && ct.size() < 100); ++i) {
      t0 = Clock::now();
      dec.run(views[i % views.size()]);
      ct.push_back(since(t0));
    }
    c.compute_s = median(ct);
  }
  c.calibration_s = since(t_start);
  c.source = "measured";
  return c;
}

}  // namespace

Result<CalibrateResult> calibrate_offload(const CalibrateOptions& o) {
  if (o.model_path.empty() && o.file_path.empty()) {
    return Error{"give a model (-m MODEL) or a file to time reads on (--file PATH)"};
  }
  std::unique_ptr<Model> model;
  if (!o.model_path.empty()) {
    auto f = RegularFile::open(o.model_path, "model file");
    if (!f.ok()) return f.error();
    auto m = Model::load(o.model_path);
    if (!m.ok()) return m.error();
    model = std::move(m).value();
    if (!model->hparams().moe || model->n_layer() == 0 || model->layer(0).experts.empty()) {
      return make_error(o.model_path, ": not a mixture-of-experts model (no experts to offload)");
    }
  }
  const std::string read_file = o.file_path.empty() ? o.model_path : o.file_path;
  if (!o.file_path.empty()) {
    auto f = RegularFile::open(o.file_path, "file to time reads on");
    if (!f.ok()) return f.error();
  }
  const uint64_t w = model
                         ? max_expert_read_bytes(*model)
                         : DirectReader::align_up(o.read_bytes ? o.read_bytes : uint64_t{8} << 20);
  const std::string shape = model ? expert_shape(*model) : "";
  CalibrateResult out;
  auto path = calibration_cache_path(read_file, w, shape);
  std::unique_ptr<FileLock> lock;
  if (path.ok()) {
    out.cache_path = *path;
    lock = std::make_unique<FileLock>(*path + ".lock");
    if (!o.force) {
      bool missing = false;
      auto cached = load_calibration(*path, read_file, w, shape, &missing);
      if (cached.ok()) {
        out.calibration = std::move(cached).value();
        return out;
      }
      if (!missing) out.note = "ignoring " + cached.message() + "; measuring again";
    }
  } else {
    out.note = "not cached: " + path.message();
  }
  auto c = measure(model.get(), read_file, w, o);
  if (!c.ok()) return c.error();
  out.calibration = std::move(c).value();
  if (!out.cache_path.empty()) {
    if (Status s = save_calibration(out.cache_path, out.calibration); !s.ok()) {
      out.note += (out.note.empty() ? "" : "; ") + std::string("not cached: ") + s.message();
      out.cache_path.clear();
    }
  }
  return out;
}

}  // namespace moe
