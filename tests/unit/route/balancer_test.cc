#include <gtest/gtest.h>

#include <map>

#include "balancer_test_support.h"
#include "route/compile.h"

namespace turnout::route {
namespace {

constexpr int kPicks = 100000;

EndpointSet makeSet(LbPolicy lb, std::vector<uint32_t> weights, uint32_t workers = 1) {
  std::vector<Endpoint> endpoints;
  for (size_t i = 0; i < weights.size(); ++i) {
    Endpoint endpoint;
    endpoint.address = "10.2.0." + std::to_string(i + 1) + ":80";
    endpoint.id = endpointId(endpoint.address);
    endpoint.weight = weights[i];
    endpoints.push_back(endpoint);
  }
  return EndpointSet(std::move(endpoints), lb, workers);
}

std::vector<double> shares(const EndpointSet& set, PickContext& ctx, int picks = kPicks) {
  return testing::shares(set, ctx, picks);
}

constexpr LbPolicy kAllPolicies[] = {LbPolicy::kRandom,       LbPolicy::kRoundRobin,
                                     LbPolicy::kLeastRequest, LbPolicy::kRingHash,
                                     LbPolicy::kMaglev,       LbPolicy::kEwma};

TEST(BalancerTest, RandomFollowsWeights) {
  auto set = makeSet(LbPolicy::kRandom, {1, 2, 7, 0});
  std::mt19937_64 rng(42);
  PickContext ctx{0, nullptr, &rng};
  auto s = shares(set, ctx);
  EXPECT_NEAR(s[0], 0.1, 0.005);
  EXPECT_NEAR(s[1], 0.2, 0.005);
  EXPECT_NEAR(s[2], 0.7, 0.005);
  EXPECT_EQ(s[3], 0.0);
}

TEST(BalancerTest, RoundRobinIsExactOverEachCycle) {
  auto set = makeSet(LbPolicy::kRoundRobin, {1, 2, 7});
  PickContext ctx;
  auto s = shares(set, ctx, 100000);  // 10,000 whole cycles of 10
  EXPECT_DOUBLE_EQ(s[0], 0.1);
  EXPECT_DOUBLE_EQ(s[1], 0.2);
  EXPECT_DOUBLE_EQ(s[2], 0.7);
}

TEST(BalancerTest, RoundRobinIsNginxSmoothSequence) {
  auto set = makeSet(LbPolicy::kRoundRobin, {5, 1, 1});
  PickContext ctx;
  std::string sequence;
  for (int i = 0; i < 14; ++i) {
    sequence += static_cast<char>('a' + (pickEndpoint(set, ctx) - set.endpoints().data()));
  }
  EXPECT_EQ(sequence, "aabacaaaabacaa");
}

// Equal weights take the rotation shortcut: the same sequence smooth weighted round robin gives.
TEST(BalancerTest, RoundRobinEqualWeightsRotate) {
  auto set = makeSet(LbPolicy::kRoundRobin, {2, 2, 0, 2});
  auto swrr = makeSet(LbPolicy::kRoundRobin, {2, 2, 0, 3});  // not equal: the full algorithm
  PickContext ctx;
  std::string sequence;
  for (int i = 0; i < 7; ++i) {
    sequence += static_cast<char>('a' + (pickEndpoint(set, ctx) - set.endpoints().data()));
  }
  EXPECT_EQ(sequence, "abdabda");
  sequence.clear();
  for (int i = 0; i < 7; ++i) {
    sequence += static_cast<char>('a' + (pickEndpoint(swrr, ctx) - swrr.endpoints().data()));
  }
  EXPECT_EQ(sequence, "dabdabd");
}

TEST(BalancerTest, RoundRobinStateIsPerWorker) {
  auto set = makeSet(LbPolicy::kRoundRobin, {5, 1, 1}, 2);
  PickContext w0{0, nullptr, nullptr};
  PickContext w1{1, nullptr, nullptr};
  EXPECT_EQ(pickEndpoint(set, w0), &set.endpoints()[0]);
  EXPECT_EQ(pickEndpoint(set, w0), &set.endpoints()[0]);
  EXPECT_EQ(pickEndpoint(set, w0), &set.endpoints()[1]);
  EXPECT_EQ(pickEndpoint(set, w1), &set.endpoints()[0]);  // worker 1 starts its own cycle
  EXPECT_EQ(set.scratch(1).current_weights.size(), 3u);
}

TEST(BalancerTest, WeightZeroNeverPicked) {
  for (LbPolicy lb : kAllPolicies) {
    auto set = makeSet(lb, {0, 3, 0, 1});
    std::mt19937_64 rng(1);
    PickContext ctx{0, nullptr, &rng};
    auto s = shares(set, ctx, 10000);
    EXPECT_EQ(s[0], 0.0);
    EXPECT_EQ(s[2], 0.0);
    EXPECT_GT(s[1], 0.0);
    EXPECT_GT(s[3], 0.0);
  }
}

TEST(BalancerTest, NoPositiveWeightGivesNull) {
  for (LbPolicy lb : kAllPolicies) {
    std::mt19937_64 rng(1);
    PickContext ctx{0, nullptr, &rng};
    EXPECT_EQ(pickEndpoint(makeSet(lb, {0, 0}), ctx), nullptr);
    EXPECT_EQ(pickEndpoint(makeSet(lb, {}), ctx), nullptr);
  }
}

TEST(BalancerTest, LeastRequestSingleEndpoint) {
  auto set = makeSet(LbPolicy::kLeastRequest, {0, 4});
  std::mt19937_64 rng(3);
  PickContext ctx{0, nullptr, &rng};
  for (int i = 0; i < 100; ++i) EXPECT_EQ(pickEndpoint(set, ctx), &set.endpoints()[1]);
}

TEST(BalancerTest, LeastRequestPrefersLessLoaded) {
  auto set = makeSet(LbPolicy::kLeastRequest, {1, 1, 1, 1});
  std::vector<uint32_t> active;
  for (const Endpoint& e : set.endpoints()) {
    if (active.size() <= e.id) active.resize(e.id + 1, 0);
  }
  const auto& eps = set.endpoints();
  active[eps[0].id] = 0;  // idle
  active[eps[1].id] = 10;
  active[eps[2].id] = 20;
  active[eps[3].id] = 30;
  std::mt19937_64 rng(5);
  PickContext ctx{0, &active, &rng};
  auto s = shares(set, ctx);
  // With two distinct choices among four, endpoint i wins when it is drawn and every other
  // drawn one is busier: 3/6, 2/6, 1/6 and 0 of the 6 pairs.
  EXPECT_NEAR(s[0], 0.5, 0.01);
  EXPECT_NEAR(s[1], 2.0 / 6, 0.01);
  EXPECT_NEAR(s[2], 1.0 / 6, 0.01);
  EXPECT_EQ(s[3], 0.0);
}

TEST(BalancerTest, LeastRequestNormalisesByWeight) {
  auto set = makeSet(LbPolicy::kLeastRequest, {4, 1});
  const auto& eps = set.endpoints();
  std::vector<uint32_t> active(std::max(eps[0].id, eps[1].id) + 1, 0);
  active[eps[0].id] = 6;  // 1.5 per unit of weight
  active[eps[1].id] = 2;  // 2 per unit
  std::mt19937_64 rng(9);
  PickContext ctx{0, &active, &rng};
  for (int i = 0; i < 100; ++i) EXPECT_EQ(pickEndpoint(set, ctx), &eps[0]);
}

TEST(BalancerTest, LeastRequestWithoutCountsIsWeighted) {
  auto set = makeSet(LbPolicy::kLeastRequest, {1, 2, 7});
  std::mt19937_64 rng(11);
  PickContext ctx{0, nullptr, &rng};  // every count 0: the first drawn wins
  auto s = shares(set, ctx);
  EXPECT_NEAR(s[0], 0.1, 0.005);
  EXPECT_NEAR(s[1], 0.2, 0.005);
  EXPECT_NEAR(s[2], 0.7, 0.005);
}

}  // namespace
}  // namespace turnout::route

