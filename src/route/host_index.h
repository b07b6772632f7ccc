// Routes by host: exact hosts and wildcard suffixes in sharded maps of host buckets, plus the
// bucket of routes for any host. Each bucket is a PathIndex, so a change rebuilds one branch of
// one bucket and one shard of one map; everything else is shared with the previous snapshot.
// Private to route/.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "route/path_index.h"
#include "route/sharded_map.h"
#include "route/snapshot.h"

namespace turnout::route {

class HostIndex {
 public:
  // The index of `routes`, given in rank order, each bucket built in one pass.
  static HostIndex build(const RouteList& routes);

  void insert(const std::shared_ptr<const CompiledRoute>& route);  // its rank must be set
  void erase(const CompiledRoute& route);                          // found by host and rank

  // The lowest-rank route matching the request; `host` is already normalized.
  const CompiledRoute* match(std::string_view host, std::string_view path,
                             const std::vector<http::HeaderField>& headers) const;

  // For tests of structural sharing.
  const ShardedMap<PathIndex>& exactHosts() const { return exact_; }
  const ShardedMap<PathIndex>& wildcardSuffixes() const { return wildcard_; }
  const PathIndex& anyHost() const { return any_; }

 private:
  ShardedMap<PathIndex>* mapFor(const CompiledRoute& route);

  ShardedMap<PathIndex> exact_;     // "api.example.com" -> bucket
  ShardedMap<PathIndex> wildcard_;  // ".example.com" (from "*.example.com") -> bucket
  PathIndex any_;
};

}  // namespace turnout::route
