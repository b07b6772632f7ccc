#include "route/hash_ring.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <string>
#include <utility>

#include "core/xxhash.h"
#include "route/balancer.h"

namespace turnout::route {

// Points per unit of weight: libketama's 160, whatever the other endpoints are, so an endpoint
// keeps its points when others come and go and adding one endpoint to N moves only the keys its
// own points take, about 1/(N+1). Envoy sizes the ring instead (at least 1,024 points spread
// over the hosts), which changes every host's point count with N: going from 10 to 11 hosts
// moved 17.9 % of 10,000 keys with Envoy's sizing against 10.4 % with this one (same hash, same
// keys), and raising small sets to 1,024 points moved 26-31 % of keys from 4 to 5 endpoints
// against 20 % expected (e2e). So a set of fewer than 7 endpoints of weight 1 has a ring below
// Envoy's minimum; each endpoint still has its 160 points, which is what the minimum is for.
// Envoy's maximum (8M points) holds: past 52,428 units of weight, fewer points per unit.
double HashRing::pointsPerWeight(uint64_t total_weight) {
  return std::min(static_cast<double>(kPointsPerWeight),
                  static_cast<double>(kMaxSize) / static_cast<double>(total_weight));
}

HashRing::HashRing(const std::vector<Endpoint>& endpoints) {
  uint64_t total_weight = 0;
  for (const Endpoint& endpoint : endpoints) total_weight += endpoint.weight;
  if (total_weight == 0) return;
  const double per_weight = pointsPerWeight(total_weight);
  std::vector<std::pair<uint64_t, uint32_t>> entries;
  entries.reserve(static_cast<size_t>(per_weight * total_weight) + endpoints.size());
  std::string key;
  for (uint32_t index = 0; index < endpoints.size(); ++index) {
    const Endpoint& endpoint = endpoints[index];
    if (endpoint.weight == 0) continue;
    // Envoy's point keys: "address_i", hashed with xxHash64. An endpoint keeps its points
    // wherever it sits in the list, so reordering endpoints moves no key.
    const auto points =
        static_cast<uint64_t>(std::max(1.0, std::round(per_weight * endpoint.weight)));
    key.assign(endpoint.address).append("_");
    const size_t prefix = key.size();
    for (uint64_t i = 0; i < points; ++i) {
      char digits[24];
      const auto end = std::to_chars(digits, digits + sizeof digits, i).ptr;
      key.resize(prefix);
      key.append(digits, end);
      entries.emplace_back(core::xxHash64(key), index);
    }
  }
  std::sort(entries.begin(), entries.end());
  points_.reserve(entries.size());
  owners_.reserve(entries.size());
  for (const auto& [point, owner] : entries) {
    points_.push_back(point);
    owners_.push_back(owner);
  }
}

size_t HashRing::positionOf(uint64_t key) const {
  auto it = std::lower_bound(points_.begin(), points_.end(), key);
  return it == points_.end() ? 0 : static_cast<size_t>(it - points_.begin());
}

}  // namespace turnout::route
