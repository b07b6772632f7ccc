// The 2016 /a8-admin payload <-> native objects. The later {"instances","rules"} shape is
// compat/a8_rules.cc's; both share the helpers of compat/a8_support.h.
#include "compat/amalgam8.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <map>

#include "compat/a8_support.h"
#include "compat/lua_table.h"

namespace turnout::compat {
namespace {

using nlohmann::json;

// One version's servers, from upstreams."svc_v1".
struct Upstream {
  std::string service;
  std::string version;
  std::vector<std::string> addresses;
};

Upstream readUpstream(const std::string& name, const json& value) {
  const std::string field = "upstreams." + name;
  Upstream upstream;
  if (!splitVersionedName(name, upstream.service, upstream.version)) {
    throw Invalid(field, "name must be <service>_<version> or <service>:<version>");
  }
  requireObject(value, field, {"servers"});
  const json* servers = member(value, "servers");
  if (servers == nullptr) return upstream;  // no servers: the version has no endpoint (503)
  requireArray(*servers, field + ".servers");
  for (size_t i = 0; i < servers->size(); ++i) {
    const std::string server_field = field + ".servers[" + std::to_string(i) + "]";
    const json& server = (*servers)[i];
    requireObject(server, server_field, {"host", "port"});
    const json* host = member(server, "host");
    const json* port = member(server, "port");
    if (host == nullptr || host->is_null()) throw Invalid(server_field, "null host for server");
    if (port == nullptr || port->is_null()) throw Invalid(server_field, "null port for server");
    upstream.addresses.push_back(endpointAddress(readString(*host, server_field + ".host"),
                                                 readPort(*port, server_field + ".port"),
                                                 server_field));
  }
  return upstream;
}

// selectors as a Lua table string, or the same as a JSON object {"v2":{"weight":0.5}}.
std::vector<LuaSelector> readSelectors(const json& value, const std::string& field) {
  if (value.is_null()) return {};
  if (value.is_object()) return selectorsFromJson(value, field);
  if (!value.is_string()) {
    throw Invalid(field, "must be a Lua table string (\"{v2={weight=0.5}}\") or an object");
  }
  std::string text = value.get<std::string>();
  std::string error;
  auto selectors = parseLuaSelectors(text, error);
  if (!selectors) throw Invalid(field, error);
  return std::move(*selectors);
}

config::SplitTarget selectorTarget(const std::string& service, const LuaSelector& selector) {
  config::SplitTarget target;
  target.service = service;
  target.version = selector.version;
  if (selector.header) {
    size_t colon = selector.header->find(':');
    if (colon == std::string::npos || colon == 0) {
      throw Invalid("services." + service + ".selectors",
                    "header selector must be \"Name:regex\", got \"" + *selector.header + "\"");
    }
    target.match.headers[selector.header->substr(0, colon)] = selector.header->substr(colon + 1);
  } else if (selector.user) {
    target.match.cookies["user"] = *selector.user;
  }
  return target;
}

// Header and user selectors first (they are decisions, not draws), then the weighted versions
// and the default with what is left of the weight.
std::vector<config::SplitTarget> splitOf(const std::string& service,
                                         const std::string& default_version,
                                         const std::vector<LuaSelector>& selectors) {
  std::vector<config::SplitTarget> split;
  uint32_t weighted = 0;
  for (const LuaSelector& selector : selectors) {
    if (selector.weight) continue;
    split.push_back(selectorTarget(service, selector));
  }
  for (const LuaSelector& selector : selectors) {
    if (!selector.weight || selector.version == default_version) continue;
    config::SplitTarget target = selectorTarget(service, selector);
    target.weight = static_cast<uint32_t>(std::lround(*selector.weight * kWeightScale));
    weighted += target.weight;
    split.push_back(std::move(target));
  }
  if (weighted > kWeightScale) {
    throw Invalid("services." + service + ".selectors", "weights add up to more than 1");
  }
  split.push_back(config::SplitTarget{service, default_version, kWeightScale - weighted, {}});
  return split;
}

config::Route routeOf(const std::string& service, const json& value) {
  const std::string field = "services." + service;
  requireObject(value, field, {"default", "selectors", "service_type"});
  const json* default_version = member(value, "default");
  if (default_version == nullptr || default_version->is_null()) {
    throw Invalid(field + ".default", "null entry for default version");
  }
  if (const json* type = member(value, "service_type")) checkServiceType(*type, field);
  const json* selectors_value = member(value, "selectors");
  std::vector<LuaSelector> selectors = selectors_value
                                           ? readSelectors(*selectors_value, field + ".selectors")
                                           : std::vector<LuaSelector>{};
  config::Route route = serviceRoute(service);
  route.split = splitOf(service, readString(*default_version, field + ".default"), selectors);
  // Always named: with one version, a leftover cookie is expired, as the original did.
  route.sticky.cookie = "version";
  return route;
}

config::Fault faultOf(const json& value, const std::string& field, std::string& service) {
  requireObject(value, field,
                {"source", "destination", "header", "pattern", "delay", "delay_probability",
                 "abort_probability", "return_code"});
  auto text = [&](const char* key) {
    const json* found = member(value, key);
    return found == nullptr || found->is_null() ? std::string()
                                                : readString(*found, field + "." + key);
  };
  auto number = [&](const char* key) {
    const json* found = member(value, key);
    return found == nullptr || found->is_null() ? 0.0 : readNumber(*found, field + "." + key);
  };
  A8FaultSpec spec;
  spec.source = text("source");
  spec.header = text("header");
  spec.pattern = text("pattern");
  spec.delay_seconds = number("delay");
  spec.delay_probability = number("delay_probability");
  spec.abort_probability = number("abort_probability");
  const json* code = member(value, "return_code");
  spec.has_return_code = code != nullptr && !code->is_null();
  if (spec.has_return_code) spec.return_code = readInteger(*code, field + ".return_code");
  std::string version;
  if (!splitVersionedName(text("destination"), service, version)) {
    throw Invalid(field + ".destination", "must be <service>_<version> or <service>:<version>");
  }
  return nativeFault(spec, version, field);
}

A8Objects translateLegacy(const json& doc) {
  requireObject(doc, "", {"upstreams", "services", "faults"});
  std::map<std::string, config::Service> services;  // by name, for a stable order
  if (const json* upstreams = member(doc, "upstreams")) {
    requireObjectOrNull(*upstreams, "upstreams");
    for (const auto& [name, value] : upstreams->items()) {
      Upstream upstream = readUpstream(name, value);
      config::Service& service = services[upstream.service];
      service.name = upstream.service;
      for (const std::string& address : upstream.addresses) {
        service.endpoints.push_back({address, upstream.version, 1});
      }
    }
  }
  std::map<std::string, config::Route> routes;
  if (const json* declared = member(doc, "services")) {
    requireObjectOrNull(*declared, "services");
    for (const auto& [name, value] : declared->items()) {
      checkServiceName(name, "services." + name);
      routes.emplace(name, routeOf(name, value));
      services[name].name = name;  // a service with no upstream at all answers 503
    }
  }
  if (const json* faults = member(doc, "faults")) {
    requireArrayOrNull(*faults, "faults");
    for (size_t i = 0; i < faults->size(); ++i) {
      const std::string field = "faults[" + std::to_string(i) + "]";
      std::string service;
      config::Fault fault = faultOf((*faults)[i], field, service);
      auto route = routes.find(service);
      if (route == routes.end()) {
        throw Invalid(field + ".destination", "no service '" + service + "' in services");
      }
      route->second.faults.push_back(std::move(fault));
    }
  }
  A8Objects out;
  for (auto& [name, service] : services) out.services.push_back(finishService(std::move(service)));
  for (auto& [name, route] : routes) out.routes.push_back(std::move(route));
  return out;
}

}  // namespace

A8Parse translateA8(std::string_view body, const config::Identity& identity, A8Objects& out,
                    std::string& error) {
  json doc;
  try {
    doc = json::parse(body);
  } catch (const json::exception& e) {
    error = e.what();
    return A8Parse::kBadJson;
  }
  try {
    out = doc.is_object() && (doc.contains("instances") || doc.contains("rules"))
              ? translateRules(doc, identity)
              : translateLegacy(doc);
  } catch (const Invalid& invalid) {
    error = invalid.describe();
    return A8Parse::kInvalid;
  } catch (const json::exception& e) {
    error = e.what();
    return A8Parse::kInvalid;
  }
  return A8Parse::kOk;
}

}  // namespace turnout::compat
