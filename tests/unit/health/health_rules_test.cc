// The pure rules of health checking and outlier detection: check thresholds, the initial
// state, jitter bounds, ejection limits and durations, and the workers' consecutive counts.
#include <gtest/gtest.h>

#include <random>

#include "health/check_verdict.h"
#include "health/ejection_policy.h"
#include "health/outlier_counts.h"

namespace turnout::health {
namespace {

// ---- Check verdicts ------------------------------------------------------------------------

TEST(CheckVerdictTest, StartsHealthyAndFailsAfterUnhealthyConsecutiveFailures) {
  CheckVerdict verdict(2, 3, /*start_failed=*/false);
  EXPECT_FALSE(verdict.failed());
  EXPECT_FALSE(verdict.record(false));
  EXPECT_FALSE(verdict.record(false));
  EXPECT_FALSE(verdict.failed());
  EXPECT_TRUE(verdict.record(false));  // the third in a row
  EXPECT_TRUE(verdict.failed());
  EXPECT_FALSE(verdict.record(false));  // no second transition
  EXPECT_TRUE(verdict.failed());
}

TEST(CheckVerdictTest, ASuccessBreaksARunOfFailures) {
  CheckVerdict verdict(2, 3, false);
  verdict.record(false);
  verdict.record(false);
  verdict.record(true);
  verdict.record(false);
  verdict.record(false);
  EXPECT_FALSE(verdict.failed());
  EXPECT_TRUE(verdict.record(false));
}

TEST(CheckVerdictTest, ComesBackAfterHealthyConsecutiveSuccesses) {
  CheckVerdict verdict(2, 3, /*start_failed=*/true);
  EXPECT_TRUE(verdict.failed());
  EXPECT_FALSE(verdict.record(true));
  EXPECT_FALSE(verdict.record(false));  // breaks the run
  EXPECT_FALSE(verdict.record(true));
  EXPECT_TRUE(verdict.record(true));
  EXPECT_FALSE(verdict.failed());
  EXPECT_EQ(verdict.consecutiveSuccesses(), 2u);
}

TEST(CheckVerdictTest, ZeroThresholdsCountAsOne) {
  CheckVerdict verdict(0, 0, false);
  EXPECT_TRUE(verdict.record(false));
  EXPECT_TRUE(verdict.record(true));
}

TEST(CheckScheduleTest, JitterStaysWithinItsBoundsAndUsesThem) {
  std::mt19937_64 rng(7);
  uint64_t low = UINT64_MAX, high = 0;
  for (int i = 0; i < 10000; ++i) {
    const uint64_t delay = nextCheckDelayMs(200, 50, rng);
    low = std::min(low, delay);
    high = std::max(high, delay);
  }
  EXPECT_EQ(low, 200u);
  EXPECT_EQ(high, 250u);
  EXPECT_EQ(nextCheckDelayMs(2000, 0, rng), 2000u);
}

TEST(CheckScheduleTest, FirstChecksSpreadOverOneInterval) {
  std::mt19937_64 rng(11);
  uint64_t low = UINT64_MAX, high = 0;
  for (int i = 0; i < 10000; ++i) {
    const uint64_t delay = firstCheckDelayMs(2000, rng);
    low = std::min(low, delay);
    high = std::max(high, delay);
  }
  EXPECT_LT(low, 20u);
  EXPECT_GT(high, 1980u);
  EXPECT_LT(high, 2000u);
  EXPECT_EQ(firstCheckDelayMs(0, rng), 0u);
}

// ---- Ejection rules ------------------------------------------------------------------------

TEST(EjectionPolicyTest, MaxPercentButAlwaysOne) {
  EXPECT_TRUE(mayEject(0, 3, 10));   // 33 % > 10 %, but one may always go (Envoy)
  EXPECT_FALSE(mayEject(1, 3, 10));  // a second may not
  EXPECT_TRUE(mayEject(1, 10, 20));
  EXPECT_FALSE(mayEject(2, 10, 20));
  EXPECT_TRUE(mayEject(2, 3, 100));
  EXPECT_FALSE(mayEject(0, 0, 100));
  EXPECT_TRUE(mayEject(0, 5, 0));  // even at 0 %, as Envoy's always_eject_one_host
}

TEST(EjectionPolicyTest, DurationIsBaseTimesEjectionsCapped) {
  config::Outlier outlier;  // 30 s base, 300 s max
  EXPECT_EQ(ejectionDurationMs(outlier, 1), 30000u);
  EXPECT_EQ(ejectionDurationMs(outlier, 3), 90000u);
  EXPECT_EQ(ejectionDurationMs(outlier, 50), 300000u);
  outlier.base_ejection_ms = 500;
  outlier.max_ejection_ms = 200;  // a max below the base: the base wins (Envoy)
  EXPECT_EQ(ejectionDurationMs(outlier, 4), 500u);
}

TEST(EjectionPolicyTest, MultiplierDecaysOncePerQuietSweep) {
  EXPECT_EQ(decayedTimesEjected(3, 0), 3u);
  EXPECT_EQ(decayedTimesEjected(3, kEjectionDecayMs - 1), 3u);
  EXPECT_EQ(decayedTimesEjected(3, 2 * kEjectionDecayMs), 1u);
  EXPECT_EQ(decayedTimesEjected(3, 10 * kEjectionDecayMs), 0u);
}

// ---- Workers' consecutive counts -----------------------------------------------------------

config::Outlier thresholds(uint32_t five_xx, uint32_t gateway, uint32_t connect) {
  config::Outlier outlier;
  outlier.consecutive_5xx = five_xx;
  outlier.consecutive_gateway_failure = gateway;
  outlier.consecutive_connect_failure = connect;
  return outlier;
}

TEST(OutlierCountsTest, OutcomesOfStatuses) {
  EXPECT_EQ(outcomeOfStatus(200), UpstreamOutcome::kSuccess);
  EXPECT_EQ(outcomeOfStatus(404), UpstreamOutcome::kSuccess);
  EXPECT_EQ(outcomeOfStatus(500), UpstreamOutcome::kServerError);
  EXPECT_EQ(outcomeOfStatus(502), UpstreamOutcome::kGatewayFailure);
  EXPECT_EQ(outcomeOfStatus(503), UpstreamOutcome::kGatewayFailure);
  EXPECT_EQ(outcomeOfStatus(504), UpstreamOutcome::kGatewayFailure);
  EXPECT_EQ(outcomeOfStatus(505), UpstreamOutcome::kServerError);
}

TEST(OutlierCountsTest, Consecutive5xxFiresAtTheThresholdThenStartsOver) {
  OutlierCounts counts;
  const auto outlier = thresholds(3, 0, 0);
  EXPECT_FALSE(counts.recordFailure(7, UpstreamOutcome::kServerError, outlier));
  EXPECT_FALSE(counts.recordFailure(7, UpstreamOutcome::kGatewayFailure, outlier));
  EXPECT_EQ(counts.recordFailure(7, UpstreamOutcome::kConnectFailure, outlier),
            OutlierReason::kConsecutive5xx);
  EXPECT_FALSE(counts.recordFailure(7, UpstreamOutcome::kServerError, outlier));
}

TEST(OutlierCountsTest, ASuccessResetsEverything) {
  OutlierCounts counts;
  const auto outlier = thresholds(2, 2, 2);
  counts.recordFailure(3, UpstreamOutcome::kConnectFailure, outlier);
  counts.recordSuccess(3);
  EXPECT_FALSE(counts.recordFailure(3, UpstreamOutcome::kConnectFailure, outlier));
  counts.recordSuccess(999);  // never failed: nothing to do, nothing grows
}

TEST(OutlierCountsTest, EndpointsCountSeparately) {
  OutlierCounts counts;
  const auto outlier = thresholds(2, 0, 0);
  EXPECT_FALSE(counts.recordFailure(1, UpstreamOutcome::kServerError, outlier));
  EXPECT_FALSE(counts.recordFailure(2, UpstreamOutcome::kServerError, outlier));
  EXPECT_TRUE(counts.recordFailure(1, UpstreamOutcome::kServerError, outlier));
}

TEST(OutlierCountsTest, GatewayFailuresAreBrokenByOther5xx) {
  OutlierCounts counts;
  const auto outlier = thresholds(0, 2, 0);
  counts.recordFailure(4, UpstreamOutcome::kGatewayFailure, outlier);
  counts.recordFailure(4, UpstreamOutcome::kServerError, outlier);  // a 500 breaks the run
  EXPECT_FALSE(counts.recordFailure(4, UpstreamOutcome::kGatewayFailure, outlier));
  EXPECT_EQ(counts.recordFailure(4, UpstreamOutcome::kConnectFailure, outlier),
            OutlierReason::kConsecutiveGatewayFailure);  // connect failures are gateway failures
}

TEST(OutlierCountsTest, ConnectFailuresAreBrokenByAnyAnswer) {
  OutlierCounts counts;
  const auto outlier = thresholds(0, 0, 2);
  counts.recordFailure(5, UpstreamOutcome::kConnectFailure, outlier);
  counts.recordFailure(5, UpstreamOutcome::kGatewayFailure, outlier);  // it answered
  EXPECT_FALSE(counts.recordFailure(5, UpstreamOutcome::kConnectFailure, outlier));
  EXPECT_EQ(counts.recordFailure(5, UpstreamOutcome::kConnectFailure, outlier),
            OutlierReason::kConsecutiveConnectFailure);
}

TEST(OutlierCountsTest, DisabledTriggersNeverFire) {
  OutlierCounts counts;
  const auto outlier = thresholds(0, 0, 0);
  for (int i = 0; i < 100; ++i) {
    EXPECT_FALSE(counts.recordFailure(6, UpstreamOutcome::kConnectFailure, outlier));
  }
}

TEST(OutlierCountsTest, ReasonLabelsAreTheModelFields) {
  EXPECT_EQ(reasonLabel(OutlierReason::kConsecutive5xx), "consecutive_5xx");
  EXPECT_EQ(reasonLabel(OutlierReason::kConsecutiveGatewayFailure), "consecutive_gateway_failure");
  EXPECT_EQ(reasonLabel(OutlierReason::kConsecutiveConnectFailure), "consecutive_connect_failure");
}

}  // namespace
}  // namespace turnout::health
