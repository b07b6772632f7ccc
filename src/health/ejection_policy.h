// The rules of passive outlier ejection (Envoy's outlier detection), as pure functions the
// health thread applies. Private to the health module.
#pragma once

#include <cstddef>
#include <cstdint>

#include "config/model.h"

namespace turnout::health {

// Envoy's sweep interval (anchors §11): an endpoint that stays in for this long after an
// ejection has its ejection multiplier lowered by one, so an old incident stops lengthening the
// next ejection.
inline constexpr uint64_t kEjectionDecayMs = 10'000;

// Whether one more of a service's `endpoint_count` endpoints may be ejected while
// `ejected_now` are: at most max_percent of them after the ejection, but always at least one
// (Envoy: with 3 endpoints and 10 %, one may still go).
bool mayEject(size_t ejected_now, size_t endpoint_count, uint32_t max_percent);

// How long the `times_ejected`-th ejection lasts: base x times, at most max_ejection_ms.
uint64_t ejectionDurationMs(const config::Outlier& outlier, uint32_t times_ejected);

// The multiplier once an endpoint has stayed in for `quiet_ms`: one less per kEjectionDecayMs.
uint32_t decayedTimesEjected(uint32_t times_ejected, uint64_t quiet_ms);

}  // namespace turnout::health
