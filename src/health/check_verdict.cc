#include "health/check_verdict.h"

#include <algorithm>

namespace turnout::health {

CheckVerdict::CheckVerdict(uint32_t healthy_threshold, uint32_t unhealthy_threshold,
                           bool start_failed)
    : rise_(std::max<uint32_t>(1, healthy_threshold)),
      fall_(std::max<uint32_t>(1, unhealthy_threshold)),
      failed_(start_failed) {}

bool CheckVerdict::record(bool success) {
  if (success) {
    failures_ = 0;
    if (successes_ < rise_) ++successes_;
    if (failed_ && successes_ >= rise_) {
      failed_ = false;
      return true;
    }
    return false;
  }
  successes_ = 0;
  if (failures_ < fall_) ++failures_;
  if (!failed_ && failures_ >= fall_) {
    failed_ = true;
    return true;
  }
  return false;
}

uint64_t nextCheckDelayMs(uint32_t interval_ms, uint32_t jitter_ms, std::mt19937_64& rng) {
  if (jitter_ms == 0) return interval_ms;
  return uint64_t{interval_ms} + rng() % (uint64_t{jitter_ms} + 1);
}

uint64_t firstCheckDelayMs(uint32_t interval_ms, std::mt19937_64& rng) {
  if (interval_ms == 0) return 0;
  return rng() % interval_ms;
}

}  // namespace turnout::health
