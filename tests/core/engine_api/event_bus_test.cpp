#include <gtest/gtest.h>

#include <thread>

#include "core/engine_api/events.h"

namespace moe {
namespace {

RoutingEvent routing(int pos) {
  RoutingEvent e;
  e.pos = pos;
  e.layer = static_cast<int16_t>(pos % 4);
  return e;
}

TEST(EventQueue, KeepsOrderAndDropsWhenFull) {
  EventQueue q(4);
  for (int i = 0; i < 6; ++i) q.try_push(routing(i));
  EXPECT_EQ(q.dropped(), 2u);
  std::vector<Event> out;
  EXPECT_EQ(q.drain(out), 4u);
  ASSERT_EQ(out.size(), 4u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(std::get<RoutingEvent>(out[i]).pos, i);
  // After draining there is room again.
  EXPECT_TRUE(q.try_push(routing(9)));
  out.clear();
  EXPECT_EQ(q.drain(out, 10), 1u);
  EXPECT_EQ(std::get<RoutingEvent>(out[0]).pos, 9);
}

TEST(EventQueue, DrainRespectsMax) {
  EventQueue q(16);
  for (int i = 0; i < 10; ++i) q.try_push(routing(i));
  std::vector<Event> out;
  EXPECT_EQ(q.drain(out, 3), 3u);
  EXPECT_EQ(q.drain(out), 7u);
  EXPECT_EQ(std::get<RoutingEvent>(out.back()).pos, 9);
}

TEST(EventBus, FansOutToEverySubscriber) {
  EventBus bus;
  EXPECT_FALSE(bus.has_subscribers());
  bus.publish(routing(1));  // nobody listens: no effect
  auto a = bus.subscribe(8);
  auto b = bus.subscribe(8);
  bus.publish(routing(2));
  bus.unsubscribe(b);
  bus.publish(routing(3));
  std::vector<Event> ea, eb;
  a->drain(ea);
  b->drain(eb);
  ASSERT_EQ(ea.size(), 2u);
  ASSERT_EQ(eb.size(), 1u);
  EXPECT_EQ(std::get<RoutingEvent>(eb[0]).pos, 2);
  EXPECT_EQ(std::get<RoutingEvent>(ea[1]).pos, 3);
}

// One producer thread, one consumer thread: every event arrives exactly once, in order, or is
// counted as dropped.
TEST(EventBus, ConcurrentProducerConsumerLosesNothingUncounted) {
  EventBus bus;
  auto q = bus.subscribe(64);
  constexpr int kN = 200000;
  std::thread producer([&] {
    for (int i = 0; i < kN; ++i) bus.publish(routing(i));
  });
  std::vector<Event> got;
  int last = -1;
  size_t received = 0;
  bool ordered = true;
  auto consume = [&] {
    got.clear();
    q->drain(got);
    for (auto& e : got) {
      const int pos = std::get<RoutingEvent>(e).pos;
      ordered = ordered && pos > last;
      last = pos;
    }
    received += got.size();
  };
  while (received + q->dropped() < static_cast<size_t>(kN)) consume();
  producer.join();
  consume();
  EXPECT_TRUE(ordered);
  EXPECT_EQ(received + q->dropped(), static_cast<size_t>(kN));
}

}  // namespace
}  // namespace moe
