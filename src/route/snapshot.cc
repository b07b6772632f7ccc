// Route lookup on the request path: no lock, no allocation once the thread's buffer is warm.
#include "route/snapshot.h"

#include "route/compile.h"
#include "route/snapshot_state.h"

namespace turnout::route {
namespace {

const std::vector<http::HeaderField> kNoHeaders;

}  // namespace

Snapshot::Snapshot() : state_(std::make_unique<SnapshotState>()) {}
Snapshot::~Snapshot() = default;

const CompiledRoute* Snapshot::match(const MatchInput& input) const {
  // Normalizing writes into a per-thread buffer, which keeps its capacity.
  thread_local std::string host_buffer;
  const auto& headers = input.headers != nullptr ? *input.headers : kNoHeaders;
  std::string_view host = normalizeRequestHost(input.host, host_buffer);
  return state_->hosts.match(host, input.path, headers);
}

const CompiledService* Snapshot::service(std::string_view name) const {
  const ServiceEntry* entry = state_->service_by_name.find(name);
  return entry != nullptr ? entry->service.get() : nullptr;
}

void Snapshot::forEachEndpointId(const std::function<void(uint32_t)>& visit) const {
  state_->service_docs.forEach([&](const ServiceEntry& entry) {
    for (const Endpoint& endpoint : entry.service->all->endpoints()) visit(endpoint.id);
  });
}

const CompiledRoute* Snapshot::route(std::string_view id) const {
  const RouteEntry* entry = state_->route_by_id.find(id);
  return entry != nullptr ? entry->route.get() : nullptr;
}

const std::vector<std::shared_ptr<const CompiledRoute>>& Snapshot::routes() const {
  std::call_once(routes_once_, [this] {
    routes_.reserve(state_->ranked.size());
    state_->ranked.forEach([this](const RouteEntry& entry) { routes_.push_back(entry.route); });
  });
  return routes_;
}

const std::vector<std::shared_ptr<const CompiledService>>& Snapshot::services() const {
  std::call_once(services_once_, [this] {
    services_.reserve(state_->service_docs.size());
    state_->service_docs.forEach(
        [this](const ServiceEntry& entry) { services_.push_back(entry.service); });
  });
  return services_;
}

const std::string* Snapshot::errorPage(std::string_view listener_name, int status) const {
  if (!state_->error_pages || state_->error_pages->empty()) return nullptr;
  auto listener = state_->error_pages->find(listener_name);
  if (listener == state_->error_pages->end()) return nullptr;
  auto page = listener->second.find(static_cast<uint32_t>(status));
  return page == listener->second.end() ? nullptr : &page->second;
}

config::Config Snapshot::toConfig() const {
  config::Config out;
  out.listeners = state_->listeners;
  out.services.reserve(state_->service_docs.size());
  state_->service_docs.forEach(
      [&out](const ServiceEntry& entry) { out.services.push_back(entry.service->source); });
  out.routes.reserve(state_->route_docs.size());
  state_->route_docs.forEach(
      [&out](const RouteEntry& entry) { out.routes.push_back(entry.route->source); });
  return out;
}

}  // namespace turnout::route
