#include "route/route_table.h"

#include <algorithm>
#include <optional>

#include "route/compile.h"

namespace turnout::route {
namespace {

using Pos = ChunkedList<RouteEntry>::Pos;

// The match order: key, then document order.
bool orderLess(const CompiledRoute& a, uint64_t a_seq, const CompiledRoute& b, uint64_t b_seq) {
  if (routeKeyLess(a, b)) return true;
  if (routeKeyLess(b, a)) return false;
  return a_seq < b_seq;
}

Pos rankPos(const ChunkedList<RouteEntry>& ranked, uint64_t rank) {
  return ranked.partitionPoint([rank](const RouteEntry& e) { return e.route->rank < rank; });
}

template <class Entry>
typename ChunkedList<Entry>::Pos seqPos(const ChunkedList<Entry>& list, uint64_t seq) {
  return list.partitionPoint([seq](const Entry& e) { return e.seq < seq; });
}

// A rank strictly between two neighbours' ranks, or 0 when none is left.
uint64_t rankBetween(uint64_t before, uint64_t after) {
  if (after - before < 2) return 0;
  return before + std::min(kRankStep, (after - before) / 2);
}

// The services a route splits to, each once.
std::vector<std::string_view> servicesOf(const CompiledRoute& route) {
  std::vector<std::string_view> names;
  for (const CompiledTarget& target : route.targets) {
    if (std::find(names.begin(), names.end(), target.service) == names.end()) {
      names.push_back(target.service);
    }
  }
  return names;
}

// Copy-on-write of one service's user list: O(users of that service).
void addUser(SnapshotState& state, std::string_view service, const RouteEntry& entry) {
  UserList& slot = state.users.slot(service);
  auto users = slot != nullptr ? std::make_shared<std::vector<RouteEntry>>(*slot)
                               : std::make_shared<std::vector<RouteEntry>>();
  auto at = std::lower_bound(users->begin(), users->end(), entry.seq,
                             [](const RouteEntry& e, uint64_t seq) { return e.seq < seq; });
  users->insert(at, entry);
  slot = std::move(users);
}

void removeUser(SnapshotState& state, std::string_view service, uint64_t seq) {
  const UserList* found = state.users.find(service);
  if (found == nullptr) return;
  auto users = std::make_shared<std::vector<RouteEntry>>(**found);
  std::erase_if(*users, [seq](const RouteEntry& e) { return e.seq == seq; });
  if (users->empty()) {
    state.users.erase(service);
  } else {
    state.users.set(service, std::move(users));
  }
}

// Takes a route out of the indexes that follow the match order; route_docs and route_by_id
// are the caller's.
void unlink(SnapshotState& state, const RouteEntry& entry) {
  state.ranked.erase(rankPos(state.ranked, entry.route->rank));
  state.hosts.erase(*entry.route);
  for (std::string_view service : servicesOf(*entry.route)) {
    removeUser(state, service, entry.seq);
  }
}

void link(SnapshotState& state, const RouteEntry& entry, Pos ranked_pos) {
  state.ranked.insert(ranked_pos, entry);
  state.hosts.insert(entry.route);
  for (std::string_view service : servicesOf(*entry.route)) addUser(state, service, entry);
}

}  // namespace

void buildRoutes(SnapshotState& state, std::vector<std::unique_ptr<CompiledRoute>> routes) {
  std::vector<RouteEntry> docs;
  docs.reserve(routes.size());
  for (size_t i = 0; i < routes.size(); ++i)
    docs.push_back(RouteEntry{std::move(routes[i]), i + 1});
  // Stable on document order: the same as sorting by (key, seq), with one key comparison.
  std::vector<RouteEntry> ranked = docs;
  std::stable_sort(ranked.begin(), ranked.end(), [](const RouteEntry& a, const RouteEntry& b) {
    return routeKeyLess(*a.route, *b.route);
  });
  for (size_t i = 0; i < ranked.size(); ++i) {
    // Set before publication: nothing else holds these routes yet.
    const_cast<CompiledRoute&>(*ranked[i].route).rank = (i + 1) * kRankGap;
  }
  RouteList by_rank;
  by_rank.reserve(ranked.size());
  for (const RouteEntry& entry : ranked) by_rank.push_back(entry.route);
  state.hosts = HostIndex::build(by_rank);
  state.route_by_id = ShardedMap<RouteEntry>{};
  state.route_by_id.reserve(docs.size());
  state.users = ShardedMap<UserList>{};
  for (const RouteEntry& entry : docs) {
    state.route_by_id.set(entry.route->source.id, entry);
    for (std::string_view service : servicesOf(*entry.route)) {
      // Each list is created here and seen by nothing else yet: it grows in place.
      UserList& users = state.users.slot(service);
      if (users == nullptr) users = std::make_shared<std::vector<RouteEntry>>();
      const_cast<std::vector<RouteEntry>&>(*users).push_back(entry);
    }
  }
  state.ranked.assign(std::move(ranked));
  state.next_route_seq = docs.size() + 1;
  state.route_docs.assign(std::move(docs));
}

bool placeRoute(SnapshotState& state, std::unique_ptr<CompiledRoute> route) {
  const RouteEntry* found = state.route_by_id.find(route->source.id);
  std::optional<RouteEntry> old;
  if (found != nullptr) old = *found;
  uint64_t seq = old ? old->seq : state.next_route_seq;
  if (old) unlink(state, *old);

  Pos pos = state.ranked.partitionPoint(
      [&](const RouteEntry& e) { return orderLess(*e.route, e.seq, *route, seq); });
  if (old && sameRouteKey(*old->route, *route)) {
    route->rank = old->route->rank;  // same key, same document place: the same rank
  } else {
    const RouteEntry* before = state.ranked.before(pos);
    const RouteEntry* after = state.ranked.at(pos);
    route->rank = rankBetween(before != nullptr ? before->route->rank : 0,
                              after != nullptr ? after->route->rank : UINT64_MAX);
    if (route->rank == 0) return false;
  }

  RouteEntry entry{std::move(route), seq};
  link(state, entry, pos);
  if (old) {
    state.route_docs.replace(seqPos(state.route_docs, seq), entry);
  } else {
    state.route_docs.pushBack(entry);
    ++state.next_route_seq;
  }
  const std::string& id = entry.route->source.id;  // owned by the route, which outlives set()
  state.route_by_id.set(id, entry);
  return true;
}

void dropRoute(SnapshotState& state, const RouteEntry& entry) {
  RouteEntry held = entry;  // `entry` may live in route_by_id, which changes below
  unlink(state, held);
  state.route_docs.erase(seqPos(state.route_docs, held.seq));
  state.route_by_id.erase(held.route->source.id);
}

}  // namespace turnout::route
