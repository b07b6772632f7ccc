#include "route/maglev.h"

#include <algorithm>
#include <limits>

#include "core/xxhash.h"
#include "route/balancer.h"

namespace turnout::route {
namespace {

constexpr uint32_t kEmpty = std::numeric_limits<uint32_t>::max();

// One endpoint's walk through the table: its permutation is offset, offset + skip, ... mod
// size (the paper's listing 1), from two independent hashes of its address (Envoy: xxHash64
// with seeds 0 and 1).
struct Filler {
  uint32_t index = 0;   // in the set's endpoints
  uint64_t weight = 0;  // its weight
  uint64_t offset = 0;
  uint64_t skip = 0;
  uint64_t slot = 0;    // where it is along its permutation (offset + next x skip, mod size)
  uint64_t target = 0;  // Envoy's weighting: takes a turn once iteration * weight reaches this
};

// The next slot of its permutation, by addition: the table's size fits 32 bits, so no overflow
// and no division.
void advance(Filler& filler, uint64_t size) {
  filler.slot += filler.skip;
  if (filler.slot >= size) filler.slot -= size;
}

std::vector<Filler> fillersOf(const std::vector<Endpoint>& endpoints, uint32_t size) {
  std::vector<Filler> fillers;
  for (uint32_t index = 0; index < endpoints.size(); ++index) {
    const Endpoint& endpoint = endpoints[index];
    if (endpoint.weight == 0) continue;
    Filler filler;
    filler.index = index;
    filler.weight = endpoint.weight;
    filler.offset = core::xxHash64(endpoint.address, 0) % size;
    filler.skip = core::xxHash64(endpoint.address, 1) % (size - 1) + 1;
    filler.slot = filler.offset;
    fillers.push_back(filler);
  }
  // Turns in address order: the table does not depend on the order endpoints are listed in.
  std::sort(fillers.begin(), fillers.end(), [&](const Filler& a, const Filler& b) {
    return endpoints[a.index].address < endpoints[b.index].address;
  });
  return fillers;
}

}  // namespace

MaglevTable::MaglevTable(const std::vector<Endpoint>& endpoints, uint32_t size) {
  std::vector<Filler> fillers = fillersOf(endpoints, size);
  if (fillers.empty()) return;
  uint64_t max_weight = 0;
  for (const Filler& filler : fillers) max_weight = std::max(max_weight, filler.weight);
  slots_.assign(size, kEmpty);
  uint32_t filled = 0;
  // Each round, an endpoint of weight w takes a slot in w / max_weight of the rounds: the
  // heaviest every round. Taking a slot means its next preferred slot that is still empty.
  for (uint64_t round = 1; filled < size; ++round) {
    for (Filler& filler : fillers) {
      if (filled == size) break;
      if (round * filler.weight < filler.target) continue;
      filler.target += max_weight;
      while (slots_[filler.slot] != kEmpty) advance(filler, size);
      slots_[filler.slot] = filler.index;
      advance(filler, size);
      ++filled;
    }
  }
}

}  // namespace turnout::route
