// The lookup table of maglev (Eisenbud et al., "Maglev: A Fast and Reliable Software Network
// Load Balancer", NSDI 2016, section 3.4), weighted as Envoy's MaglevTable: every slot holds an
// endpoint, each endpoint fills slots in the order of its own permutation, and a key's endpoint
// is the slot at key mod size. Built once per EndpointSet; a lookup is one array read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace turnout::route {

struct Endpoint;

class MaglevTable {
 public:
  // Envoy's default table size: prime, so every skip in [1, size) visits every slot.
  static constexpr uint32_t kDefaultSize = 65537;

  MaglevTable() = default;
  // Slots for every endpoint with a positive weight, in proportion to it. `size` must be prime.
  explicit MaglevTable(const std::vector<Endpoint>& endpoints, uint32_t size = kDefaultSize);

  bool empty() const { return slots_.empty(); }
  uint32_t size() const { return static_cast<uint32_t>(slots_.size()); }
  // The endpoint index (in the set's endpoints) in slot `slot` (< size()).
  uint32_t at(uint64_t slot) const { return slots_[slot]; }

 private:
  std::vector<uint32_t> slots_;
};

}  // namespace turnout::route
