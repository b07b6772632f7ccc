// Keeping a snapshot's route indexes consistent with each other: the rank order, the document
// order, the id map, the host buckets and the service users. Private to route/.
//
// Ranks. A CompiledRoute is shared between snapshots, so its rank must stay valid in every
// snapshot that holds it. Ranks are therefore sparse: a full build spaces them kRankGap apart,
// and a route placed later takes a rank between its neighbours' (kRankStep after the one before
// it, so routes appended one by one to the same group use the gap sparingly). The relative
// order of unchanged routes never changes (their keys and document places are fixed), so their
// ranks stay correct. Only when no integer is left between two neighbours are all routes
// compiled again with fresh ranks, which takes many thousands of inserts at one place.
#pragma once

#include <memory>
#include <vector>

#include "route/snapshot_state.h"

namespace turnout::route {

inline constexpr uint64_t kRankGap = uint64_t{1} << 32;
inline constexpr uint64_t kRankStep = uint64_t{1} << 16;

// Replaces every route index of `state` with `routes` (in document order, compiled, any seq):
// seqs and ranks are numbered afresh. O(total): for full loads and renumbering only.
void buildRoutes(SnapshotState& state, std::vector<std::unique_ptr<CompiledRoute>> routes);

// Adds `route`, or replaces the route with its id in place in the document order. False when
// no rank is left at its place: then only route_docs is still valid, and the caller must
// rebuild with buildRoutes. O(log total + changed).
bool placeRoute(SnapshotState& state, std::unique_ptr<CompiledRoute> route);

// Removes the route `entry` (as found in state.route_by_id) from every index.
void dropRoute(SnapshotState& state, const RouteEntry& entry);

}  // namespace turnout::route
