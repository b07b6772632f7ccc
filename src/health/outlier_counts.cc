#include "health/outlier_counts.h"

namespace turnout::health {
namespace {

bool reached(uint32_t count, uint32_t threshold) { return threshold != 0 && count >= threshold; }

}  // namespace

std::string_view reasonLabel(OutlierReason reason) {
  switch (reason) {
    case OutlierReason::kConsecutive5xx:
      return "consecutive_5xx";
    case OutlierReason::kConsecutiveGatewayFailure:
      return "consecutive_gateway_failure";
    case OutlierReason::kConsecutiveConnectFailure:
      return "consecutive_connect_failure";
  }
  return "unknown";
}

UpstreamOutcome outcomeOfStatus(int status) {
  if (status < 500) return UpstreamOutcome::kSuccess;
  if (status == 502 || status == 503 || status == 504) return UpstreamOutcome::kGatewayFailure;
  return UpstreamOutcome::kServerError;
}

std::optional<OutlierReason> OutlierCounts::recordFailure(uint32_t id, UpstreamOutcome outcome,
                                                          const config::Outlier& thresholds) {
  if (outcome == UpstreamOutcome::kSuccess) {
    recordSuccess(id);
    return std::nullopt;
  }
  if (id >= counts_.size()) counts_.resize(id + 1);
  Counts& counts = counts_[id];
  // Envoy: a 5xx that is not a gateway failure breaks a run of gateway failures, and any
  // answer at all breaks a run of connect failures.
  ++counts.server_errors;
  if (outcome == UpstreamOutcome::kServerError) {
    counts.gateway_failures = 0;
  } else {
    ++counts.gateway_failures;
  }
  if (outcome == UpstreamOutcome::kConnectFailure) {
    ++counts.connect_failures;
  } else {
    counts.connect_failures = 0;
  }
  std::optional<OutlierReason> fired;
  if (reached(counts.connect_failures, thresholds.consecutive_connect_failure)) {
    fired = OutlierReason::kConsecutiveConnectFailure;
  } else if (reached(counts.gateway_failures, thresholds.consecutive_gateway_failure)) {
    fired = OutlierReason::kConsecutiveGatewayFailure;
  } else if (reached(counts.server_errors, thresholds.consecutive_5xx)) {
    fired = OutlierReason::kConsecutive5xx;
  }
  if (fired) counts = {};
  return fired;
}

}  // namespace turnout::health
