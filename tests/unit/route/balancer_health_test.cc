// The weighted policies (random, round_robin, least_request, ewma) against runtime state:
// unavailable endpoints, the panic threshold, the retry avoid list and slow start.
#include <gtest/gtest.h>

#include <cstdio>

#include "balancer_test_support.h"
#include "health/endpoint_states.h"

namespace turnout::route {
namespace {

using testing::indexOf;
using testing::makeEndpoints;
using testing::settingsFor;
using testing::shares;

constexpr int kPicks = 20000;

const char* nameOf(LbPolicy lb) {
  switch (lb) {
    case LbPolicy::kRandom:
      return "random";
    case LbPolicy::kRoundRobin:
      return "round_robin";
    case LbPolicy::kLeastRequest:
      return "least_request";
    case LbPolicy::kEwma:
      return "ewma";
    case LbPolicy::kRingHash:
      return "ring_hash";
    case LbPolicy::kMaglev:
      return "maglev";
  }
  return "?";
}

class WeightedHealthTest : public ::testing::TestWithParam<LbPolicy> {
 protected:
  EndpointSet makeSet(const std::vector<uint32_t>& weights, uint32_t panic_threshold = 50,
                      uint32_t slow_start_ms = 0) {
    return EndpointSet(makeEndpoints(weights, "10.5.0."),
                       settingsFor(GetParam(), panic_threshold, slow_start_ms), 1);
  }
  void setAvailable(const Endpoint& endpoint, bool available) {
    states_.ensure(endpoint.id, 1).check_failed = !available;
    states_.bumpGeneration();  // what the health thread does after any change
  }

