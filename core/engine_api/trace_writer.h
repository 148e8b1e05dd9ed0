#pragma once
// JSONL trace of the event stream (`--trace FILE`): one JSON object per event, one per line.
// Runs its own thread that drains a bounded subscription every few milliseconds, so the
// engine never waits on disk. Events dropped because the ring was full are reported in a final
// {"type":"trace_end","dropped":N} line.
#include <atomic>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "core/engine_api/events.h"
#include "core/util/status.h"

namespace moe {

/// One event as a single-line JSON object (no trailing newline).
std::string event_to_json(const Event& e);

class TraceWriter {
 public:
  /// Opens `path` for writing and subscribes to `bus`. The bus must outlive the writer.
  static Result<std::unique_ptr<TraceWriter>> start(const std::string& path, EventBus& bus);
  ~TraceWriter();  ///< drains what is left, writes trace_end, closes the file
  TraceWriter(const TraceWriter&) = delete;
  TraceWriter& operator=(const TraceWriter&) = delete;

  uint64_t written() const { return written_.load(); }
  /// Extra `,"key":value` members for the trace_end line, asked for when the writer closes
  /// (the store's summary: its hit rate and Belady's on the same run). Must stay callable
  /// until the writer is destroyed.
  void set_end_fields(std::function<std::string()> fields) { end_fields_ = std::move(fields); }

 private:
  TraceWriter(std::FILE* f, EventBus& bus);
  void run();
  size_t drain_once(std::vector<Event>& buf);

  std::FILE* file_;
  EventBus& bus_;
  std::shared_ptr<EventQueue> queue_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> written_{0};
  std::thread thread_;
  std::function<std::string()> end_fields_;
};

}  // namespace moe
