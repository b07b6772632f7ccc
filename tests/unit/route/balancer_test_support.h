// Helpers shared by the balancer tests: endpoint sets built directly, shares of picks.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/xxhash.h"
#include "route/snapshot.h"

namespace turnout::route::testing {

// Endpoints "<prefix><i+1>:80" with the given weights.
inline std::vector<Endpoint> makeEndpoints(const std::vector<uint32_t>& weights,
                                           const std::string& prefix = "10.2.0.") {
  std::vector<Endpoint> endpoints;
  for (size_t i = 0; i < weights.size(); ++i) {
    Endpoint endpoint;
    endpoint.address = prefix + std::to_string(i + 1) + ":80";
    endpoint.id = endpointId(endpoint.address);
    endpoint.weight = weights[i];
    endpoints.push_back(endpoint);
  }
  return endpoints;
}

inline BalancerSettings settingsFor(LbPolicy lb, uint32_t panic_threshold_percent = 50,
                                    uint32_t slow_start_ms = 0) {
  BalancerSettings settings;
  settings.lb = lb;
  settings.panic_threshold_percent = panic_threshold_percent;
  settings.slow_start_ms = slow_start_ms;
  return settings;
}

// The index of `endpoint` in `set`, or -1 for nullptr.
inline int indexOf(const EndpointSet& set, const Endpoint* endpoint) {
  return endpoint == nullptr ? -1 : static_cast<int>(endpoint - set.endpoints().data());
}

// A request key, as requestHash would give for header value "key-<i>".
inline uint64_t keyHash(int i) { return core::xxHash64("key-" + std::to_string(i)); }

// Picks `picks` times and returns the share of each endpoint index. Hash policies get a new
// key on every pick.
inline std::vector<double> shares(const EndpointSet& set, PickContext& ctx, int picks) {
  std::vector<double> counts(set.endpoints().size(), 0);
  for (int i = 0; i < picks; ++i) {
    if (isHashPolicy(set.lb())) ctx.hash = keyHash(i);
    const Endpoint* endpoint = pickEndpoint(set, ctx);
    if (endpoint == nullptr) {
      ADD_FAILURE() << "no endpoint";
      break;
    }
    counts[indexOf(set, endpoint)] += 1;
  }
  for (double& count : counts) count /= picks;
  return counts;
}

// The endpoint address each of `keys` keys maps to.
inline std::vector<std::string> addressesOfKeys(const EndpointSet& set, PickContext& ctx,
                                                int keys) {
  std::vector<std::string> out;
  out.reserve(keys);
  for (int i = 0; i < keys; ++i) {
    ctx.hash = keyHash(i);
    const Endpoint* endpoint = pickEndpoint(set, ctx);
    out.push_back(endpoint == nullptr ? "" : endpoint->address);
  }
  return out;
}

}  // namespace turnout::route::testing
