#include "health/ejection_policy.h"

#include <algorithm>

namespace turnout::health {

bool mayEject(size_t ejected_now, size_t endpoint_count, uint32_t max_percent) {
  if (endpoint_count == 0) return false;
  if (ejected_now == 0) return true;
  return (ejected_now + 1) * 100 <= uint64_t{max_percent} * endpoint_count;
}

uint64_t ejectionDurationMs(const config::Outlier& outlier, uint32_t times_ejected) {
  const uint64_t wanted = uint64_t{outlier.base_ejection_ms} * std::max<uint32_t>(1, times_ejected);
  const uint64_t cap = std::max(outlier.max_ejection_ms, outlier.base_ejection_ms);
  return std::min(wanted, cap);
}

uint32_t decayedTimesEjected(uint32_t times_ejected, uint64_t quiet_ms) {
  const uint64_t steps = quiet_ms / kEjectionDecayMs;
  return steps >= times_ejected ? 0 : times_ejected - static_cast<uint32_t>(steps);
}

}  // namespace turnout::health
