#include "core/engine_api/trace_writer.h"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>
#include <vector>

namespace moe {
namespace {

template <class T, size_t N>
nlohmann::json head(const std::array<T, N>& a, int n) {
  nlohmann::json j = nlohmann::json::array();
  for (int i = 0; i < n && i < static_cast<int>(N); ++i) j.push_back(a[static_cast<size_t>(i)]);
  return j;
}

const char* cache_kind(CacheEvent::Kind k) {
  switch (k) {
    case CacheEvent::Kind::kHit: return "hit";
    case CacheEvent::Kind::kMiss: return "miss";
    case CacheEvent::Kind::kPrefetchIssued: return "prefetch_issued";
    case CacheEvent::Kind::kPrefetchUsed: return "prefetch_used";
    case CacheEvent::Kind::kEvict: return "evict";
    case CacheEvent::Kind::kLoaded: return "loaded";
    case CacheEvent::Kind::kPrefetchWasted: return "prefetch_wasted";
  }
  return "?";
}

const char* device_kind(DeviceEvent::Kind k) {
  switch (k) {
    case DeviceEvent::Kind::kJoined: return "joined";
    case DeviceEvent::Kind::kLeft: return "left";
    case DeviceEvent::Kind::kTimeout: return "timeout";
    case DeviceEvent::Kind::kRpc: return "rpc";
  }
  return "?";
}

struct ToJson {
  nlohmann::json operator()(const RoutingEvent& e) const {
    return {{"type", "routing"}, {"step", e.step}, {"pos", e.pos}, {"layer", e.layer},
            {"logits", head(e.logits, e.n_expert)}, {"experts", head(e.chosen, e.n_chosen)},
            {"weights", head(e.weights, e.n_chosen)}};
  }
  nlohmann::json operator()(const SelectionEvent& e) const {
    return {{"type", "selection"}, {"step", e.step}, {"pos", e.pos}, {"layer", e.layer},
            {"theta", e.theta}, {"kappa", e.kappa}, {"kept", head(e.kept, e.n_kept)},
            {"dropped", head(e.dropped, e.n_dropped)},
            {"kept_latency_s", head(e.kept_latency_s, e.n_kept)},
            {"token_latency_s", e.token_latency_s}};
  }
  nlohmann::json operator()(const TimingEvent& e) const {
    return {{"type", "timing"}, {"step", e.step},
            {"phase", e.phase == StepPhase::kPrefill ? "prefill" : "decode"},
            {"n_tokens", e.n_tokens}, {"total_s", e.total_s}, {"attention_s", e.attention_s},
            {"experts_s", e.experts_s}, {"head_s", e.head_s},
            {"predicted_load_s", e.predicted_load_s}, {"measured_load_s", e.measured_load_s},
            {"layer_ms", head(e.layer_ms, e.n_layer)}};
  }
  nlohmann::json operator()(const CacheEvent& e) const {
    return {{"type", "cache"}, {"kind", cache_kind(e.kind)}, {"layer", e.layer},
            {"expert", e.expert}, {"from_tier", e.from_tier}, {"to_tier", e.to_tier},
            {"flags", e.flags}, {"bytes", e.bytes}, {"seconds", e.seconds}};
  }
  nlohmann::json operator()(const DeviceEvent& e) const {
    return {{"type", "device"}, {"kind", device_kind(e.kind)}, {"device", e.device},
            {"rtt_s", e.rtt_s}, {"compute_s", e.compute_s}, {"bytes", e.bytes},
            {"tokens", e.tokens}, {"assignments", e.assignments},
            {"experts_held", e.experts_held}, {"insecure", e.insecure != 0},
            {"address", e.address.data()}, {"identity", e.identity.data()}};
  }
  nlohmann::json operator()(const GenerationEvent& e) const {
    return {{"type", "generation"}, {"first_step", e.first_step}, {"last_step", e.last_step},
            {"prompt_tokens", e.prompt_tokens}, {"generated_tokens", e.generated_tokens},
            {"prompt_s", e.prompt_s}, {"decode_s", e.decode_s}};
  }
};

}  // namespace

std::string event_to_json(const Event& e) { return std::visit(ToJson{}, e).dump(); }

Result<std::unique_ptr<TraceWriter>> TraceWriter::start(const std::string& path, EventBus& bus) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) {
    return make_error("cannot open trace file '", path, "': ", std::strerror(errno));
  }
  return std::unique_ptr<TraceWriter>(new TraceWriter(f, bus));
}

TraceWriter::TraceWriter(std::FILE* f, EventBus& bus)
    : file_(f), bus_(bus), queue_(bus.subscribe(1 << 18)) {
  thread_ = std::thread([this] { run(); });
}

TraceWriter::~TraceWriter() {
  stop_ = true;
  thread_.join();
  bus_.unsubscribe(queue_);
  std::vector<Event> buf;
  drain_once(buf);  // events published between the thread's last drain and unsubscribe
  const std::string extra = end_fields_ ? end_fields_() : std::string();
  std::fprintf(file_, "{\"type\":\"trace_end\",\"events\":%llu,\"dropped\":%llu%s}\n",
               static_cast<unsigned long long>(written_.load()),
               static_cast<unsigned long long>(queue_->dropped()), extra.c_str());
  std::fclose(file_);
}

size_t TraceWriter::drain_once(std::vector<Event>& buf) {
  buf.clear();
  const size_t n = queue_->drain(buf);
  for (const Event& e : buf) {
    const std::string line = event_to_json(e);
    std::fwrite(line.data(), 1, line.size(), file_);
    std::fputc('\n', file_);
  }
  written_ += n;
  return n;
}

void TraceWriter::run() {
  std::vector<Event> buf;
  buf.reserve(4096);
  while (!stop_.load()) {
    if (drain_once(buf) == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  drain_once(buf);
  std::fflush(file_);
}

}  // namespace moe
