// SyncStream's bounded spin (netlink/sync_stream.h): a read that polls without sleeping until
// `spin_until` still takes data that arrives during the spin or after it (then asleep in poll),
// and never waits past its deadline however long the spin was meant to be.
#include "netlink/sync_stream.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <thread>

namespace moe::net {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

struct Pair {
  Pair() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    reader = std::make_unique<SyncStream>(fds[0], nullptr);
    writer = fds[1];
  }
  ~Pair() { ::close(writer); }
  void write_after(std::chrono::milliseconds delay) {
    th = std::thread([this, delay] {
      std::this_thread::sleep_for(delay);
      const char msg[4] = {'a', 'b', 'c', 'd'};
      EXPECT_EQ(::send(writer, msg, 4, MSG_NOSIGNAL), 4);
    });
  }
  std::unique_ptr<SyncStream> reader;
  int writer = -1;
  std::thread th;
};

TEST(SyncStream, ASpinningReadTakesDataThatArrivesDuringOrAfterTheSpin) {
  for (auto [delay, spin] : {std::pair{5ms, 200ms}, std::pair{30ms, 1ms}}) {
    Pair p;
    p.write_after(delay);
    std::array<uint8_t, 4> got{};
    const auto t0 = Clock::now();
    const auto r = p.reader->read(got, t0 + 5s, t0 + spin);
    p.th.join();
    ASSERT_TRUE(r.ok()) << r.detail;
    EXPECT_EQ(got, (std::array<uint8_t, 4>{'a', 'b', 'c', 'd'}));
    EXPECT_GE(Clock::now() - t0, delay);
  }
}

TEST(SyncStream, ASpinNeverOutlastsTheDeadline) {
  Pair p;
  std::array<uint8_t, 4> got{};
  const auto t0 = Clock::now();
  const auto r = p.reader->read(got, t0 + 20ms, t0 + 10s);
  EXPECT_EQ(r.outcome, SyncStream::Outcome::kTimeout);
  EXPECT_LT(Clock::now() - t0, 2s);
}

}  // namespace
}  // namespace moe::net
