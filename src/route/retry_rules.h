// A route's retry policy, compiled: which failures and statuses it retries, how long it waits
// between attempts, and the service's retry budget. Pure functions of the policy; the exchange
// (src/proxy) runs the attempts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <string_view>
#include <vector>

#include "config/model.h"

namespace turnout::route {

// The most request body an exchange keeps to send again (Envoy's default buffer limit is 64 KiB
// too); a longer body is not retried.
inline constexpr size_t kReplayBufferBytes = 64 * 1024;

// What ended an upstream attempt before it had a response head.
enum class AttemptFailure : uint8_t {
  kConnect,  // refused, unreachable or timed out while connecting
  kReset,    // closed, reset or garbled after connecting, before a response head
  kTimeout,  // no response head within the per-try timeout
};

class RetryRules {
 public:
  RetryRules() = default;  // retries off
  explicit RetryRules(const config::RetryPolicy& policy);

  bool enabled() const { return attempts_ > 0; }
  uint32_t attempts() const { return attempts_; }                   // retries after the first try
  uint32_t perTryTimeoutMs() const { return per_try_timeout_ms_; }  // 0 = the route's timeout
  bool retriesNonIdempotent() const { return non_idempotent_; }

  // Envoy's conditions: reset, 5xx and gateway-error take every failure before a response
  // head; connect-failure only kConnect; refused-stream an HTTP/2 REFUSED_STREAM, which
  // HTTP/1.1 upstreams never send.
  bool retriesFailure(AttemptFailure failure) const;
  // 5xx: 500-599; gateway-error: 502, 503, 504; retriable-status: the listed statuses.
  bool retriesStatus(int status) const;
  // Full jitter (AWS's "exponential backoff and jitter"): uniform in [0, min(cap, base x 2^n)]
  // for retry n (0 for the first retry).
  uint64_t backoffMs(uint32_t retry, std::mt19937_64& rng) const;

 private:
  uint32_t attempts_ = 0;
  bool on_connect_failure_ = false;
  bool on_any_failure_ = false;  // reset, 5xx or gateway-error
  bool on_5xx_ = false;
  bool on_gateway_error_ = false;
  std::vector<uint16_t> statuses_;  // retriable-status only
  uint32_t per_try_timeout_ms_ = 0;
  uint32_t backoff_base_ms_ = 25;
  uint32_t backoff_max_ms_ = 250;
  bool non_idempotent_ = false;
};

// RFC 9110 §9.2.2: a method whose request can be repeated with the same effect.
bool isIdempotentMethod(std::string_view method);

// The retry budget (Envoy's): one more retry may start while the retries in flight stay below
// retry_budget_percent of the requests in flight, or below min_retry_concurrency.
bool retryBudgetAllows(uint64_t retries_in_flight, uint64_t requests_in_flight,
                       const config::CircuitBreakers& limits);

}  // namespace turnout::route