  std::mt19937_64 rng_{7};
  PeakEwma latency_;  // empty: every endpoint unobserved, so ewma draws by weight
  health::EndpointStates states_;
  PickContext ctx_{.rng = &rng_, .now_ms = 1000, .latency = &latency_, .states = &states_};
};

// No runtime state at all: every policy follows the weights (the unit of every other test).
TEST_P(WeightedHealthTest, SharesFollowWeights) {
  auto set = makeSet({1, 2, 7, 0});
  auto s = shares(set, ctx_, 100000);
  // Random draws: 100,000 picks give a standard deviation of at most 0.0016; 0.01 is 6 of them.
  EXPECT_NEAR(s[0], 0.1, 0.01);
  EXPECT_NEAR(s[1], 0.2, 0.01);
  EXPECT_NEAR(s[2], 0.7, 0.01);
  EXPECT_EQ(s[3], 0.0);
}

TEST_P(WeightedHealthTest, UnavailableEndpointIsNeverPicked) {
  auto set = makeSet({1, 1, 1, 1});
  setAvailable(set.endpoints()[1], false);  // 3 of 4 available: 75 %, above the 50 % threshold
  auto s = shares(set, ctx_, kPicks);
  EXPECT_EQ(s[1], 0.0);
  for (int i : {0, 2, 3}) EXPECT_NEAR(s[i], 1.0 / 3, 0.03);
  // An outlier ejection counts the same as a failed check.
  states_.ensure(set.endpoints()[0].id, 1).ejected = true;
  states_.bumpGeneration();  // 2 of 4: exactly 50 %, not below it
  s = shares(set, ctx_, kPicks);
  EXPECT_EQ(s[0], 0.0);
  EXPECT_EQ(s[1], 0.0);
  // Back: picked again once the generation moves.
  states_.ensure(set.endpoints()[0].id, 1).ejected = false;
  setAvailable(set.endpoints()[1], true);
  s = shares(set, ctx_, kPicks);
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(s[i], 0.25, 0.03);
}

TEST_P(WeightedHealthTest, BelowPanicThresholdSpreadsOverAll) {
  auto set = makeSet({1, 1, 1, 1});
  for (int i : {0, 1, 2}) setAvailable(set.endpoints()[i], false);  // 25 % < 50 %
  auto s = shares(set, ctx_, kPicks);
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(s[i], 0.25, 0.03) << "endpoint " << i;
  // Weight 0 endpoints are not counted: 1 of the 2 that can take traffic is 50 %, no panic.
  auto drained = makeSet({0, 0, 1, 1});
  setAvailable(drained.endpoints()[2], false);
  s = shares(drained, ctx_, kPicks);
  EXPECT_EQ(s[2], 0.0);
  EXPECT_DOUBLE_EQ(s[3], 1.0);
}

TEST_P(WeightedHealthTest, NoneAvailableWithoutPanicGivesNull) {
  auto strict = makeSet({1, 1}, /*panic_threshold=*/0);
  for (const Endpoint& e : strict.endpoints()) setAvailable(e, false);
  EXPECT_EQ(pickEndpoint(strict, ctx_), nullptr);
  // With the default threshold, none available is 0 % < 50 %: panic, so all are used.
  auto panicking = makeSet({1, 1});
  EXPECT_NE(pickEndpoint(panicking, ctx_), nullptr);
}

TEST_P(WeightedHealthTest, TriedEndpointsAreAvoided) {
  auto set = makeSet({1, 1, 1, 1});
  const auto& eps = set.endpoints();
  const uint32_t tried[] = {eps[0].id, eps[2].id};
  ctx_.avoid = tried;
  auto s = shares(set, ctx_, kPicks);
  EXPECT_EQ(s[0], 0.0);
  EXPECT_EQ(s[2], 0.0);
  EXPECT_NEAR(s[1], 0.5, 0.03);
  // Everything available was tried: the retry still goes somewhere.
  const uint32_t everything[] = {eps[0].id, eps[1].id, eps[2].id, eps[3].id};
  ctx_.avoid = everything;
  EXPECT_NE(pickEndpoint(set, ctx_), nullptr);
  // The only untried endpoint is unavailable: a tried available one is better than it.
  setAvailable(eps[3], false);
  const uint32_t all_but_down[] = {eps[0].id, eps[1].id, eps[2].id};
  ctx_.avoid = all_but_down;
  for (int i = 0; i < 100; ++i) EXPECT_NE(indexOf(set, pickEndpoint(set, ctx_)), 3);
}

// Slow start: a new endpoint's weight goes from 10 % to 100 % across the window, linearly.
// Two endpoints of weight 1, the second first seen at t = 1000 ms, window 10 s; its expected
// share is r / (1 + r) for ramp r: 0.1 -> 9.1 %, 0.5 -> 33.3 %, 1 -> 50 %.
TEST_P(WeightedHealthTest, SlowStartRampsANewEndpoint) {
  auto set = makeSet({1, 1}, 50, /*slow_start_ms=*/10000);
  states_.ensure(set.endpoints()[1].id, 1000);  // first seen at 1000; endpoint 0 has no state
  const double expected[] = {1.0 / 11, 1.0 / 3, 0.5};
  const uint64_t at[] = {1000, 6000, 11000};
  for (int step = 0; step < 3; ++step) {
    ctx_.now_ms = at[step];
    const double share = shares(set, ctx_, kPicks)[1];
    std::printf("[ measure  ] %s: new endpoint's share at %d %% of the window: %.4f\n",
                nameOf(GetParam()), step * 50, share);
    EXPECT_NEAR(share, expected[step], 0.02) << "at " << step * 50 << " % of the window";
  }
}

TEST_P(WeightedHealthTest, WithoutStateAnEndpointIsNotNew) {
  auto set = makeSet({1, 1}, 50, /*slow_start_ms=*/10000);
  ctx_.now_ms = 5;  // long before any window could end, but neither endpoint has a state
  auto s = shares(set, ctx_, kPicks);
  EXPECT_NEAR(s[0], 0.5, 0.03);
  EXPECT_NEAR(s[1], 0.5, 0.03);
}

INSTANTIATE_TEST_SUITE_P(Policies, WeightedHealthTest,
                         ::testing::Values(LbPolicy::kRandom, LbPolicy::kRoundRobin,
                                           LbPolicy::kLeastRequest, LbPolicy::kEwma),
                         [](const auto& info) { return std::string(nameOf(info.param)); });

// The view is cached per worker: an unchanged generation keeps it, without re-reading states.
TEST(PickableViewTest, RebuiltOnlyWhenTheGenerationMoves) {
  health::EndpointStates states;
  EndpointSet set(makeEndpoints({1, 1}, "10.5.1."), settingsFor(LbPolicy::kRoundRobin), 1);
  PickContext ctx{.states = &states};
  ASSERT_NE(pickEndpoint(set, ctx), nullptr);
  const uint64_t built = set.scratch(0).view.generation;
  states.ensure(set.endpoints()[0].id, 1).check_failed = true;  // no bump yet
  for (int i = 0; i < 10; ++i) pickEndpoint(set, ctx);
  EXPECT_EQ(set.scratch(0).view.generation, built);
  states.bumpGeneration();
  for (int i = 0; i < 10; ++i) EXPECT_EQ(indexOf(set, pickEndpoint(set, ctx)), 1);
  EXPECT_EQ(set.scratch(0).view.generation, states.generation());
}

// Per-worker views: one worker's rebuild never touches another's.
TEST(PickableViewTest, IsPerWorker) {
  health::EndpointStates states;
  EndpointSet set(makeEndpoints({1, 1}, "10.5.2."), settingsFor(LbPolicy::kRandom), 2);
  PickContext w0{.worker = 0, .states = &states};
  pickEndpoint(set, w0);
  EXPECT_NE(set.scratch(0).view.generation, 0u);
  EXPECT_EQ(set.scratch(1).view.generation, 0u);
}

}  // namespace
}  // namespace turnout::route
