#include "route/retry_rules.h"

#include <algorithm>

namespace turnout::route {

RetryRules::RetryRules(const config::RetryPolicy& policy)
    : attempts_(policy.attempts),
      per_try_timeout_ms_(policy.per_try_timeout_ms),
      backoff_base_ms_(std::max<uint32_t>(1, policy.backoff_base_ms)),
      backoff_max_ms_(std::max(policy.backoff_base_ms, policy.backoff_max_ms)),
      non_idempotent_(policy.non_idempotent) {
  for (const std::string& condition : policy.on) {
    if (condition == "connect-failure") on_connect_failure_ = true;
    if (condition == "reset") on_any_failure_ = true;
    if (condition == "5xx") on_any_failure_ = on_5xx_ = true;
    if (condition == "gateway-error") on_any_failure_ = on_gateway_error_ = true;
    if (condition == "retriable-status") statuses_ = policy.statuses;
  }
}

bool RetryRules::retriesFailure(AttemptFailure failure) const {
  if (on_any_failure_) return true;
  return failure == AttemptFailure::kConnect && on_connect_failure_;
}

bool RetryRules::retriesStatus(int status) const {
  if (on_5xx_ && status >= 500 && status <= 599) return true;
  if (on_gateway_error_ && status >= 502 && status <= 504) return true;
  return std::find(statuses_.begin(), statuses_.end(), status) != statuses_.end();
}

uint64_t RetryRules::backoffMs(uint32_t retry, std::mt19937_64& rng) const {
  const uint32_t shift = std::min<uint32_t>(retry, 32);
  const uint64_t ceiling = std::min<uint64_t>(uint64_t{backoff_base_ms_} << shift, backoff_max_ms_);
  return std::uniform_int_distribution<uint64_t>(0, ceiling)(rng);
}

bool isIdempotentMethod(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "PUT" ||
         method == "DELETE" || method == "TRACE";
}

bool retryBudgetAllows(uint64_t retries_in_flight, uint64_t requests_in_flight,
                       const config::CircuitBreakers& limits) {
  const uint64_t share = requests_in_flight * limits.retry_budget_percent / 100;
  return retries_in_flight < std::max<uint64_t>(share, limits.min_retry_concurrency);
}

}  // namespace turnout::route
