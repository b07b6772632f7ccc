// apply(change): the next snapshot from the previous one, sharing every unchanged part.
//
// Ranks. A CompiledRoute is shared between snapshots, so its rank must stay valid in every
// snapshot that holds it. Ranks are therefore sparse: a full compile spaces them kRankGap
// apart, and a route placed later takes a rank between its neighbours' (kRankStep after the
// one before it, so routes appended one by one to the same group use the gap sparingly). The
// relative order of unchanged routes never changes (their keys and document order are fixed),
// so their ranks stay correct. Only when no integer is left between two neighbours are all
// routes compiled again with fresh ranks, which takes many thousands of inserts at one place.
#include <algorithm>
#include <unordered_set>

#include "config/checks.h"
#include "config/load.h"
#include "route/compile.h"
#include "route/snapshot.h"

namespace turnout::route {
namespace {

constexpr uint64_t kRankGap = uint64_t{1} << 32;
constexpr uint64_t kRankStep = uint64_t{1} << 16;
constexpr size_t kMaxNamesListed = 10;
namespace checks = config::checks;

using RankedRoutes = std::vector<std::shared_ptr<const CompiledRoute>>;

void addError(std::vector<config::Error>& errors, std::string field, std::string message) {
  errors.push_back(config::Error{std::move(field), 0, std::move(message)});
}

// A rank strictly between two neighbours' ranks, or 0 when none is left.
uint64_t rankBetween(uint64_t before, uint64_t after) {
  if (after - before < 2) return 0;
  return before + std::min(kRankStep, (after - before) / 2);
}

RankedRoutes::iterator findByRank(RankedRoutes& ranked, uint64_t rank) {
  return std::lower_bound(ranked.begin(), ranked.end(), rank,
                          [](const auto& route, uint64_t r) { return route->rank < r; });
}

// Where a route with document position `doc_index` goes in `ranked`: after every route with a
// smaller key, and among routes with an equal key, after those earlier in the document.
size_t placeOf(const RankedRoutes& ranked, const std::vector<const CompiledRoute*>& source_order,
               const CompiledRoute& route, size_t doc_index) {
  auto key_less = [](const auto& a, const CompiledRoute& b) { return routeKeyLess(*a, b); };
  auto key_greater = [](const CompiledRoute& a, const auto& b) { return routeKeyLess(a, *b); };
  auto lo = std::lower_bound(ranked.begin(), ranked.end(), route, key_less);
  auto hi = std::upper_bound(lo, ranked.end(), route, key_greater);
  if (lo == hi || doc_index >= source_order.size()) return hi - ranked.begin();
  std::unordered_set<const CompiledRoute*> group;
  for (auto it = lo; it != hi; ++it) group.insert(it->get());
  size_t earlier = 0;
  for (size_t i = 0; i < doc_index; ++i) earlier += group.contains(source_order[i]) ? 1 : 0;
  return (lo - ranked.begin()) + earlier;
}

checks::TargetLookup lookupIn(const Snapshot& snapshot) {
  return [&snapshot](std::string_view name, std::string_view version) {
    const CompiledService* service = snapshot.service(name);
    if (service == nullptr) return checks::TargetStatus::kUnknownService;
    if (service->forVersion(version) == nullptr) return checks::TargetStatus::kUnknownVersion;
    return checks::TargetStatus::kOk;
  };
}

// Ids of the routes that split to `name` and would lose their target if the service became
// `replacement` (nullptr: removed), as "a, b (v2)", at most kMaxNamesListed of them.
std::string routesLosingTarget(const std::vector<const CompiledRoute*>& routes,
                               const std::string& name, const CompiledService* replacement) {
  std::string list;
  size_t count = 0;
  for (const CompiledRoute* route : routes) {
    for (const CompiledTarget& target : route->targets) {
      if (target.service != name) continue;
      if (replacement != nullptr && replacement->forVersion(target.version) != nullptr) continue;
      if (++count <= kMaxNamesListed) {
        if (!list.empty()) list += ", ";
        list += route->source.id;
        if (replacement != nullptr) list += " (version '" + target.version + "')";
      }
      break;
    }
  }
  if (count > kMaxNamesListed) {
    list += " and " + std::to_string(count - kMaxNamesListed) + " more";
  }
  return list;
}

}  // namespace

std::shared_ptr<const Snapshot> Compiler::apply(const Snapshot* previous, const Change& change,
                                                std::vector<config::Error>& errors) {
  auto next = std::make_shared<Snapshot>();
  next->revision_ = previous != nullptr ? previous->revision_ + 1 : 1;
  next->worker_count_ = std::max<uint32_t>(worker_count_, 1);
  if (previous != nullptr && change.kind != Change::Kind::kReplaceAll) {
    // Pointer copies: every compiled route and service is shared with `previous`.
    next->routes_ = previous->routes_;
    next->services_ = previous->services_;
    next->service_by_name_ = previous->service_by_name_;
    next->listeners_ = previous->listeners_;
    next->source_order_ = previous->source_order_;
  }
  bool ok = false;
  switch (change.kind) {
    case Change::Kind::kReplaceAll:
      ok = replaceAll(*next, change.all, errors);
      break;
    case Change::Kind::kUpsertRoute:
      ok = upsertRoute(*next, change.route, errors);
      break;
    case Change::Kind::kRemoveRoute:
      ok = removeRoute(*next, change.name, errors);
      break;
    case Change::Kind::kUpsertService:
      ok = upsertService(*next, change.service, errors);
      break;
    case Change::Kind::kRemoveService:
      ok = removeService(*next, change.name, errors);
      break;
  }
  if (!ok) return nullptr;
  rebuildIndexes(*next);
  return next;
}

bool Compiler::replaceAll(Snapshot& next, const config::Config& config,
                          std::vector<config::Error>& errors) const {
  std::vector<config::Error> found = config::validate(config);
  if (!found.empty()) {
    errors.insert(errors.end(), found.begin(), found.end());
    return false;
  }
  next.listeners_ = config.listeners;
  next.services_.reserve(config.services.size());
  next.service_by_name_.reserve(config.services.size());
  for (const config::Service& source : config.services) {
    auto service = compileService(source, next.worker_count_);
    next.service_by_name_.emplace(source.name, service);
    next.services_.push_back(std::move(service));
  }
  std::vector<const config::Route*> sources;
  sources.reserve(config.routes.size());
  for (const config::Route& route : config.routes) sources.push_back(&route);
  compileAllRoutes(next, sources);
  return true;
}

void Compiler::compileAllRoutes(Snapshot& next,
                                const std::vector<const config::Route*>& sources) const {
  next.source_order_.clear();
  next.routes_.clear();
  next.routes_.reserve(sources.size());
  for (const config::Route* source : sources) {
    std::shared_ptr<const CompiledRoute> route = compileRoute(*source);
    next.source_order_.push_back(route.get());
    next.routes_.push_back(std::move(route));
  }
  // Stable: routes with equal keys keep their document order.
  std::stable_sort(next.routes_.begin(), next.routes_.end(),
                   [](const auto& a, const auto& b) { return routeKeyLess(*a, *b); });
  for (size_t i = 0; i < next.routes_.size(); ++i) {
    // Set before publication: the snapshot is not shared yet.
    const_cast<CompiledRoute&>(*next.routes_[i]).rank = (i + 1) * kRankGap;
  }
}

bool Compiler::upsertRoute(Snapshot& next, const config::Route& source,
                           std::vector<config::Error>& errors) const {
  size_t error_count = errors.size();
  checks::checkRoute(source, "", lookupIn(next), errors);
  if (errors.size() != error_count) return false;

  std::unique_ptr<CompiledRoute> route = compileRoute(source);
  auto& order = next.source_order_;
  auto old_it = std::find_if(order.begin(), order.end(),
                             [&](const CompiledRoute* r) { return r->source.id == source.id; });
  size_t doc_index = old_it - order.begin();
  const CompiledRoute* old = old_it != order.end() ? *old_it : nullptr;

  size_t place;
  if (old != nullptr && sameRouteKey(*old, *route)) {
    route->rank = old->rank;  // same key, same document position: the same place
    place = findByRank(next.routes_, old->rank) - next.routes_.begin();
    next.routes_.erase(next.routes_.begin() + place);
  } else {
    if (old != nullptr) next.routes_.erase(findByRank(next.routes_, old->rank));
    place = placeOf(next.routes_, order, *route, doc_index);
    uint64_t before = place > 0 ? next.routes_[place - 1]->rank : 0;
    uint64_t after = place < next.routes_.size() ? next.routes_[place]->rank : UINT64_MAX;
    route->rank = rankBetween(before, after);
  }

  if (route->rank == 0) {  // no rank left between the neighbours: compile everything again
    std::vector<config::Route> sources;
    sources.reserve(order.size() + 1);
    for (const CompiledRoute* r : order) sources.push_back(r->source);
    if (old != nullptr) {
      sources[doc_index] = source;
    } else {
      sources.push_back(source);
    }
    std::vector<const config::Route*> pointers;
    for (const config::Route& r : sources) pointers.push_back(&r);
    compileAllRoutes(next, pointers);
    return true;
  }
  std::shared_ptr<const CompiledRoute> shared = std::move(route);
  if (old != nullptr) {
    order[doc_index] = shared.get();
  } else {
    order.push_back(shared.get());
  }
  next.routes_.insert(next.routes_.begin() + place, std::move(shared));
  return true;
}

bool Compiler::removeRoute(Snapshot& next, const std::string& id,
                           std::vector<config::Error>& errors) const {
  auto& order = next.source_order_;
  auto it = std::find_if(order.begin(), order.end(),
                         [&](const CompiledRoute* r) { return r->source.id == id; });
  if (it == order.end()) {
    addError(errors, "name", "route '" + id + "' not found");
    return false;
  }
  next.routes_.erase(findByRank(next.routes_, (*it)->rank));
  order.erase(it);
  return true;
}

bool Compiler::upsertService(Snapshot& next, const config::Service& source,
                             std::vector<config::Error>& errors) const {
  size_t error_count = errors.size();
  checks::checkService(source, "", errors);
  if (errors.size() != error_count) return false;

  auto service = compileService(source, next.worker_count_);
  std::string users = routesLosingTarget(next.source_order_, source.name, service.get());
  if (!users.empty()) {
    addError(errors, "endpoints",
             "routes still split to versions this service would no longer have: " + users);
    return false;
  }
  auto it = std::find_if(next.services_.begin(), next.services_.end(),
                         [&](const auto& s) { return s->source.name == source.name; });
  if (it != next.services_.end()) {
    *it = service;  // keeps its place in the document order
  } else {
    next.services_.push_back(service);
  }
  next.service_by_name_[source.name] = std::move(service);
  return true;
}

bool Compiler::removeService(Snapshot& next, const std::string& name,
                             std::vector<config::Error>& errors) const {
  auto it = std::find_if(next.services_.begin(), next.services_.end(),
                         [&](const auto& s) { return s->source.name == name; });
  if (it == next.services_.end()) {
    addError(errors, "name", "service '" + name + "' not found");
    return false;
  }
  std::string users = routesLosingTarget(next.source_order_, name, nullptr);
  if (!users.empty()) {
    addError(errors, "name", "service '" + name + "' is still used by routes: " + users);
    return false;
  }
  next.services_.erase(it);
  next.service_by_name_.erase(name);
  return true;
}

void Compiler::rebuildIndexes(Snapshot& next) {
  next.exact_hosts_.clear();
  next.wildcard_suffixes_.clear();
  next.any_host_.clear();
  next.exact_hosts_.reserve(next.routes_.size());
  // routes_ is in rank order, so every bucket comes out in rank order too.
  for (const auto& route : next.routes_) {
    switch (route->host_kind) {
      case CompiledRoute::HostKind::kExact:
        next.exact_hosts_[route->host].push_back(route.get());
        break;
      case CompiledRoute::HostKind::kWildcard:
        next.wildcard_suffixes_[route->host].push_back(route.get());
        break;
      case CompiledRoute::HostKind::kAny:
        next.any_host_.push_back(route.get());
        break;
    }
  }
}

}  // namespace turnout::route
