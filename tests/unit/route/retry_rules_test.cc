// A route's retry rules: which failures and statuses each condition takes, the full-jitter
// back-off, idempotent methods and the retry budget.
#include "route/retry_rules.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

namespace turnout::route {
namespace {

RetryRules rulesOn(std::vector<std::string> on, uint32_t attempts = 2) {
  config::RetryPolicy policy;
  policy.attempts = attempts;
  policy.on = std::move(on);
  return RetryRules(policy);
}

TEST(RetryRulesTest, OffByDefaultAndWithZeroAttempts) {
  EXPECT_FALSE(RetryRules().enabled());
  EXPECT_FALSE(RetryRules(config::RetryPolicy{}).enabled());
  EXPECT_TRUE(rulesOn({"reset"}).enabled());
  EXPECT_EQ(rulesOn({"reset"}, 3).attempts(), 3u);
}

TEST(RetryRulesTest, ConnectFailureTakesOnlyFailedConnects) {
  RetryRules rules = rulesOn({"connect-failure"});
  EXPECT_TRUE(rules.retriesFailure(AttemptFailure::kConnect));
  EXPECT_FALSE(rules.retriesFailure(AttemptFailure::kReset));
  EXPECT_FALSE(rules.retriesFailure(AttemptFailure::kTimeout));
  EXPECT_FALSE(rules.retriesStatus(503));
}

TEST(RetryRulesTest, ResetTakesEveryFailureBeforeAHeadButNoStatus) {
  RetryRules rules = rulesOn({"reset"});
  EXPECT_TRUE(rules.retriesFailure(AttemptFailure::kConnect));
  EXPECT_TRUE(rules.retriesFailure(AttemptFailure::kReset));
  EXPECT_TRUE(rules.retriesFailure(AttemptFailure::kTimeout));
  EXPECT_FALSE(rules.retriesStatus(502));
}

TEST(RetryRulesTest, RefusedStreamAloneTakesNothingOverHttp1) {
  RetryRules rules = rulesOn({"refused-stream"});
  EXPECT_FALSE(rules.retriesFailure(AttemptFailure::kConnect));
  EXPECT_FALSE(rules.retriesFailure(AttemptFailure::kReset));
  EXPECT_FALSE(rules.retriesStatus(503));
}

TEST(RetryRulesTest, GatewayErrorTakesFailuresAnd502To504) {
  RetryRules rules = rulesOn({"gateway-error"});
  EXPECT_TRUE(rules.retriesFailure(AttemptFailure::kReset));
  for (int status : {502, 503, 504}) EXPECT_TRUE(rules.retriesStatus(status)) << status;
  for (int status : {200, 404, 500, 501, 505, 599}) EXPECT_FALSE(rules.retriesStatus(status));
}

TEST(RetryRulesTest, FiveXxTakesEvery5xx) {
  RetryRules rules = rulesOn({"5xx"});
  EXPECT_TRUE(rules.retriesFailure(AttemptFailure::kTimeout));
  for (int status : {500, 501, 503, 599}) EXPECT_TRUE(rules.retriesStatus(status)) << status;
  for (int status : {200, 429, 499}) EXPECT_FALSE(rules.retriesStatus(status)) << status;
}

TEST(RetryRulesTest, RetriableStatusTakesTheListedStatusesOnly) {
  config::RetryPolicy policy;
  policy.attempts = 1;
  policy.on = {"retriable-status"};
  policy.statuses = {409, 503};
  RetryRules rules(policy);
  EXPECT_TRUE(rules.retriesStatus(409));
  EXPECT_TRUE(rules.retriesStatus(503));
  EXPECT_FALSE(rules.retriesStatus(502));
  EXPECT_FALSE(rules.retriesFailure(AttemptFailure::kReset));
}

TEST(RetryRulesTest, StatusesWithoutRetriableStatusAreIgnored) {
  config::RetryPolicy policy;
  policy.attempts = 1;
  policy.on = {"connect-failure"};
  policy.statuses = {503};
  EXPECT_FALSE(RetryRules(policy).retriesStatus(503));
}

// Full jitter: every wait within [0, min(cap, base x 2^n)], spread over that whole range.
TEST(RetryRulesTest, BackOffIsFullJitterUnderAGrowingCeiling) {
  config::RetryPolicy policy;
  policy.attempts = 5;
  policy.backoff_base_ms = 25;
  policy.backoff_max_ms = 250;
  RetryRules rules(policy);
  std::mt19937_64 rng(7);
  const uint64_t ceilings[] = {25, 50, 100, 200, 250, 250, 250};
  for (uint32_t retry = 0; retry < 7; ++retry) {
    uint64_t low = UINT64_MAX, high = 0;
    for (int i = 0; i < 2000; ++i) {
      const uint64_t wait = rules.backoffMs(retry, rng);
      low = std::min(low, wait);
      high = std::max(high, wait);
    }
    EXPECT_LE(high, ceilings[retry]) << "retry " << retry;
    EXPECT_GE(high, ceilings[retry] * 9 / 10) << "retry " << retry;
    EXPECT_LE(low, ceilings[retry] / 10) << "retry " << retry;
  }
}

TEST(RetryRulesTest, BackOffDoesNotOverflowForLateRetries) {
  config::RetryPolicy policy;
  policy.attempts = 10;
  policy.backoff_base_ms = 3600000;
  policy.backoff_max_ms = 3600000;
  RetryRules rules(policy);
  std::mt19937_64 rng(1);
  EXPECT_LE(rules.backoffMs(40, rng), 3600000u);
}

TEST(RetryRulesTest, IdempotentMethodsAreRfc9110s) {
  for (const char* method : {"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"}) {
    EXPECT_TRUE(isIdempotentMethod(method)) << method;
  }
  for (const char* method : {"POST", "PATCH", "CONNECT", "get", "PROPFIND"}) {
    EXPECT_FALSE(isIdempotentMethod(method)) << method;
  }
}

TEST(RetryBudgetTest, MinimumConcurrencyHoldsWhenFewRequestsAreInFlight) {
  config::CircuitBreakers limits;  // 20 %, at least 3
  EXPECT_TRUE(retryBudgetAllows(0, 1, limits));
  EXPECT_TRUE(retryBudgetAllows(2, 1, limits));
  EXPECT_FALSE(retryBudgetAllows(3, 1, limits));
}

TEST(RetryBudgetTest, ShareOfRequestsInFlightAboveTheMinimum) {
  config::CircuitBreakers limits;
  EXPECT_TRUE(retryBudgetAllows(19, 100, limits));
  EXPECT_FALSE(retryBudgetAllows(20, 100, limits));
  limits.retry_budget_percent = 0;
  limits.min_retry_concurrency = 0;
  EXPECT_FALSE(retryBudgetAllows(0, 1000, limits));
  limits.retry_budget_percent = 100;
  EXPECT_TRUE(retryBudgetAllows(999, 1000, limits));
}

}  // namespace
}  // namespace turnout::route
