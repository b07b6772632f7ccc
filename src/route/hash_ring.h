// The consistent hash ring of ring_hash (Karger et al.; Ketama's and Envoy's ring hash): every
// endpoint owns points on a 64-bit circle, and a key belongs to the first point at or after it.
// Built once per EndpointSet on the control thread, immutable afterwards, read by every worker.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace turnout::route {

struct Endpoint;

class HashRing {
 public:
  // Points per unit of weight: libketama's 160 per server (see pointsPerWeight for why not
  // Envoy's minimum ring size of 1,024).
  static constexpr uint64_t kPointsPerWeight = 160;
  static constexpr uint64_t kMaxSize = 8 * 1024 * 1024;  // Envoy's maximum_ring_size

  // How many points an endpoint gets per unit of weight in a set of `total_weight` (> 0).
  static double pointsPerWeight(uint64_t total_weight);

  HashRing() = default;
  // Points for every endpoint with a positive weight, in proportion to it; none for the others.
  explicit HashRing(const std::vector<Endpoint>& endpoints);

  bool empty() const { return points_.empty(); }
  size_t size() const { return points_.size(); }
  // The position of the first point at or after `key`, wrapping past the largest to 0.
  size_t positionOf(uint64_t key) const;
  // The endpoint index (in the set's endpoints) that owns the point at `position`.
  uint32_t ownerAt(size_t position) const { return owners_[position]; }

 private:
  std::vector<uint64_t> points_;  // sorted: a binary search reads only this array
  std::vector<uint32_t> owners_;  // parallel to points_
};

}  // namespace turnout::route
