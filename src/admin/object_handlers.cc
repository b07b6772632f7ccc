// /v1/services[/{name}[/endpoints]] and /v1/routes[/{id}]: services and routes are handled by
// one set of functions, parameterized by what differs between them (ObjectKind).
#include <algorithm>
#include <functional>

#include "admin/api_support.h"
#include "admin/handlers.h"
#include "config/load.h"

namespace turnout::admin::handlers {
namespace {

using Kind = route::Change::Kind;

struct ObjectKind {
  const char* singular;  // "service": the key of the object in answers
  const char* plural;    // "services"
  const char* id_field;  // "name" or "id"
  Kind upsert;
  Kind remove;
  // Decodes a body into the change; errors as the config module reports them.
  std::function<std::vector<config::Error>(std::string_view, config::Format, route::Change&)> parse;
  std::function<std::string&(route::Change&)> id_of;  // the id inside the change's object
  std::function<std::string(const route::Change&)> encode;
  std::function<std::vector<std::string>(const control::ControlPlane&)> list;
  std::function<bool(const route::Snapshot&, const std::string&, std::string&)> find;
};

const ObjectKind& serviceKind() {
  static const ObjectKind kind{
      "service",
      "services",
      "name",
      Kind::kUpsertService,
      Kind::kRemoveService,
      [](std::string_view text, config::Format f, route::Change& c) {
        return config::parseService(text, f, c.service);
      },
      [](route::Change& c) -> std::string& { return c.service.name; },
      [](const route::Change& c) { return config::toJson(c.service); },
      [](const control::ControlPlane& control) {
        std::vector<std::string> items;
        for (const auto& service : control.storedConfig().services) {
          items.push_back(config::toJson(service));
        }
        return items;
      },
      [](const route::Snapshot& s, const std::string& name, std::string& json) {
        const route::CompiledService* service = s.service(name);
        if (service != nullptr) json = config::toJson(service->source);
        return service != nullptr;
      }};
  return kind;
}

const ObjectKind& routeKind() {
  static const ObjectKind kind{
      "route",
      "routes",
      "id",
      Kind::kUpsertRoute,
      Kind::kRemoveRoute,
      [](std::string_view text, config::Format f, route::Change& c) {
        return config::parseRoute(text, f, c.route);
      },
      [](route::Change& c) -> std::string& { return c.route.id; },
      [](const route::Change& c) { return config::toJson(c.route); },
      [](const control::ControlPlane& control) {
        // Document order, as the configuration lists them.
        std::vector<std::string> items;
        for (const auto& r : control.storedConfig().routes) items.push_back(config::toJson(r));
        return items;
      },
      [](const route::Snapshot& s, const std::string& id, std::string& json) {
        const route::CompiledRoute* r = s.route(id);
        if (r != nullptr) json = config::toJson(r->source);
        return r != nullptr;
      }};
  return kind;
}

// Reads a write's body into `change`. A body without the id takes the one in the path; a
// body with a different one is refused.
bool readBody(Context& ctx, const ObjectKind& kind, const std::string* path_id,
              route::Change& change, std::optional<uint64_t>& if_match, AdminResponse& refusal) {
  config::Format format;
  if (!api::bodyFormat(ctx.request, format, refusal) ||
      !api::ifMatch(ctx.request, if_match, refusal)) {
    return false;
  }
  change.kind = kind.upsert;
  std::vector<config::Error> found = kind.parse(ctx.request.body, format, change);
  std::string& id = kind.id_of(change);
  if (path_id != nullptr && id.empty()) {
    // An id left out takes the path's (the compiler validates it again); an id of the wrong
    // type stays an error.
    const bool only_missing = std::all_of(found.begin(), found.end(), [&](const config::Error& e) {
      return e.field != kind.id_field || e.message == "must not be empty";
    });
    if (only_missing) {
      id = *path_id;
      std::erase_if(found, [&](const config::Error& e) { return e.field == kind.id_field; });
    }
  }
  if (!found.empty()) {
    refusal = api::errors(400, found);
    return false;
  }
  if (path_id != nullptr && id != *path_id) {
    refusal = api::error(
        400,
        std::string(kind.id_field) + " '" + id + "' differs from the path's '" + *path_id + "'",
        kind.id_field);
    return false;
  }
  return true;
}

AdminResponse collection(Context& ctx, const ObjectKind& kind) {
  if (ctx.request.method == "GET" || ctx.request.method == "HEAD") {
    const uint64_t revision = ctx.control.revision();
    return api::page(ctx.request, revision, kind.plural, kind.list(ctx.control));
  }
  if (ctx.request.method != "POST") return api::methodNotAllowed("GET, HEAD, POST");
  route::Change change;
  std::optional<uint64_t> if_match;
  AdminResponse refusal;
  if (!readBody(ctx, kind, nullptr, change, if_match, refusal)) return refusal;
  const std::string json = kind.encode(change);
  auto result = ctx.control.apply(std::move(change), if_match, "api", control::Expect::kAbsent);
  return api::applied(result, 201, kind.singular, json);
}

AdminResponse member(Context& ctx, const ObjectKind& kind, const std::string& id) {
  const std::string& method = ctx.request.method;
  if (method == "GET" || method == "HEAD") {
    std::string json;
    if (!kind.find(*ctx.control.current(), id, json)) {
      return api::error(404, std::string(kind.singular) + " '" + id + "' not found", kind.id_field);
    }
    return api::json(200, std::move(json));
  }
  std::optional<uint64_t> if_match;
  AdminResponse refusal;
  route::Change change;
  if (method == "PUT") {
    if (!readBody(ctx, kind, &id, change, if_match, refusal)) return refusal;
    const std::string json = kind.encode(change);
    auto result = ctx.control.apply(std::move(change), if_match, "api");
    return api::applied(result, result.created ? 201 : 200, kind.singular, json);
  }
  if (method == "DELETE") {
    if (!api::ifMatch(ctx.request, if_match, refusal)) return refusal;
    change.kind = kind.remove;
    change.name = id;
    return api::applied(ctx.control.apply(std::move(change), if_match, "api"), 200, "", "");
  }
  return api::methodNotAllowed("GET, HEAD, PUT, DELETE");
}

}  // namespace

AdminResponse services(Context& ctx) { return collection(ctx, serviceKind()); }
AdminResponse service(Context& ctx, const std::string& name) {
  return member(ctx, serviceKind(), name);
}
AdminResponse routes(Context& ctx) { return collection(ctx, routeKind()); }
AdminResponse route(Context& ctx, const std::string& id) { return member(ctx, routeKind(), id); }

AdminResponse endpoints(Context& ctx, const std::string& name) {
  if (ctx.request.method != "PUT") return api::methodNotAllowed("PUT");
  config::Format format;
  AdminResponse refusal;
  std::optional<uint64_t> if_match;
  if (!api::bodyFormat(ctx.request, format, refusal) ||
      !api::ifMatch(ctx.request, if_match, refusal)) {
    return refusal;
  }
  std::vector<config::Endpoint> list;
  const auto found = config::parseEndpoints(ctx.request.body, format, list);
  if (!found.empty()) return api::errors(400, found);
  auto result = ctx.control.replaceEndpoints(name, std::move(list), if_match, "api");
  std::string json;
  if (result.status < 400) serviceKind().find(*ctx.control.current(), name, json);
  return api::applied(result, 200, "service", json);
}

}  // namespace turnout::admin::handlers
