// GET /a8-admin: the a8-owned native objects in the 2016 payload shape, so that what was
// POSTed reads back (selectors in the Lua syntax, faults with their probabilities).
#include <nlohmann/json.hpp>

#include "compat/a8_support.h"

namespace turnout::compat {
namespace {

using nlohmann::json;

json serverOf(const std::string& address) {
  size_t colon = address.rfind(':');
  std::string host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  return json{{"host", host}, {"port", std::stoi(address.substr(colon + 1))}};
}

json upstreamsOf(const std::vector<config::Service>& services) {
  json upstreams = json::object();
  for (const config::Service& service : services) {
    for (const config::Endpoint& endpoint : service.endpoints) {
      json& upstream = upstreams[service.name + "_" + endpoint.version];
      upstream["servers"].push_back(serverOf(endpoint.address));
    }
  }
  return upstreams;
}

// The translation puts the default version last, with the weight the selectors left.
json serviceOf(const config::Route& route) {
  const config::SplitTarget& fallback = route.split.back();
  json service{{"default", fallback.version}};
  std::vector<LuaSelector> selectors;
  for (size_t i = 0; i + 1 < route.split.size(); ++i) {
    const config::SplitTarget& target = route.split[i];
    LuaSelector selector;
    selector.version = target.version;
    if (!target.match.headers.empty()) {
      const auto& [name, pattern] = *target.match.headers.begin();
      selector.header = name + ":" + pattern;
    } else if (!target.match.cookies.empty()) {
      selector.user = target.match.cookies.begin()->second;
    } else {
      selector.weight = static_cast<double>(target.weight) / kWeightScale;
    }
    selectors.push_back(std::move(selector));
  }
  if (!selectors.empty()) service["selectors"] = formatLuaSelectors(selectors);
  return service;
}

json faultOf(const config::Route& route, const config::Fault& fault) {
  json out{{"source", fault.match.source}, {"destination", route.id + "_" + fault.version}};
  if (!fault.match.headers.empty()) {
    out["header"] = fault.match.headers.begin()->first;
    out["pattern"] = fault.match.headers.begin()->second;
  }
  out["delay"] = fault.delay ? fault.delay->ms / 1000.0 : 0.0;
  out["delay_probability"] = fault.delay ? fault.delay->percent / 100.0 : 0.0;
  out["abort_probability"] = fault.abort ? fault.abort->percent / 100.0 : 0.0;
  out["return_code"] = !fault.abort        ? 0
                       : fault.abort->drop ? -1
                                           : static_cast<int>(fault.abort->status);
  return out;
}

}  // namespace

std::string renderA8State(const config::Config& owned) {
  json services = json::object();
  json faults = json::array();
  for (const config::Route& route : owned.routes) {
    if (route.split.empty()) continue;
    services[route.id] = serviceOf(route);
    for (const config::Fault& fault : route.faults) faults.push_back(faultOf(route, fault));
  }
  json state{
      {"services", services}, {"upstreams", upstreamsOf(owned.services)}, {"faults", faults}};
  return state.dump();
}

}  // namespace turnout::compat
