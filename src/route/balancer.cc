// Endpoint sets and the load-balancing policies that pick from them.
#include <algorithm>

#include "route/snapshot.h"

namespace turnout::route {
namespace {

std::mt19937_64& rngOf(PickContext& ctx) {
  // A context without a random source still works (tests, tools); workers bring their own.
  thread_local std::mt19937_64 fallback{std::random_device{}()};
  return ctx.rng != nullptr ? *ctx.rng : fallback;
}

// Weighted random index among endpoints with weight > 0, skipping `skip` (whose weight the
// caller removed from `total`). `total` must be positive.
size_t weightedIndex(const std::vector<Endpoint>& endpoints, uint64_t total, size_t skip,
                     std::mt19937_64& rng) {
  uint64_t r = rng() % total;  // the modulo bias is below 2^-40 for any realistic total
  for (size_t i = 0; i < endpoints.size(); ++i) {
    if (i == skip) continue;
    if (r < endpoints[i].weight) return i;
    r -= endpoints[i].weight;
  }
  return endpoints.size() - 1;  // unreachable while total matches the weights
}

const Endpoint* pickRandom(const EndpointSet& set, PickContext& ctx) {
  const auto& endpoints = set.endpoints();
  return &endpoints[weightedIndex(endpoints, set.totalWeight(), endpoints.size(), rngOf(ctx))];
}

// nginx's smooth weighted round robin: every pick adds each weight to its current value, takes
// the largest and subtracts the total from it. Spreads picks (5,1,1 gives a a b a c a a).
const Endpoint* pickRoundRobin(const EndpointSet& set, PickContext& ctx) {
  const auto& endpoints = set.endpoints();
  std::vector<int64_t>& current = set.scratch(ctx.worker).current_weights;
  if (current.size() != endpoints.size()) current.assign(endpoints.size(), 0);
  size_t best = endpoints.size();
  for (size_t i = 0; i < endpoints.size(); ++i) {
    if (endpoints[i].weight == 0) continue;
    current[i] += endpoints[i].weight;
    if (best == endpoints.size() || current[i] > current[best]) best = i;
  }
  current[best] -= static_cast<int64_t>(set.totalWeight());
  return &endpoints[best];
}

uint64_t activeOf(const PickContext& ctx, const Endpoint& endpoint) {
  const auto* active = ctx.active_by_endpoint;
  return active != nullptr && endpoint.id < active->size() ? (*active)[endpoint.id] : 0;
}

// Power of two choices: two distinct weighted random picks, the one with fewer requests in
// flight per unit of weight wins. Cheap, and avoids herding onto one "least" endpoint.
const Endpoint* pickLeastRequest(const EndpointSet& set, PickContext& ctx) {
  const auto& endpoints = set.endpoints();
  std::mt19937_64& rng = rngOf(ctx);
  size_t first = weightedIndex(endpoints, set.totalWeight(), endpoints.size(), rng);
  uint64_t rest = set.totalWeight() - endpoints[first].weight;
  if (rest == 0) return &endpoints[first];  // a single endpoint with a positive weight
  size_t second = weightedIndex(endpoints, rest, first, rng);
  const Endpoint& a = endpoints[first];
  const Endpoint& b = endpoints[second];
  // active_a / weight_a <= active_b / weight_b, without division.
  return activeOf(ctx, a) * b.weight <= activeOf(ctx, b) * a.weight ? &a : &b;
}

}  // namespace

EndpointSet::EndpointSet(std::vector<Endpoint> endpoints, LbPolicy lb, uint32_t worker_count)
    : endpoints_(std::move(endpoints)),
      lb_(lb),
      scratch_(std::make_unique<WorkerLbScratch[]>(std::max<uint32_t>(worker_count, 1))) {
  for (const Endpoint& endpoint : endpoints_) total_weight_ += endpoint.weight;
}

const Endpoint* pickEndpoint(const EndpointSet& set, PickContext& ctx) {
  if (set.totalWeight() == 0) return nullptr;
  switch (set.lb()) {
    case LbPolicy::kRandom:
      return pickRandom(set, ctx);
    case LbPolicy::kRoundRobin:
      return pickRoundRobin(set, ctx);
    case LbPolicy::kLeastRequest:
      return pickLeastRequest(set, ctx);
  }
  return nullptr;
}

}  // namespace turnout::route
