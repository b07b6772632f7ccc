// GET /v1/status: what an operator checks first. Uptime, revision, workers, readiness, and every
// service's endpoints as the data plane runs them (a DNS name shows the addresses it resolved
// to, or why it has none), each with its health: "healthy" or "failed" by its active check,
// "ejected" by outlier detection (for how much longer, and how many times so far), or
// "unchecked" when nothing checks it and it was never ejected.
#include <nlohmann/json.hpp>

#include <chrono>

#include "admin/api_support.h"
#include "admin/handlers.h"

namespace turnout::admin::handlers {
namespace {

using nlohmann::ordered_json;

void addHealth(const health::HealthService* health, uint32_t endpoint_id, ordered_json& item) {
  if (health == nullptr) {
    item["health"] = "unchecked";
    return;
  }
  const health::EndpointHealth state = health->endpointHealth(endpoint_id);
  item["health"] = health::healthLabel(state.kind);
  if (state.kind == health::EndpointHealth::Kind::kEjected) {
    item["ejected_for_ms"] = state.ejected_for_ms;
    item["times_ejected"] = state.times_ejected;
  }
}

ordered_json endpointsOf(const route::CompiledService& service,
                         const health::HealthService* health) {
  ordered_json out = ordered_json::array();
  for (const route::Endpoint& endpoint : service.all->endpoints()) {
    ordered_json item{
        {"address", endpoint.address}, {"version", endpoint.version}, {"weight", endpoint.weight}};
    addHealth(health, endpoint.id, item);
    if (!endpoint.hostname.empty()) item["hostname"] = endpoint.hostname;
    if (!endpoint.unresolved.empty()) item["unresolved"] = endpoint.unresolved;
    out.push_back(std::move(item));
  }
  return out;
}

}  // namespace

AdminResponse status(Context& ctx) {
  if (ctx.request.method != "GET" && ctx.request.method != "HEAD") {
    return api::methodNotAllowed("GET, HEAD");
  }
  const auto snapshot = ctx.control.current();
  const auto now = std::chrono::system_clock::now();
  const auto started = ctx.options.started_at;
  const double uptime_s = std::chrono::duration<double>(now - started).count();
  ordered_json body{
      {"status", ctx.options.draining && ctx.options.draining() ? "draining"
                 : ctx.options.ready && ctx.options.ready()     ? "ready"
                                                                : "starting"},
      {"uptime_s", uptime_s},
      {"started_at_ms",
       std::chrono::duration_cast<std::chrono::milliseconds>(started.time_since_epoch()).count()},
      {"revision", snapshot->revision()},
      {"workers", ctx.options.workers},
      {"last_change_propagated", ctx.control.lastPublishPropagated()},
      {"identity", ctx.control.identity().text()},
  };
  ordered_json services = ordered_json::array();
  for (const auto& service : snapshot->services()) {
    services.push_back({{"name", service->source.name},
                        {"lb", service->source.lb},
                        {"endpoints", endpointsOf(*service, ctx.options.health)}});
  }
  body["services"] = std::move(services);
  return api::json(200, body.dump());
}

}  // namespace turnout::admin::handlers
