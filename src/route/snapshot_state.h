// What a Snapshot is made of, private to route/: persistent indexes whose copies share every
// part a change does not touch, so the next snapshot costs O(changed) plus a few hundred
// pointer copies (DESIGN §2, "Snapshots, not locks").
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "route/chunked_list.h"
#include "route/host_index.h"
#include "route/sharded_map.h"
#include "route/snapshot.h"

namespace turnout::route {

// `seq` orders objects by their place in the document: a new object takes the next number, a
// replaced one keeps its own, so numbers never need to move when others are removed.
struct RouteEntry {
  std::shared_ptr<const CompiledRoute> route;
  uint64_t seq = 0;
};

struct ServiceEntry {
  std::shared_ptr<const CompiledService> service;
  uint64_t seq = 0;
};

// The routes splitting to one service, in document order: what removing or shrinking the
// service would break, found without scanning every route.
using UserList = std::shared_ptr<const std::vector<RouteEntry>>;

// Error page contents by listener name, then status (read from their files when compiled).
using ErrorPages = std::map<std::string, std::map<uint32_t, std::string>, std::less<>>;

struct SnapshotState {
  std::vector<config::Listener> listeners;
  std::shared_ptr<const ErrorPages> error_pages;  // shared until listeners change
  ShardedMap<RouteEntry> route_by_id;
  ChunkedList<RouteEntry> ranked;      // match order: (key, seq); ranks increase along it
  ChunkedList<RouteEntry> route_docs;  // document order (seq)
  ShardedMap<ServiceEntry> service_by_name;
  ChunkedList<ServiceEntry> service_docs;  // document order (seq)
  ShardedMap<UserList> users;              // service name -> routes splitting to it
  HostIndex hosts;
  uint64_t next_route_seq = 1;
  uint64_t next_service_seq = 1;
};

// Read access to a snapshot's parts, for route/ and its tests.
struct SnapshotAccess {
  static const SnapshotState& state(const Snapshot& snapshot) { return *snapshot.state_; }
};

}  // namespace turnout::route
