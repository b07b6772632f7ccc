// Endpoint sets and the load-balancing policies that pick from them.
#include "route/balancer.h"

#include <algorithm>

#include "core/xxhash.h"
#include "health/endpoint_states.h"
#include "route/snapshot.h"

namespace turnout::route {
namespace {

constexpr size_t kNone = static_cast<size_t>(-1);
// Effective weights are in thousandths of a configured weight while slow start is on.
constexpr uint64_t kPerMille = 1000;
// Envoy's slow start min_weight_percent: a new endpoint starts at 10 % of its weight.
constexpr uint64_t kSlowStartMinPerMille = 100;
// maglev: salted rehashes a key tries past an unavailable endpoint before scanning the table.
constexpr uint64_t kMaglevRehashes = 8;

std::mt19937_64& rngOf(PickContext& ctx) {
  // A context without a random source still works (tests, tools); workers bring their own.
  thread_local std::mt19937_64 fallback{std::random_device{}()};
  return ctx.rng != nullptr ? *ctx.rng : fallback;
}

const health::EndpointStates& statesOf(const PickContext& ctx) {
  return ctx.states != nullptr ? *ctx.states : health::endpointStates();
}

bool avoided(const PickContext& ctx, const Endpoint& endpoint) {
  return std::find(ctx.avoid.begin(), ctx.avoid.end(), endpoint.id) != ctx.avoid.end();
}

uint64_t activeOf(const PickContext& ctx, const Endpoint& endpoint) {
  const auto* active = ctx.active_by_endpoint;
  return active != nullptr && endpoint.id < active->size() ? (*active)[endpoint.id] : 0;
}

// ---- The pickable view ----------------------------------------------------------------------

struct Ramp {
  uint64_t per_mille = kPerMille;
  bool may_change = false;  // the window is open, or could open once the endpoint has a state
};

// Envoy's slow start with aggression 1: weight x max(10 %, time since first seen / window).
// An endpoint without a state is not new, but one may be created for it at any moment.
Ramp slowStartRamp(const health::EndpointState* state, uint64_t window_ms, uint64_t now_ms) {
  if (state == nullptr) return {kPerMille, true};
  const uint64_t first_seen = state->first_seen_ms.load(std::memory_order_relaxed);
  const uint64_t elapsed = now_ms > first_seen ? now_ms - first_seen : 0;
  if (elapsed >= window_ms) return {kPerMille, false};
  return {std::max(kSlowStartMinPerMille, elapsed * kPerMille / window_ms), true};
}

// Envoy's panic threshold, by count over the endpoints that can take traffic at all (weight >
// 0): below it, availability is ignored rather than piling everything on the few left.
bool inPanic(const EndpointSet& set, const health::EndpointStates& states) {
  uint64_t eligible = 0;
  uint64_t available = 0;
  for (const Endpoint& endpoint : set.endpoints()) {
    if (endpoint.weight == 0) continue;
    ++eligible;
    if (health::isAvailable(states, endpoint.id)) ++available;
  }
  return available * 100 < uint64_t{set.settings().panic_threshold_percent} * eligible;
}

// Slow start changes weights, which hash policies cannot follow without moving keys (Envoy
// offers it for round robin and least request only).
bool rampsWeights(const BalancerSettings& settings) {
  return settings.slow_start_ms > 0 && !isHashPolicy(settings.lb);
}

void buildView(const EndpointSet& set, const health::EndpointStates& states, uint64_t generation,
               uint64_t now_ms, PickableView& view) {
  const auto& endpoints = set.endpoints();
  const bool panic = inPanic(set, states);
  const bool ramps = rampsWeights(set.settings());
  view.states = &states;
  view.generation = generation;
  view.built_ms = now_ms;
  view.refresh_periodically = false;
  view.uniform = true;
  view.indexes.clear();
  view.cumulative.clear();
  view.usable.assign(endpoints.size(), 0);
  uint64_t total = 0;
  for (uint32_t index = 0; index < endpoints.size(); ++index) {
    const Endpoint& endpoint = endpoints[index];
    if (endpoint.weight == 0) continue;
    const health::EndpointState* state = states.find(endpoint.id);
    if (!panic && state != nullptr && !state->available()) continue;
    uint64_t weight = endpoint.weight;
    if (ramps) {
      const Ramp ramp = slowStartRamp(state, set.settings().slow_start_ms, now_ms);
      weight *= ramp.per_mille;
      view.refresh_periodically |= ramp.may_change;
    }
    if (!view.indexes.empty() && weight != view.weightAt(0)) view.uniform = false;
    total += weight;
    view.indexes.push_back(index);
    view.cumulative.push_back(total);
    view.usable[index] = 1;
  }
}

// This worker's view of `set`, rebuilt when availability changed (one acquire load of the
// health generation per pick) or, while a slow start ramp runs, every kRefreshMs.
const PickableView& viewFor(const EndpointSet& set, const PickContext& ctx) {
  PickableView& view = set.scratch(ctx.worker).view;
  const health::EndpointStates& states = statesOf(ctx);
  const uint64_t generation = states.generation();
  const bool stale = view.generation != generation || view.states != &states;
  const bool ramp_due =
      view.refresh_periodically &&
      (ctx.now_ms < view.built_ms || ctx.now_ms - view.built_ms >= PickableView::kRefreshMs);
  if (stale || ramp_due) buildView(set, states, generation, ctx.now_ms, view);
  return view;
}

// ---- Weighted draws over the view (positions in view.indexes) ------------------------------

size_t drawEntry(const PickableView& view, std::mt19937_64& rng) {
  if (view.uniform) return rng() % view.indexes.size();
  const uint64_t r = rng() % view.total();  // the modulo bias is below 2^-40 for real totals
  return std::upper_bound(view.cumulative.begin(), view.cumulative.end(), r) -
         view.cumulative.begin();
}

// A draw that never lands on `skip`, with the others' weights unchanged; needs two entries.
size_t drawEntryExcept(const PickableView& view, size_t skip, std::mt19937_64& rng) {
  if (view.uniform) {
    const size_t k = rng() % (view.indexes.size() - 1);
    return k >= skip ? k + 1 : k;
  }
  const uint64_t skip_weight = view.weightAt(skip);
  const uint64_t before = skip == 0 ? 0 : view.cumulative[skip - 1];
  uint64_t r = rng() % (view.total() - skip_weight);
  if (r >= before) r += skip_weight;  // jump over skip's own range
  return std::upper_bound(view.cumulative.begin(), view.cumulative.end(), r) -
         view.cumulative.begin();
}

// Retries only (rare, so a linear pass): a draw over the entries not tried yet, never `skip`;
// kNone when there is none.
size_t drawEntryAvoiding(const EndpointSet& set, const PickableView& view, const PickContext& ctx,
                         size_t skip, std::mt19937_64& rng) {
  const auto& endpoints = set.endpoints();
  auto allowed = [&](size_t k) { return k != skip && !avoided(ctx, endpoints[view.indexes[k]]); };
  uint64_t total = 0;
  for (size_t k = 0; k < view.indexes.size(); ++k) {
    if (allowed(k)) total += view.weightAt(k);
  }
  if (total == 0) return kNone;
  uint64_t r = rng() % total;
  for (size_t k = 0; k < view.indexes.size(); ++k) {
    if (!allowed(k)) continue;
    if (r < view.weightAt(k)) return k;
    r -= view.weightAt(k);
  }
  return kNone;
}

size_t drawFirst(const EndpointSet& set, const PickableView& view, PickContext& ctx) {
  if (!ctx.avoid.empty()) {
    const size_t k = drawEntryAvoiding(set, view, ctx, kNone, rngOf(ctx));
    if (k != kNone) return k;
  }
  return drawEntry(view, rngOf(ctx));
}

// The second choice of power of two choices: distinct from `first`; kNone when `first` is the
// only candidate.
size_t drawSecond(const EndpointSet& set, const PickableView& view, PickContext& ctx,
                  size_t first) {
  if (view.indexes.size() < 2) return kNone;
  if (!ctx.avoid.empty()) {
    const size_t k = drawEntryAvoiding(set, view, ctx, first, rngOf(ctx));
    if (k != kNone) return k;
    if (!avoided(ctx, set.endpoints()[view.indexes[first]])) return kNone;  // the only fresh one
  }
  return drawEntryExcept(view, first, rngOf(ctx));
}

// ---- Policies -------------------------------------------------------------------------------

const Endpoint* pickRandom(const EndpointSet& set, const PickableView& view, PickContext& ctx) {
  return &set.endpoints()[view.indexes[drawFirst(set, view, ctx)]];
}

bool anyFresh(const EndpointSet& set, const PickableView& view, const PickContext& ctx) {
  for (uint32_t index : view.indexes) {
    if (!avoided(ctx, set.endpoints()[index])) return true;
  }
  return false;
}

// Equal weights: smooth weighted round robin degenerates to a rotation (0, 1, ..., n-1, 0, ...),
// which costs one step instead of a pass over every endpoint.
const Endpoint* pickRotating(const EndpointSet& set, const PickableView& view, PickContext& ctx) {
  const auto& endpoints = set.endpoints();
  uint32_t& next = set.scratch(ctx.worker).next_in_rotation;
  const size_t count = view.indexes.size();
  const bool skip_tried = !ctx.avoid.empty() && anyFresh(set, view, ctx);
  for (size_t step = 0; step < count; ++step) {
    const size_t k = next % count;
    next = static_cast<uint32_t>(k + 1);
    const Endpoint& endpoint = endpoints[view.indexes[k]];
    if (!skip_tried || !avoided(ctx, endpoint)) return &endpoint;
  }
  return &endpoints[view.indexes[next % count]];  // unreachable: a fresh one exists
}

// nginx's smooth weighted round robin: every pick adds each weight to its current value, takes
// the largest and subtracts the total from it. Spreads picks (5,1,1 gives a a b a c a a).
// Endpoints out of the view (or already tried) sit out without losing their place, as nginx's
// down or tried peers do. A pass over the endpoints per pick, as nginx.
const Endpoint* pickRoundRobin(const EndpointSet& set, const PickableView& view, PickContext& ctx) {
  if (view.uniform) return pickRotating(set, view, ctx);
  const auto& endpoints = set.endpoints();
  std::vector<int64_t>& current = set.scratch(ctx.worker).current_weights;
  if (current.size() != endpoints.size()) current.assign(endpoints.size(), 0);
  const bool skip_tried = !ctx.avoid.empty() && anyFresh(set, view, ctx);
  size_t best = kNone;
  int64_t total = 0;
  for (size_t k = 0; k < view.indexes.size(); ++k) {
    const uint32_t index = view.indexes[k];
    if (skip_tried && avoided(ctx, endpoints[index])) continue;
    const auto weight = static_cast<int64_t>(view.weightAt(k));
    current[index] += weight;
    total += weight;
    if (best == kNone || current[index] > current[best]) best = index;
  }
  current[best] -= total;
  return &endpoints[best];
}

// Power of two choices: two distinct weighted random picks, the cheaper wins (ties: the
// first). Cheap, and avoids herding onto one "best" endpoint (Mitzenmacher; Envoy, Linkerd).
template <typename Cheaper>
const Endpoint* pickTwoChoices(const EndpointSet& set, const PickableView& view, PickContext& ctx,
                               Cheaper cheaper) {
  const size_t first = drawFirst(set, view, ctx);
  const size_t second = drawSecond(set, view, ctx, first);
  const Endpoint& a = set.endpoints()[view.indexes[first]];
  if (second == kNone) return &a;
  const Endpoint& b = set.endpoints()[view.indexes[second]];
  return cheaper(a, view.weightAt(first), b, view.weightAt(second)) ? &a : &b;
}

// Fewer requests in flight per unit of (effective) weight.
const Endpoint* pickLeastRequest(const EndpointSet& set, const PickableView& view,
                                 PickContext& ctx) {
  return pickTwoChoices(set, view, ctx,
                        [&](const Endpoint& a, uint64_t wa, const Endpoint& b, uint64_t wb) {
                          // active_a / wa <= active_b / wb, without division or overflow.
                          return static_cast<unsigned __int128>(activeOf(ctx, a)) * wb <=
                                 static_cast<unsigned __int128>(activeOf(ctx, b)) * wa;
                        });
}

// Linkerd's cost: latency estimate x (requests in flight + 1), here per unit of weight. An
// endpoint this worker never heard from costs Linkerd's default RTT per request already in
// flight to it: nothing while idle, so a new endpoint wins its pair and gets one probe, whose
// answer gives it a real estimate; a burst does not all land on it meanwhile.
double ewmaCost(const PickContext& ctx, const Endpoint& endpoint, uint64_t weight) {
  const double active = static_cast<double>(activeOf(ctx, endpoint));
  const double estimate =
      ctx.latency != nullptr ? ctx.latency->estimateUs(endpoint.id, ctx.now_ms) : -1;
  const double cost = estimate < 0 ? PeakEwma::kDefaultRttUs * active : estimate * (active + 1);
  return cost / static_cast<double>(weight);
}

const Endpoint* pickEwma(const EndpointSet& set, const PickableView& view, PickContext& ctx) {
  return pickTwoChoices(set, view, ctx,
                        [&](const Endpoint& a, uint64_t wa, const Endpoint& b, uint64_t wb) {
                          return ewmaCost(ctx, a, wa) <= ewmaCost(ctx, b, wb);
                        });
}

bool usableFor(const PickableView& view, const PickContext& ctx, const Endpoint& endpoint,
               uint32_t index, bool skip_tried) {
  return view.usable[index] != 0 && !(skip_tried && avoided(ctx, endpoint));
}

// The key's point, then the next points in ring order past unavailable (or tried) endpoints:
// the same walk for the same key, so a key's fallback is stable too.
size_t walkRing(const EndpointSet& set, const PickableView& view, const PickContext& ctx,
                bool skip_tried) {
  const HashRing& ring = set.ring();
  const size_t start = ring.positionOf(ctx.hash);
  for (size_t step = 0; step < ring.size(); ++step) {
    const size_t position = start + step < ring.size() ? start + step : start + step - ring.size();
    const uint32_t index = ring.ownerAt(position);
    if (usableFor(view, ctx, set.endpoints()[index], index, skip_tried)) return index;
  }
  return kNone;
}

// The key's slot; past an unavailable (or tried) endpoint, a few salted rehashes of the key,
// then the table in order from the key's slot. Deterministic for a key, and spread over keys.
size_t lookUpMaglev(const EndpointSet& set, const PickableView& view, const PickContext& ctx,
                    bool skip_tried) {
  const MaglevTable& table = set.maglev();
  auto usableAt = [&](uint64_t slot) {
    const uint32_t index = table.at(slot);
    return usableFor(view, ctx, set.endpoints()[index], index, skip_tried) ? index : kNone;
  };
  const uint64_t home = ctx.hash % table.size();
  if (size_t index = usableAt(home); index != kNone) return index;
  for (uint64_t salt = 1; salt <= kMaglevRehashes; ++salt) {
    if (size_t index = usableAt(core::mix64(ctx.hash + salt) % table.size()); index != kNone) {
      return index;
    }
  }
  for (uint64_t step = 1; step < table.size(); ++step) {
    if (size_t index = usableAt((home + step) % table.size()); index != kNone) return index;
  }
  return kNone;
}

template <typename Lookup>
const Endpoint* pickHashed(const EndpointSet& set, const PickableView& view, PickContext& ctx,
                           Lookup lookup) {
  size_t index = ctx.avoid.empty() ? kNone : lookup(set, view, ctx, true);
  if (index == kNone) index = lookup(set, view, ctx, false);
  return index == kNone ? nullptr : &set.endpoints()[index];
}

}  // namespace

LbPolicy lbPolicyOf(std::string_view name) {
  if (name == "random") return LbPolicy::kRandom;
  if (name == "least_request") return LbPolicy::kLeastRequest;
  if (name == "ring_hash") return LbPolicy::kRingHash;
  if (name == "maglev") return LbPolicy::kMaglev;
  if (name == "ewma") return LbPolicy::kEwma;
  return LbPolicy::kRoundRobin;
}

EndpointSet::EndpointSet(std::vector<Endpoint> endpoints, const BalancerSettings& settings,
                         uint32_t worker_count)
    : endpoints_(std::move(endpoints)),
      settings_(settings),
      scratch_(std::make_unique<WorkerLbScratch[]>(std::max<uint32_t>(worker_count, 1))) {
  for (const Endpoint& endpoint : endpoints_) total_weight_ += endpoint.weight;
  // Built once here, on the control thread; workers only read them.
  if (settings_.lb == LbPolicy::kRingHash) ring_ = HashRing(endpoints_);
  if (settings_.lb == LbPolicy::kMaglev) maglev_ = MaglevTable(endpoints_);
}

const Endpoint* pickEndpoint(const EndpointSet& set, PickContext& ctx) {
  if (set.totalWeight() == 0) return nullptr;
  const PickableView& view = viewFor(set, ctx);
  if (view.indexes.empty()) return nullptr;
  switch (set.lb()) {
    case LbPolicy::kRandom:
      return pickRandom(set, view, ctx);
    case LbPolicy::kRoundRobin:
      return pickRoundRobin(set, view, ctx);
    case LbPolicy::kLeastRequest:
      return pickLeastRequest(set, view, ctx);
    case LbPolicy::kEwma:
      return pickEwma(set, view, ctx);
    case LbPolicy::kRingHash:
      return pickHashed(set, view, ctx, walkRing);
    case LbPolicy::kMaglev:
      return pickHashed(set, view, ctx, lookUpMaglev);
  }
  return nullptr;
}

uint64_t requestHash(const config::HashPolicy& policy,
                     const std::vector<http::HeaderField>& headers, std::string_view client_ip) {
  if (!policy.header.empty()) {
    for (const http::HeaderField& field : headers) {
      if (http::equalsIgnoreCase(field.name, policy.header)) return core::xxHash64(field.value);
    }
  } else if (!policy.cookie.empty()) {
    bool found = false;
    const std::string_view value = findCookie(headers, policy.cookie, &found);
    if (found) return core::xxHash64(value);
  }
  return core::xxHash64(client_ip);
}

}  // namespace turnout::route
