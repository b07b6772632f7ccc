// What one active check concludes over time, and when it runs next. No I/O and no clock: the
// health thread feeds results in and arms timers with the delays, so tests drive it directly.
// Private to the health module.
#pragma once

#include <cstdint>
#include <random>

namespace turnout::health {

// HAProxy's rise / fall counters (App Mesh's healthy 2 / unhealthy 3): `unhealthy` consecutive
// failures turn a healthy endpoint failed, `healthy` consecutive successes turn it back. A
// threshold of 0 counts as 1.
class CheckVerdict {
 public:
  CheckVerdict(uint32_t healthy_threshold, uint32_t unhealthy_threshold, bool start_failed);

  // Counts one check result; true when the verdict changed with it.
  bool record(bool success);
  bool failed() const { return failed_; }
  uint32_t consecutiveSuccesses() const { return successes_; }
  uint32_t consecutiveFailures() const { return failures_; }

 private:
  uint32_t rise_;
  uint32_t fall_;
  uint32_t successes_ = 0;
  uint32_t failures_ = 0;
  bool failed_;
};

// The wait before the next check: the interval plus a random 0..jitter_ms (Envoy's
// interval_jitter), so checks of many endpoints do not stay in lock step.
uint64_t nextCheckDelayMs(uint32_t interval_ms, uint32_t jitter_ms, std::mt19937_64& rng);

// The wait before a new check's first run: random in [0, interval). Spreads the first checks
// of a large configuration over one interval (HAProxy staggers its servers the same way)
// instead of opening thousands of connections in one burst; the endpoint starts healthy, so
// the wait hides nothing.
uint64_t firstCheckDelayMs(uint32_t interval_ms, std::mt19937_64& rng);

}  // namespace turnout::health
