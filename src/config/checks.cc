#include "config/checks.h"

#include <re2/re2.h>

#include <array>
#include <map>
#include <set>
#include <unordered_set>

#include "config/address.h"
#include "config/load.h"

namespace turnout::config::checks {
namespace {

void add(std::vector<Error>& errors, std::string field, std::string message) {
  errors.push_back(Error{std::move(field), 0, std::move(message)});
}

bool isNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

// RFC 9110 token characters, for header names.
bool isTokenChar(char c) {
  return isNameChar(c) || std::string_view("!#$%&'*+^`|~").find(c) != std::string_view::npos;
}

bool isHostChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '-' || c == '_';
}

// Route hosts: "api.example.com", "*.example.com", "[::1]" (a literal IPv6 Host), one trailing
// dot allowed. A port is refused: matching strips the request's port, so it could never match.
bool validRouteHost(std::string_view host, std::string* why) {
  if (host.empty()) return true;
  if (host.front() == '[') {
    if (host.back() != ']') *why = "an IPv6 host must be written [addr], without a port";
    return host.back() == ']';
  }
  if (host.find(':') != std::string_view::npos) {
    *why = "must not include a port";
    return false;
  }
  std::string_view name = host;
  if (name.starts_with("*.")) name.remove_prefix(2);
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  bool ok = !name.empty() && name.front() != '.';
  for (char c : name) ok = ok && isHostChar(c);
  if (!ok) *why = "must be a host name (\"api.example.com\") or a wildcard (\"*.example.com\")";
  return ok;
}

void checkLb(const std::string& lb, const std::string& path, std::vector<Error>& errors) {
  static constexpr std::array<std::string_view, 3> kSupported = {"random", "round_robin",
                                                                 "least_request"};
  static constexpr std::array<std::string_view, 3> kLater = {"ring_hash", "maglev", "ewma"};
  for (auto name : kSupported) {
    if (lb == name) return;
  }
  for (auto name : kLater) {
    if (lb == name) return add(errors, path, "lb '" + lb + "' is not supported yet");
  }
  add(errors, path, "must be one of: random, round_robin, least_request");
}

void checkMatch(const RouteMatch& match, const std::string& path, std::vector<Error>& errors) {
  std::string why;
  if (!validRouteHost(match.host, &why)) add(errors, fieldPath(path, "host"), why);
  if (!match.path.empty() && match.path.front() != '/') {
    add(errors, fieldPath(path, "path"), "must start with '/'");
  }
  if (!match.path_prefix.empty() && match.path_prefix.front() != '/') {
    add(errors, fieldPath(path, "path_prefix"), "must start with '/'");
  }
  if (!match.path.empty() && !match.path_prefix.empty()) {
    add(errors, fieldPath(path, "path_prefix"), "path and path_prefix cannot both be set");
  }
  RE2::Options options;
  options.set_log_errors(false);
  for (const auto& [name, pattern] : match.headers) {
    std::string field = fieldPath(path, "headers." + name);
    bool token = !name.empty();
    for (char c : name) token = token && isTokenChar(c);
    if (!token) {
      add(errors, field, "invalid header name");
      continue;
    }
    RE2 re(pattern, options);
    if (!re.ok()) add(errors, field, "invalid regular expression: " + re.error());
  }
}

void checkSplit(const Route& route, const std::string& path, const TargetLookup& lookup,
                std::vector<Error>& errors) {
  if (route.split.empty()) return add(errors, path, "must not be empty");
  bool any_positive = false;
  for (size_t j = 0; j < route.split.size(); ++j) {
    const SplitTarget& target = route.split[j];
    std::string base = path + "[" + std::to_string(j) + "]";
    any_positive = any_positive || target.weight > 0;
    if (target.weight > kMaxWeight) {
      add(errors, base + ".weight", "must be an integer between 0 and 10000");
    }
    if (target.service.empty()) {
      add(errors, base + ".service", "must not be empty");
      continue;
    }
    switch (lookup(target.service, target.version)) {
      case TargetStatus::kOk:
        break;
      case TargetStatus::kUnknownService:
        add(errors, base + ".service", "unknown service '" + target.service + "'");
        break;
      case TargetStatus::kUnknownVersion:
        add(errors, base + ".version",
            "service '" + target.service + "' has no endpoint with version '" + target.version +
                "'");
        break;
    }
  }
  if (!any_positive) add(errors, path, "at least one weight must be positive");
}

// Versions by service name, for checking the routes of a whole document.
TargetLookup documentLookup(const Config& config,
                            std::map<std::string, std::set<std::string>, std::less<>>& versions) {
  for (const Service& service : config.services) {
    auto& set = versions[service.name];
    for (const Endpoint& endpoint : service.endpoints) set.insert(endpoint.version);
  }
  return [&versions](std::string_view service, std::string_view version) {
    auto it = versions.find(service);
    if (it == versions.end()) return TargetStatus::kUnknownService;
    if (!version.empty() && !it->second.contains(std::string(version))) {
      return TargetStatus::kUnknownVersion;
    }
    return TargetStatus::kOk;
  };
}

}  // namespace

