#include "core/engine_api/events.h"

#include <algorithm>

namespace moe {

void set_event_text(std::array<char, kDeviceTextBytes>& field, std::string_view text) {
  const size_t n = std::min(text.size(), field.size() - 1);
  std::copy_n(text.data(), n, field.data());
  field[n] = '\0';
}

EventQueue::EventQueue(size_t capacity) : ring_(std::max<size_t>(capacity, 2)) {}

bool EventQueue::try_push(const Event& e) {
  const size_t head = head_.load(std::memory_order_relaxed);
  const size_t tail = tail_.load(std::memory_order_acquire);
  if (head - tail >= ring_.size()) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  ring_[head % ring_.size()] = e;
  head_.store(head + 1, std::memory_order_release);
  return true;
}

size_t EventQueue::drain(std::vector<Event>& out, size_t max) {
  size_t tail = tail_.load(std::memory_order_relaxed);
  const size_t head = head_.load(std::memory_order_acquire);
  size_t n = 0;
  while (tail != head && n < max) {
    out.push_back(ring_[tail % ring_.size()]);
    ++tail;
    ++n;
  }
  tail_.store(tail, std::memory_order_release);
  return n;
}

std::shared_ptr<EventQueue> EventBus::subscribe(size_t capacity) {
  auto q = std::make_shared<EventQueue>(capacity);
  std::lock_guard lock(mu_);
  subs_.push_back(q);
  n_subs_.store(static_cast<int>(subs_.size()), std::memory_order_relaxed);
  return q;
}

void EventBus::unsubscribe(const std::shared_ptr<EventQueue>& q) {
  std::lock_guard lock(mu_);
  subs_.erase(std::remove(subs_.begin(), subs_.end(), q), subs_.end());
  n_subs_.store(static_cast<int>(subs_.size()), std::memory_order_relaxed);
}

void EventBus::publish(const Event& e) {
  if (!has_subscribers()) return;
  std::lock_guard lock(mu_);
  for (auto& q : subs_) q->try_push(e);
}

}  // namespace moe
