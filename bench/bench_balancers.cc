// The cost of one endpoint pick per balancing policy (issue 8 item 7): 10 and 1,000 endpoints,
// all available or 10 % unavailable, on a warm worker scratch (as a busy worker runs it). Also
// what building a ring or a Maglev table costs the control thread per endpoint set.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "core/xxhash.h"
#include "health/endpoint_states.h"
#include "route/snapshot.h"

namespace turnout::route {
namespace {

// unequal: weights 1, 2, 3, 4, 1, 2, ... instead of all 1.
std::vector<Endpoint> makeEndpoints(int count, bool unequal = false) {
  std::vector<Endpoint> endpoints;
  for (int i = 0; i < count; ++i) {
    Endpoint endpoint;
    endpoint.address =
        "10.9." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1) + ":8080";
    endpoint.id = endpointId(endpoint.address);
    endpoint.weight = unequal ? i % 4 + 1 : 1;
    endpoints.push_back(std::move(endpoint));
  }
  return endpoints;
}

// range(0): endpoints; range(1): percent of them unavailable (every tenth, for 10 %); range(2):
// 1 for unequal weights.
void BM_Pick(benchmark::State& state, LbPolicy lb) {
  const auto count = static_cast<int>(state.range(0));
  const auto unavailable_percent = static_cast<int>(state.range(1));
  BalancerSettings settings;
  settings.lb = lb;
  EndpointSet set(makeEndpoints(count, state.range(2) != 0), settings, 1);
  health::EndpointStates states;
  const int every = unavailable_percent > 0 ? 100 / unavailable_percent : 0;
  for (int i = 0; every > 0 && i < count; i += every) {
    states.ensure(set.endpoints()[i].id, 1).check_failed = true;
  }
  states.bumpGeneration();
  std::mt19937_64 rng(42);
  PeakEwma latency;
  std::vector<uint32_t> active(set.endpoints().back().id + 1, 0);
  for (const Endpoint& e : set.endpoints()) {
    latency.observe(e.id, 1000 + e.id % 7 * 100, 1);  // ewma: every endpoint observed
    active[e.id] = e.id % 3;                          // least_request, ewma: some in flight
  }
  std::vector<uint64_t> keys(1024);
  for (size_t i = 0; i < keys.size(); ++i) keys[i] = core::xxHash64("user-" + std::to_string(i));
  PickContext ctx{.active_by_endpoint = &active,
                  .rng = &rng,
                  .now_ms = 1000,
                  .latency = &latency,
                  .states = &states};
  size_t i = 0;
  for (auto _ : state) {
    ctx.hash = keys[i++ & 1023];
    const Endpoint* endpoint = pickEndpoint(set, ctx);
    benchmark::DoNotOptimize(endpoint);
  }
}

void pickArgs(benchmark::internal::Benchmark* b) {
  b->Args({10, 0, 0})->Args({10, 10, 0})->Args({1000, 0, 0})->Args({1000, 10, 0});
  b->Args({10, 0, 1})->Args({1000, 0, 1});
}

BENCHMARK_CAPTURE(BM_Pick, random, LbPolicy::kRandom)->Apply(pickArgs);
BENCHMARK_CAPTURE(BM_Pick, round_robin, LbPolicy::kRoundRobin)->Apply(pickArgs);
BENCHMARK_CAPTURE(BM_Pick, least_request, LbPolicy::kLeastRequest)->Apply(pickArgs);
BENCHMARK_CAPTURE(BM_Pick, ring_hash, LbPolicy::kRingHash)->Apply(pickArgs);
BENCHMARK_CAPTURE(BM_Pick, maglev, LbPolicy::kMaglev)->Apply(pickArgs);
BENCHMARK_CAPTURE(BM_Pick, ewma, LbPolicy::kEwma)->Apply(pickArgs);

// The request's key: one header value hashed (ring_hash, maglev only).
void BM_RequestHash(benchmark::State& state) {
  config::HashPolicy policy;
  policy.header = "x-user";
  std::vector<http::HeaderField> headers = {{"host", "api.example.com"},
                                            {"user-agent", "bench"},
                                            {"accept", "*/*"},
                                            {"x-user", "user-12345"}};
  for (auto _ : state) benchmark::DoNotOptimize(requestHash(policy, headers, "10.1.2.3"));
}
BENCHMARK(BM_RequestHash);

// Compile-time cost of the immutable tables, paid once per endpoint set on each change.
void BM_BuildTable(benchmark::State& state, LbPolicy lb) {
  BalancerSettings settings;
  settings.lb = lb;
  const auto endpoints = makeEndpoints(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    EndpointSet set(endpoints, settings, 2);
    benchmark::DoNotOptimize(&set);
  }
}
BENCHMARK_CAPTURE(BM_BuildTable, ring_hash, LbPolicy::kRingHash)
    ->Arg(10)
    ->Arg(1000)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_BuildTable, maglev, LbPolicy::kMaglev)
    ->Arg(10)
    ->Arg(1000)
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace turnout::route
