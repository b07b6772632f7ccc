#include "route/host_index.h"

namespace turnout::route {

HostIndex HostIndex::build(const RouteList& routes) {
  HostIndex index;
  size_t exact = 0;
  size_t wildcard = 0;
  for (const auto& route : routes) {
    exact += route->host_kind == CompiledRoute::HostKind::kExact ? 1 : 0;
    wildcard += route->host_kind == CompiledRoute::HostKind::kWildcard ? 1 : 0;
  }
  index.exact_.reserve(exact);
  index.wildcard_.reserve(wildcard);
  // Every bucket is new and seen by nothing else, so each grows in place; rank order in, rank
  // order in every list out.
  for (const auto& route : routes) {
    ShardedMap<PathIndex>* map = index.mapFor(*route);
    PathIndex& bucket = map != nullptr ? map->slot(route->host) : index.any_;
    bucket.appendWhileBuilding(route);
  }
  return index;
}

ShardedMap<PathIndex>* HostIndex::mapFor(const CompiledRoute& route) {
  switch (route.host_kind) {
    case CompiledRoute::HostKind::kExact:
      return &exact_;
    case CompiledRoute::HostKind::kWildcard:
      return &wildcard_;
    case CompiledRoute::HostKind::kAny:
      break;
  }
  return nullptr;
}

void HostIndex::insert(const std::shared_ptr<const CompiledRoute>& route) {
  ShardedMap<PathIndex>* map = mapFor(*route);
  if (map == nullptr) {
    any_ = any_.with(route);
    return;
  }
  PathIndex& bucket = map->slot(route->host);
  bucket = bucket.with(route);
}

void HostIndex::erase(const CompiledRoute& route) {
  ShardedMap<PathIndex>* map = mapFor(route);
  if (map == nullptr) {
    any_ = any_.without(route);
    return;
  }
  const PathIndex* bucket = map->find(route.host);
  if (bucket == nullptr) return;
  PathIndex rest = bucket->without(route);
  if (rest.empty()) {
    map->erase(route.host);  // a host with no route left leaves no empty bucket behind
  } else {
    map->set(route.host, std::move(rest));
  }
}

const CompiledRoute* HostIndex::match(std::string_view host, std::string_view path,
                                      const std::vector<http::HeaderField>& headers) const {
  const CompiledRoute* best = nullptr;
  if (!host.empty()) {
    if (const PathIndex* bucket = exact_.find(host)) bucket->match(path, headers, best);
    // "*.example.com" is stored as ".example.com": try every suffix that starts at a dot and
    // leaves a non-empty label in front ("a.b.example.com" -> ".b.example.com", ".example.com",
    // ".com"; "example.com" itself never matches it).
    if (!wildcard_.empty()) {
      for (size_t dot = host.find('.', 1); dot != std::string_view::npos;
           dot = host.find('.', dot + 1)) {
        if (const PathIndex* bucket = wildcard_.find(host.substr(dot))) {
          bucket->match(path, headers, best);
        }
      }
    }
  }
  any_.match(path, headers, best);
  return best;
}

}  // namespace turnout::route
