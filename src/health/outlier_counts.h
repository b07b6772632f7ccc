// Passive outlier detection, the worker's half: consecutive failures per endpoint, counted in
// a plain vector that belongs to one worker (no atomics, no lock: the data path's rule). When a
// count reaches its threshold the worker asks the health service for an ejection
// (HealthService::requestEjection), which decides.
//
// Each worker counts on its own on purpose: shared counters would put an atomic
// read-modify-write on every response. The consequence: with W workers, an endpoint that fails
// every request is still ejected after `threshold` failures on whichever worker sees them
// first; one that fails intermittently may need up to W x (threshold - 1) + 1 failures in a row
// overall before one worker's count gets there.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "config/model.h"

namespace turnout::health {

// What one upstream attempt came to, as outlier detection classifies it (Envoy's, with local
// failures mapped onto HTTP codes as its default, non-split mode does).
enum class UpstreamOutcome : uint8_t {
  kSuccess,         // a response below 500: resets every count
  kServerError,     // 500, 501, 505...: a 5xx, not a gateway failure
  kGatewayFailure,  // 502, 503 or 504 from the upstream, or no answer within the timeout
  kConnectFailure,  // refused, reset, or timed out connecting (also a gateway failure, a 5xx)
};

// Which trigger of config::Outlier an ejection request comes from.
enum class OutlierReason : uint8_t {
  kConsecutive5xx,
  kConsecutiveGatewayFailure,
  kConsecutiveConnectFailure
};
inline constexpr int kOutlierReasons = 3;

// "consecutive_5xx", "consecutive_gateway_failure", "consecutive_connect_failure": the
// config::Outlier field that fired, used as the metric label.
std::string_view reasonLabel(OutlierReason reason);

UpstreamOutcome outcomeOfStatus(int status);

class OutlierCounts {
 public:
  // A response below 500 for endpoint `id`. Costs a bounds check and a load when the endpoint
  // had no failures (the common case).
  void recordSuccess(uint32_t id) {
    if (id < counts_.size() && counts_[id].any()) counts_[id] = {};
  }
  // A failure for endpoint `id`: the trigger that reached its threshold, if one did (then the
  // endpoint's counts start over, as Envoy's do after an ejection). 0 disables a trigger.
  std::optional<OutlierReason> recordFailure(uint32_t id, UpstreamOutcome outcome,
                                             const config::Outlier& thresholds);

 private:
  struct Counts {
    uint32_t server_errors = 0;  // any 5xx, gateway and connect failures included
    uint32_t gateway_failures = 0;
    uint32_t connect_failures = 0;
    bool any() const { return (server_errors | gateway_failures | connect_failures) != 0; }
  };
  std::vector<Counts> counts_;  // by endpoint id; grows on an endpoint's first failure
};

}  // namespace turnout::health
