#include "core/timer.h"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

namespace turnout::core {
namespace {

class TimerWheelTest : public ::testing::Test {
 protected:
  TimerWheelTest() { start_ = wheel_.nowMs(); }
  int advanceBy(uint64_t ms) { return wheel_.advanceTo(start_ + ms); }

  TimerWheel wheel_;
  uint64_t start_ = 0;
};

TEST_F(TimerWheelTest, FiresOnlyOnceItsDeadlinePassed) {
  int fired = 0;
  Timer timer([&] { ++fired; });
  timer.arm(wheel_, 100);
  advanceBy(50);
  EXPECT_EQ(fired, 0);
  advanceBy(99);
  EXPECT_EQ(fired, 0);
  advanceBy(100 + TimerWheel::kTickMs);
  EXPECT_EQ(fired, 1);
  EXPECT_FALSE(timer.armed());
  advanceBy(1000);
  EXPECT_EQ(fired, 1);  // one-shot
}

TEST_F(TimerWheelTest, CancelledAndDestroyedTimersNeverFire) {
  int fired = 0;
  Timer cancelled([&] { ++fired; });
  cancelled.arm(wheel_, 10);
  cancelled.cancel();
  {
    Timer destroyed([&] { ++fired; });
    destroyed.arm(wheel_, 10);
  }
  EXPECT_EQ(wheel_.armedCount(), 0u);
  advanceBy(100);
  EXPECT_EQ(fired, 0);
}

TEST_F(TimerWheelTest, RearmingMovesTheDeadline) {
  int fired = 0;
  Timer timer([&] { ++fired; });
  timer.arm(wheel_, 20);
  advanceBy(10);
  timer.arm(wheel_, 20);  // now due at 30
  advanceBy(25);
  EXPECT_EQ(fired, 0);
  advanceBy(40);
  EXPECT_EQ(fired, 1);
}

TEST_F(TimerWheelTest, DeadlinesBeyondOneTurnWaitForTheirTurn) {
  const uint64_t turn = TimerWheel::kTickMs * TimerWheel::kSlots;
  int fired = 0;
  Timer timer([&] { ++fired; });
  timer.arm(wheel_, turn + 3 * TimerWheel::kTickMs);
  for (uint64_t t = 0; t < turn; t += 100) advanceBy(t);  // bounded: one turn in 100 ms steps
  EXPECT_EQ(fired, 0);
  advanceBy(turn + 4 * TimerWheel::kTickMs);
  EXPECT_EQ(fired, 1);
}

TEST_F(TimerWheelTest, ManyTimersFireInOneAdvanceAndMayCancelEachOther) {
  std::vector<std::unique_ptr<Timer>> timers;
  int fired = 0;
  for (int i = 0; i < 1000; ++i) {
    timers.push_back(std::make_unique<Timer>([&, i] {
      ++fired;
      // Each even timer cancels its odd neighbour, which is in the same slot.
      if (i % 2 == 0 && i + 1 < 1000) timers[static_cast<size_t>(i) + 1]->cancel();
    }));
    timers.back()->arm(wheel_, 50);
  }
  advanceBy(100);
  EXPECT_GE(fired, 500);
  EXPECT_LE(fired, 1000);
  EXPECT_EQ(wheel_.armedCount(), 0u);
}

TEST_F(TimerWheelTest, TimeoutHintIsMinusOneWhenIdleAndBoundedOtherwise) {
  EXPECT_EQ(advanceBy(0), -1);
  Timer timer([] {});
  timer.arm(wheel_, 200);
  const int hint = advanceBy(0);
  EXPECT_GT(hint, 0);
  EXPECT_LE(hint, 200 + static_cast<int>(TimerWheel::kTickMs));
}

}  // namespace
}  // namespace turnout::core
