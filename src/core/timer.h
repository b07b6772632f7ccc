// Hashed timer wheel with intrusive timers: arming, re-arming and cancelling are O(1) and
// allocate nothing, which matters because every request arms and cancels several timeouts.
#pragma once

#include <array>
#include <cstdint>
#include <functional>

namespace turnout::core {

class TimerWheel;

// A one-shot timer owned by whoever needs it (a connection, an exchange). Destroying it
// cancels it.
class Timer {
 public:
  explicit Timer(std::function<void()> on_fire) : on_fire_(std::move(on_fire)) {}
  ~Timer() { cancel(); }
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  void arm(TimerWheel& wheel, uint64_t delay_ms);
  void cancel();
  bool armed() const { return wheel_ != nullptr; }

 private:
  friend class TimerWheel;
  std::function<void()> on_fire_;
  TimerWheel* wheel_ = nullptr;
  Timer* prev_ = nullptr;
  Timer* next_ = nullptr;
  uint64_t deadline_ms_ = 0;
  size_t slot_ = 0;
};

// The monotonic clock in microseconds (precise, unlike the wheel's coarse millisecond clock):
// what request durations are measured with.
uint64_t monotonicMicros();

class TimerWheel {
 public:
  static constexpr uint64_t kTickMs = 4;
  static constexpr size_t kSlots = 1024;  // one turn: about 4 s; later deadlines wait their turn

  TimerWheel();
  uint64_t nowMs() const { return now_ms_; }
  void updateNow();  // reads the monotonic clock
  // Fires every timer whose deadline has passed. Returns the epoll timeout to use next (ms),
  // -1 when nothing is armed.
  int advance();
  // The same at a given time instead of the clock's (tests drive time with it).
  int advanceTo(uint64_t now_ms);
  size_t armedCount() const { return armed_; }

 private:
  friend class Timer;
  void link(Timer* timer);
  void unlink(Timer* timer);

  std::array<Timer*, kSlots> slots_{};
  uint64_t now_ms_ = 0;
  uint64_t current_tick_ = 0;  // last tick processed
  size_t armed_ = 0;
};

}  // namespace turnout::core
