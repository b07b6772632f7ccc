// Peak EWMA: the estimate itself, and the ewma balancer steering by it.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "balancer_test_support.h"
#include "health/endpoint_states.h"

namespace turnout::route {
namespace {

using testing::indexOf;
using testing::makeEndpoints;
using testing::settingsFor;

TEST(PeakEwmaTest, UnobservedIsNegative) {
  PeakEwma ewma;
  EXPECT_LT(ewma.estimateUs(5, 1000), 0);
}

TEST(PeakEwmaTest, JumpsToAPeakAndDecaysBackInTime) {
  PeakEwma ewma;
  ewma.observe(1, 1000, 0);
  EXPECT_DOUBLE_EQ(ewma.estimateUs(1, 0), 1000);
  ewma.observe(1, 50000, 10);  // slower than the estimate: taken at once
  EXPECT_DOUBLE_EQ(ewma.estimateUs(1, 10), 50000);
  // Faster answers every 100 ms: the peak decays with its 10 s time constant (1 ms answers
  // weigh 1 ms / 10 s each), so after 10 s about 1/e of it is left...
  for (uint64_t t = 110; t <= 10010; t += 100) ewma.observe(1, 1000, t);
  EXPECT_NEAR(ewma.estimateUs(1, 10010), 50000 / M_E, 400);
  // ... and once it decays below the answers, they hold it at their own latency.
  for (uint64_t t = 10110; t <= 60010; t += 100) ewma.observe(1, 1000, t);
  EXPECT_DOUBLE_EQ(ewma.estimateUs(1, 60010), 1000);
}

TEST(PeakEwmaTest, RecoversFromItsFirstFastAnswerOnceDecayed) {
  PeakEwma ewma;
  ewma.observe(1, 200000, 0);
  ewma.observe(1, 1000, 60000);  // 200 ms x e^-6 = 0.5 ms by now: the 1 ms answer is a peak
  EXPECT_DOUBLE_EQ(ewma.estimateUs(1, 60000), 1000);
}

TEST(PeakEwmaTest, UnheardOfEndpointLooksCheaperOverTime) {
  PeakEwma ewma;
  ewma.observe(1, 100000, 0);
  EXPECT_NEAR(ewma.estimateUs(1, 10000), 100000 / M_E, 1);
  EXPECT_LT(ewma.estimateUs(1, 60000), 300);
}

TEST(PeakEwmaTest, FailureCountsAsAtLeastTheTimeout) {
  PeakEwma ewma;
  ewma.observe(1, 1000, 0);
  ewma.observeFailure(1, 200, 0);  // refused at once: still a slow answer
  EXPECT_DOUBLE_EQ(ewma.estimateUs(1, 0), PeakEwma::kFailurePenaltyUs);
  ewma.observeFailure(2, 15'000'000, 0);  // a 15 s timeout counts as 15 s
  EXPECT_DOUBLE_EQ(ewma.estimateUs(2, 0), 15'000'000);
}

class EwmaBalancerTest : public ::testing::Test {
 protected:
  EwmaBalancerTest() : set_(makeEndpoints({1, 1, 1}, "10.6.0."), settingsFor(LbPolicy::kEwma), 1) {}

  // `picks` requests one after another, 1 ms apart; each endpoint answers after its latency.
  std::vector<double> run(const std::vector<uint64_t>& latency_us, int picks) {
    std::vector<double> counts(set_.endpoints().size(), 0);
    for (int i = 0; i < picks; ++i) {
      ctx_.now_ms += 1;
      const Endpoint* endpoint = pickEndpoint(set_, ctx_);
      const int index = indexOf(set_, endpoint);
      counts[index] += 1;
      latency_.observe(endpoint->id, latency_us[index], ctx_.now_ms);
    }
    for (double& count : counts) count /= picks;
    return counts;
  }

  EndpointSet set_;
  std::mt19937_64 rng_{3};
  PeakEwma latency_;
  health::EndpointStates states_;
  std::vector<uint32_t> active_ = std::vector<uint32_t>(1024, 0);
  PickContext ctx_{.active_by_endpoint = &active_,
                   .rng = &rng_,
                   .now_ms = 1000,
                   .latency = &latency_,
                   .states = &states_};
};

TEST_F(EwmaBalancerTest, PrefersTheFastEndpointsAndRecovers) {
  // Endpoint 2 answers in 200 ms, the others in 1 ms: after its first answer it loses every
  // pair it is drawn into.
  auto s = run({1000, 1000, 200000}, 10000);
  std::printf("[ measure  ] ewma: slow endpoint's share %.4f of 10,000 picks\n", s[2]);
  EXPECT_LT(s[2], 0.01);
  EXPECT_NEAR(s[0], 0.5, 0.05);
  // It becomes fast, but nobody asks it: only time brings its estimate down (200 ms x e^-6 =
  // 0.5 ms after 60 s), then it wins pairs again and its real latency counts.
  ctx_.now_ms += 60000;
  s = run({1000, 1000, 1000}, 10000);
  std::printf("[ measure  ] ewma: recovered endpoint's share %.4f\n", s[2]);
  EXPECT_GT(s[2], 0.2);
}

TEST_F(EwmaBalancerTest, RequestsInFlightRaiseTheCost) {
  const auto& eps = set_.endpoints();
  for (const Endpoint& e : eps) latency_.observe(e.id, 1000, ctx_.now_ms);
  active_[eps[0].id] = 5;  // same latency, five requests waiting there
  int busy = 0;
  for (int i = 0; i < 3000; ++i) busy += indexOf(set_, pickEndpoint(set_, ctx_)) == 0;
  EXPECT_EQ(busy, 0);
}

TEST_F(EwmaBalancerTest, AnUnobservedEndpointGetsOneProbeAtATime) {
  const auto& eps = set_.endpoints();
  latency_.observe(eps[0].id, 1000, ctx_.now_ms);
  latency_.observe(eps[1].id, 1000, ctx_.now_ms);
  // Idle and never heard from: it wins whenever it is drawn.
  int picked_new = 0;
  for (int i = 0; i < 3000; ++i) picked_new += indexOf(set_, pickEndpoint(set_, ctx_)) == 2;
  EXPECT_NEAR(picked_new / 3000.0, 2.0 / 3, 0.05);  // drawn in 2 of the 3 pairs
  // With its probe in flight it costs the 30 ms default: the 1 ms endpoints win.
  active_[eps[2].id] = 1;
  picked_new = 0;
  for (int i = 0; i < 3000; ++i) picked_new += indexOf(set_, pickEndpoint(set_, ctx_)) == 2;
  EXPECT_EQ(picked_new, 0);
}

TEST_F(EwmaBalancerTest, AFailingEndpointIsAvoided) {
  const auto& eps = set_.endpoints();
  for (const Endpoint& e : eps) latency_.observe(e.id, 5000, ctx_.now_ms);
  latency_.observeFailure(eps[1].id, 100, ctx_.now_ms);  // connection refused
  int failing = 0;
  for (int i = 0; i < 3000; ++i) failing += indexOf(set_, pickEndpoint(set_, ctx_)) == 1;
  EXPECT_EQ(failing, 0);
}

}  // namespace
}  // namespace turnout::route