std::string fieldPath(std::string_view base, std::string_view field) {
  if (base.empty()) return std::string(field);
  std::string out(base);
  out += '.';
  out += field;
  return out;
}

void checkListener(const Listener& listener, const std::string& path, std::vector<Error>& errors) {
  if (listener.name.empty()) add(errors, fieldPath(path, "name"), "must not be empty");
  std::string why;
  if (listener.address.empty()) {
    add(errors, fieldPath(path, "address"), "must not be empty");
  } else if (!checkListenAddress(listener.address, &why)) {
    add(errors, fieldPath(path, "address"), why);
  }
  if (listener.protocol == "h2c" || listener.protocol == "https") {
    add(errors, fieldPath(path, "protocol"),
        "protocol '" + listener.protocol + "' is not supported yet");
  } else if (listener.protocol != "http") {
    add(errors, fieldPath(path, "protocol"), "must be one of: http, h2c, https");
  }
}

void checkService(const Service& service, const std::string& path, std::vector<Error>& errors) {
  std::string name_field = fieldPath(path, "name");
  if (service.name.empty()) {
    add(errors, name_field, "must not be empty");
  } else {
    bool ok = true;
    for (char c : service.name) ok = ok && isNameChar(c);
    if (!ok) add(errors, name_field, "must contain only letters, digits, '.', '_' and '-'");
  }
  checkLb(service.lb, fieldPath(path, "lb"), errors);
  checkEndpoints(service.endpoints, fieldPath(path, "endpoints"), errors);
}

void checkEndpoints(const std::vector<Endpoint>& endpoints, const std::string& path,
                    std::vector<Error>& errors) {
  std::unordered_set<std::string_view> seen;
  for (size_t j = 0; j < endpoints.size(); ++j) {
    const Endpoint& endpoint = endpoints[j];
    std::string base = path + "[" + std::to_string(j) + "]";
    sockaddr_storage addr;
    socklen_t len;
    std::string why;
    if (endpoint.address.empty()) {
      add(errors, base + ".address", "must not be empty");
    } else if (!parseIpPort(endpoint.address, addr, len, &why)) {
      add(errors, base + ".address", why);
    } else if (!seen.insert(endpoint.address).second) {
      add(errors, base + ".address", "duplicate endpoint address '" + endpoint.address + "'");
    }
    if (endpoint.weight > kMaxWeight) {
      add(errors, base + ".weight", "must be an integer between 0 and 10000");
    }
  }
}

void checkRoute(const Route& route, const std::string& path, const TargetLookup& lookup,
                std::vector<Error>& errors) {
  if (route.id.empty()) add(errors, fieldPath(path, "id"), "must not be empty");
  checkMatch(route.match, fieldPath(path, "match"), errors);
  if (route.strip_prefix && route.match.path_prefix.empty()) {
    add(errors, fieldPath(path, "rewrite.strip_prefix"), "needs match.path_prefix");
  }
  checkSplit(route, fieldPath(path, "split"), lookup, errors);
  if (route.timeout_ms < kMinTimeoutMs || route.timeout_ms > kMaxTimeoutMs) {
    add(errors, fieldPath(path, "timeout_ms"), "must be an integer between 1 and 3600000");
  }
}

}  // namespace turnout::config::checks

namespace turnout::config {

std::vector<Error> validate(const Config& config) {
  std::vector<Error> errors;
  std::unordered_set<std::string_view> listener_names, service_names, route_ids;
  for (size_t i = 0; i < config.listeners.size(); ++i) {
    std::string path = "listeners[" + std::to_string(i) + "]";
    const Listener& listener = config.listeners[i];
    checks::checkListener(listener, path, errors);
    if (!listener.name.empty() && !listener_names.insert(listener.name).second) {
      errors.push_back({path + ".name", 0, "duplicate listener name '" + listener.name + "'"});
    }
  }
  for (size_t i = 0; i < config.services.size(); ++i) {
    std::string path = "services[" + std::to_string(i) + "]";
    const Service& service = config.services[i];
    checks::checkService(service, path, errors);
    if (!service.name.empty() && !service_names.insert(service.name).second) {
      errors.push_back({path + ".name", 0, "duplicate service name '" + service.name + "'"});
    }
  }
  std::map<std::string, std::set<std::string>, std::less<>> versions;
  checks::TargetLookup lookup = checks::documentLookup(config, versions);
  for (size_t i = 0; i < config.routes.size(); ++i) {
    std::string path = "routes[" + std::to_string(i) + "]";
    const Route& route = config.routes[i];
    checks::checkRoute(route, path, lookup, errors);
    if (!route.id.empty() && !route_ids.insert(route.id).second) {
      errors.push_back({path + ".id", 0, "duplicate route id '" + route.id + "'"});
    }
  }
  return errors;
}

}  // namespace turnout::config
