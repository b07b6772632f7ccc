#include "core/timer.h"

#include <time.h>

namespace turnout::core {

void Timer::arm(TimerWheel& wheel, uint64_t delay_ms) {
  cancel();
  deadline_ms_ = wheel.nowMs() + delay_ms;
  wheel.link(this);
}

void Timer::cancel() {
  if (wheel_ != nullptr) wheel_->unlink(this);
}

TimerWheel::TimerWheel() {
  updateNow();
  current_tick_ = now_ms_ / kTickMs;
}

uint64_t monotonicMicros() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000 + static_cast<uint64_t>(ts.tv_nsec) / 1000;
}

void TimerWheel::updateNow() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  now_ms_ = static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1000000;
}

void TimerWheel::link(Timer* timer) {
  // A deadline in the past still goes in the next slot to be processed, never a passed one.
  // Rounded up so a timer never fires before its deadline.
  uint64_t tick = (timer->deadline_ms_ + kTickMs - 1) / kTickMs;
  if (tick <= current_tick_) tick = current_tick_ + 1;
  timer->slot_ = tick % kSlots;
  Timer*& head = slots_[timer->slot_];
  timer->wheel_ = this;
  timer->prev_ = nullptr;
  timer->next_ = head;
  if (head != nullptr) head->prev_ = timer;
  head = timer;
  ++armed_;
}

void TimerWheel::unlink(Timer* timer) {
  if (timer->prev_ != nullptr) {
    timer->prev_->next_ = timer->next_;
  } else {
    slots_[timer->slot_] = timer->next_;
  }
  if (timer->next_ != nullptr) timer->next_->prev_ = timer->prev_;
  timer->wheel_ = nullptr;
  timer->prev_ = timer->next_ = nullptr;
  --armed_;
}

int TimerWheel::advance() {
  updateNow();
  return advanceTo(now_ms_);
}

int TimerWheel::advanceTo(uint64_t now_ms) {
  now_ms_ = now_ms;
  const uint64_t target = now_ms_ / kTickMs;
  // Process at most one full turn per call: past that every slot has been visited.
  uint64_t steps = 0;
  while (current_tick_ < target && steps++ < kSlots) {
    ++current_tick_;
    Timer* timer = slots_[current_tick_ % kSlots];
    while (timer != nullptr) {
      Timer* next = timer->next_;
      if (timer->deadline_ms_ <= now_ms_) {
        unlink(timer);
        timer->on_fire_();  // may destroy or re-arm other timers: re-read the slot head
        next = slots_[current_tick_ % kSlots];
        // Skip timers of this slot that belong to a later turn.
        while (next != nullptr && next->deadline_ms_ > now_ms_) next = next->next_;
      }
      timer = next;
    }
  }
  if (current_tick_ < target) current_tick_ = target;
  if (armed_ == 0) return -1;
  // Sleep until the first slot that holds a timer (at most one turn).
  for (size_t ahead = 1; ahead <= kSlots; ++ahead) {
    if (slots_[(current_tick_ + ahead) % kSlots] != nullptr)
      return static_cast<int>(ahead * kTickMs);
  }
  return static_cast<int>(kSlots * kTickMs);
}

}  // namespace turnout::core
