// apply(change): the next snapshot from the previous one, sharing every unchanged part. The
// route indexes and their ranks are kept by route_table; this file validates and dispatches.
#include <algorithm>

#include "config/checks.h"
#include "config/load.h"
#include "route/compile.h"
#include "route/route_table.h"
#include "route/snapshot.h"
#include "route/snapshot_state.h"

namespace turnout::route {
namespace {

constexpr size_t kMaxNamesListed = 10;
namespace checks = config::checks;

void addError(std::vector<config::Error>& errors, std::string field, std::string message) {
  errors.push_back(config::Error{std::move(field), 0, std::move(message)});
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
// `replacement` (nullptr: removed), as "a, b (v2)", at most kMaxNamesListed of them. Only the
// service's users are looked at, in document order.
std::string routesLosingTarget(const SnapshotState& state, const std::string& name,
                               const CompiledService* replacement) {
  const UserList* users = state.users.find(name);
  if (users == nullptr) return "";
  std::string list;
  size_t count = 0;
  for (const RouteEntry& entry : **users) {
    const CompiledRoute* route = entry.route.get();
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

// Reads the listeners' error pages; a file that vanished since validation keeps the built-in
// page rather than failing the change.
std::shared_ptr<const ErrorPages> loadErrorPages(const std::vector<config::Listener>& listeners) {
  auto pages = std::make_shared<ErrorPages>();
  for (const config::Listener& listener : listeners) {
    for (const auto& [status, file] : listener.error_pages) {
      std::string page, why;
      if (checks::readErrorPage(file, page, &why)) (*pages)[listener.name][status] = page;
    }
  }
  return pages;
}

ChunkedList<ServiceEntry>::Pos servicePos(const SnapshotState& state, uint64_t seq) {
  return state.service_docs.partitionPoint([seq](const ServiceEntry& e) { return e.seq < seq; });
}

// Compiles every route again in document order, with `source` replacing the route of its id
// or appended: fresh ranks, when a change finds none left at its place.
void recompileAll(SnapshotState& state, const config::Route& source,
                  const config::Identity& identity, uint32_t worker_count) {
  std::vector<std::unique_ptr<CompiledRoute>> routes;
  routes.reserve(state.route_docs.size() + 1);
  bool replaced = false;
  state.route_docs.forEach([&](const RouteEntry& entry) {
    bool same = entry.route->source.id == source.id;
    replaced = replaced || same;
    routes.push_back(compileRoute(same ? source : entry.route->source, identity, worker_count));
  });
  if (!replaced) routes.push_back(compileRoute(source, identity, worker_count));
  buildRoutes(state, std::move(routes));
}

}  // namespace

std::shared_ptr<const Snapshot> Compiler::apply(const Snapshot* previous, const Change& change,
                                                std::vector<config::Error>& errors,
                                                uint64_t revision) {
  auto next = std::make_shared<Snapshot>();
  next->revision_ = revision != 0 ? revision : previous != nullptr ? previous->revision_ + 1 : 1;
  last_refusal_ = Refusal::kInvalid;  // the paths below say more when they know more
  next->worker_count_ = std::max<uint32_t>(worker_count_, 1);
  if (previous != nullptr && change.kind != Change::Kind::kReplaceAll) {
    // Pointer copies of shards, chunks and buckets: every part is shared with `previous` until
    // the change writes it.
    *next->state_ = *previous->state_;
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
  last_refusal_ = Refusal::kNone;
  return next;
}

bool Compiler::replaceAll(Snapshot& next, const config::Config& config,
                          std::vector<config::Error>& errors) const {
  std::vector<config::Error> found = config::validate(config);
  if (!found.empty()) {
    errors.insert(errors.end(), found.begin(), found.end());
    return false;
  }
  SnapshotState& state = *next.state_;
  state.listeners = config.listeners;
  state.error_pages = loadErrorPages(config.listeners);
  std::vector<ServiceEntry> services;
  services.reserve(config.services.size());
  for (const config::Service& source : config.services) {
    ServiceEntry entry{compileService(source, next.worker_count_, names_),
                       state.next_service_seq++};
    state.service_by_name.set(source.name, entry);
    services.push_back(std::move(entry));
  }
  state.service_docs.assign(std::move(services));
  std::vector<std::unique_ptr<CompiledRoute>> routes;
  routes.reserve(config.routes.size());
  for (const config::Route& route : config.routes) {
    routes.push_back(compileRoute(route, identity_, next.worker_count_));
  }
  buildRoutes(state, std::move(routes));
  return true;
}

bool Compiler::upsertRoute(Snapshot& next, const config::Route& source,
                           std::vector<config::Error>& errors) const {
  size_t error_count = errors.size();
  checks::checkRoute(source, "", lookupIn(next), errors);
  if (errors.size() != error_count) return false;
  SnapshotState& state = *next.state_;
  if (!placeRoute(state, compileRoute(source, identity_, next.worker_count_))) {
    recompileAll(state, source, identity_, next.worker_count_);
  }
  return true;
}

bool Compiler::removeRoute(Snapshot& next, const std::string& id,
                           std::vector<config::Error>& errors) const {
  SnapshotState& state = *next.state_;
  const RouteEntry* entry = state.route_by_id.find(id);
  if (entry == nullptr) {
    last_refusal_ = Refusal::kNotFound;
    addError(errors, "name", "route '" + id + "' not found");
    return false;
  }
  dropRoute(state, *entry);
  return true;
}

bool Compiler::upsertService(Snapshot& next, const config::Service& source,
                             std::vector<config::Error>& errors) const {
  size_t error_count = errors.size();
  checks::checkService(source, "", errors);
  if (errors.size() != error_count) return false;

  SnapshotState& state = *next.state_;
  auto service = compileService(source, next.worker_count_, names_);
  std::string users = routesLosingTarget(state, source.name, service.get());
  if (!users.empty()) {
    last_refusal_ = Refusal::kConflict;
    addError(errors, "endpoints",
             "routes still split to versions this service would no longer have: " + users);
    return false;
  }
  if (const ServiceEntry* old = state.service_by_name.find(source.name)) {
    ServiceEntry entry{std::move(service), old->seq};  // keeps its place in the document order
    state.service_docs.replace(servicePos(state, entry.seq), entry);
    state.service_by_name.set(source.name, std::move(entry));
  } else {
    ServiceEntry entry{std::move(service), state.next_service_seq++};
    state.service_docs.pushBack(entry);
    state.service_by_name.set(source.name, std::move(entry));
  }
  return true;
}

bool Compiler::removeService(Snapshot& next, const std::string& name,
                             std::vector<config::Error>& errors) const {
  SnapshotState& state = *next.state_;
  const ServiceEntry* entry = state.service_by_name.find(name);
  if (entry == nullptr) {
    last_refusal_ = Refusal::kNotFound;
    addError(errors, "name", "service '" + name + "' not found");
    return false;
  }
  std::string users = routesLosingTarget(state, name, nullptr);
  if (!users.empty()) {
    last_refusal_ = Refusal::kConflict;
    addError(errors, "name", "service '" + name + "' is still used by routes: " + users);
    return false;
  }
  state.service_docs.erase(servicePos(state, entry->seq));
  state.service_by_name.erase(name);
  return true;
}

}  // namespace turnout::route
