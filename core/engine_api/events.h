#pragma once
// The event stream (design §6): plain fixed-size structs the engine publishes without ever
// waiting on a listener. Each subscriber gets its own bounded ring; when a ring is full the
// event is dropped for that subscriber and counted. Consumers: the dashboard (drained on a
// timer), the JSONL trace writer, benchmarks.
#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>
#include <variant>
#include <vector>

namespace moe {

constexpr int kMaxEventExperts = 64;  ///< router logits carried per routing event
constexpr int kMaxEventK = 8;         ///< experts chosen/dropped carried per event

/// Router output and the experts used for one token at one MoE layer.
struct RoutingEvent {
  uint64_t step = 0;    ///< generation step (one per forward call)
  int32_t pos = 0;      ///< token position in the context
  int16_t layer = 0;
  int16_t n_expert = 0;
  int16_t n_chosen = 0;
  std::array<float, kMaxEventExperts> logits{};
  std::array<int16_t, kMaxEventK> chosen{};
  std::array<float, kMaxEventK> weights{};  ///< renormalised over the chosen
};

/// A WDMoE θ-rule decision (Algorithm 1) for one token at one layer.
struct SelectionEvent {
  uint64_t step = 0;
  int32_t pos = 0;
  int16_t layer = 0;
  int16_t n_kept = 0, n_dropped = 0;
  float theta = 0, kappa = 0;                 ///< κ of the kept set (WDMoE eq. 10)
  std::array<int16_t, kMaxEventK> kept{}, dropped{};
  std::array<float, kMaxEventK> kept_latency_s{};  ///< t_q of each kept expert (eq. 6)
  float token_latency_s = 0;                  ///< max over kept (eq. 7)
};

enum class StepPhase : uint8_t { kPrefill, kDecode };

/// Timing of one forward call (a prefill batch or one decoded token).
struct TimingEvent {
  uint64_t step = 0;
  StepPhase phase = StepPhase::kDecode;
  int32_t n_tokens = 0;
  double total_s = 0;
  double attention_s = 0, experts_s = 0, head_s = 0;
  /// Expert-load wait of this call: predicted by the latency model before each layer's loads
  /// (from its routing and the residency then), and measured (time in the store's acquire).
  double predicted_load_s = 0, measured_load_s = 0;
  int16_t n_layer = 0;
  std::array<float, 64> layer_ms{};  ///< per-layer wall time, first n_layer entries
};

/// Expert cache/tier activity of the tiered store (tiered_expert_store.h).
struct CacheEvent {
  /// kLoaded: a disk read finished (bytes read, seconds of the read); the expert is now in RAM
  /// unless the load was transient (a demand beyond the layer's slots, freed at release).
  /// kPrefetchWasted: a prefetched expert left RAM (or its read failed) before any use.
  enum class Kind : uint8_t {
    kHit, kMiss, kPrefetchIssued, kPrefetchUsed, kEvict, kLoaded, kPrefetchWasted
  };
  static constexpr uint8_t kPinned = 1;     ///< flags: the policy keeps this expert fixed
  static constexpr uint8_t kTransient = 2;  ///< flags (kLoaded): freed at release, not cached
  Kind kind = Kind::kHit;
  int16_t layer = 0, expert = 0;
  uint8_t from_tier = 0, to_tier = 0;  ///< 0 VRAM, 1 RAM, 2 disk
  uint8_t flags = 0;
  uint64_t bytes = 0;
  double seconds = 0;
};

constexpr int kDeviceTextBytes = 48;  ///< NUL-terminated text fields of a DeviceEvent

/// LAN device activity (netlink/remote_expert_executor.h). Text fields are fixed-size and
/// NUL-terminated (events are plain values); kJoined carries the identity, kRpc the traffic.
struct DeviceEvent {
  enum class Kind : uint8_t { kJoined, kLeft, kTimeout, kRpc };
  Kind kind = Kind::kRpc;
  uint32_t device = 0;
  double rtt_s = 0, compute_s = 0;
  uint64_t bytes = 0;          ///< kRpc: request + reply frame bytes
  uint32_t tokens = 0;         ///< kRpc: token rows sent (1 in a decode step)
  uint32_t assignments = 0;    ///< kRpc: (token, expert) pairs computed
  uint32_t experts_held = 0;   ///< kJoined: (layer, expert) pairs the device serves
  uint8_t insecure = 0;        ///< 1: the connection is plaintext (`--insecure`)
  std::array<char, kDeviceTextBytes> address{};  ///< "host:port"
  std::array<char, kDeviceTextBytes> identity{};  ///< kJoined: its certificate's CN
};
/// Copies `text` into a DeviceEvent text field (truncated, NUL-terminated).
void set_event_text(std::array<char, kDeviceTextBytes>& field, std::string_view text);

/// A generation finished (or stopped): lets listeners close their per-answer views.
struct GenerationEvent {
  uint64_t first_step = 0, last_step = 0;
  int32_t prompt_tokens = 0, generated_tokens = 0;
  double prompt_s = 0, decode_s = 0;
};

using Event = std::variant<RoutingEvent, SelectionEvent, TimingEvent, CacheEvent, DeviceEvent,
                           GenerationEvent>;

/// One subscriber's bounded single-producer/single-consumer ring. Publishing threads are
/// serialised among themselves by the bus; the consumer never blocks the producer.
class EventQueue {
 public:
  explicit EventQueue(size_t capacity);
  bool try_push(const Event& e);            ///< false (and counted) when full
  size_t drain(std::vector<Event>& out, size_t max = SIZE_MAX);  ///< appends, returns count
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
  size_t capacity() const { return ring_.size(); }

 private:
  std::vector<Event> ring_;
  std::atomic<size_t> head_{0}, tail_{0};  // head_: next write, tail_: next read (monotonic)
  std::atomic<uint64_t> dropped_{0};
};

/// Fan-out to subscribers. publish() is cheap when nobody listens.
class EventBus {
 public:
  std::shared_ptr<EventQueue> subscribe(size_t capacity = 1 << 16);
  void unsubscribe(const std::shared_ptr<EventQueue>& q);
  void publish(const Event& e);
  bool has_subscribers() const { return n_subs_.load(std::memory_order_relaxed) > 0; }

 private:
  mutable std::mutex mu_;  // guards subs_ and serialises producers; consumers never take it
  std::vector<std::shared_ptr<EventQueue>> subs_;
  std::atomic<int> n_subs_{0};
};

}  // namespace moe