namespace turnout::route {
namespace {

TEST(BalancerTest, PolicyNames) {
  EXPECT_EQ(lbPolicyOf("random"), LbPolicy::kRandom);
  EXPECT_EQ(lbPolicyOf("round_robin"), LbPolicy::kRoundRobin);
  EXPECT_EQ(lbPolicyOf("least_request"), LbPolicy::kLeastRequest);
  EXPECT_EQ(lbPolicyOf("ring_hash"), LbPolicy::kRingHash);
  EXPECT_EQ(lbPolicyOf("maglev"), LbPolicy::kMaglev);
  EXPECT_EQ(lbPolicyOf("ewma"), LbPolicy::kEwma);
}

TEST(BalancerTest, CompiledServiceCarriesItsSettings) {
  config::Service service;
  service.name = "hashed";
  service.lb = "maglev";
  service.hash.header = "x-user";
  service.panic_threshold_percent = 30;
  service.slow_start_ms = 5000;
  service.endpoints = {{"127.0.0.1:9001", "v1", 1}, {"127.0.0.1:9002", "v2", 2}};
  auto compiled = compileService(service, 2);
  for (const EndpointSet* set : {compiled->all.get(), compiled->forVersion("v1")}) {
    ASSERT_NE(set, nullptr);
    EXPECT_EQ(set->lb(), LbPolicy::kMaglev);
    EXPECT_EQ(set->settings().hash.header, "x-user");
    EXPECT_EQ(set->settings().panic_threshold_percent, 30u);
    EXPECT_EQ(set->settings().slow_start_ms, 5000u);
    EXPECT_EQ(set->maglev().size(), MaglevTable::kDefaultSize);  // built once, at compile time
    EXPECT_TRUE(set->ring().empty());
  }
  service.lb = "ring_hash";
  EXPECT_FALSE(compileService(service, 1)->all->ring().empty());
}

}  // namespace
}  // namespace turnout::route
