// The later Amalgam8 payload, {"instances":[...],"rules":[...]} (reference §1.6), as native
// objects: one service per destination (each instance an endpoint whose version is its sorted
// tag list), one route per route rule (priority kept; header and source matches; backends as
// a weighted split), action rules as faults on the destination's routes, and, when a
// destination has route rules, a lowest-priority route answering 412 for requests none of
// them matches. A destination with instances and no route rule gets a catch-all route.
#include <algorithm>
#include <climits>
#include <cmath>
#include <map>
#include <set>

#include "compat/a8_support.h"
#include "config/address.h"

namespace turnout::compat {
namespace {

using nlohmann::json;

// The instances of one destination, by canonical tag list ("env=prod,version=v1").
using TagGroups = std::map<std::string, std::vector<std::string>>;

std::vector<std::string> readTags(const json* value, const std::string& field) {
  std::vector<std::string> tags;
  if (value == nullptr || value->is_null()) return tags;
  requireArray(*value, field);
  for (size_t i = 0; i < value->size(); ++i) {
    tags.push_back(readString((*value)[i], field + "[" + std::to_string(i) + "]"));
  }
  std::sort(tags.begin(), tags.end());
  return tags;
}

std::string joinTags(const std::vector<std::string>& tags) {
  std::string out;
  for (const std::string& tag : tags) out += (out.empty() ? "" : ",") + tag;
  return out;
}

// "10.0.0.1:8080" or "10.0.0.1" (port 80, as the original defaulted for http).
std::string instanceAddress(const json& endpoint, const std::string& field) {
  requireObject(endpoint, field, {"type", "value"});
  const json* type = member(endpoint, "type");
  std::string kind = type ? readString(*type, field + ".type") : "http";
  if (kind != "http") throw Invalid(field + ".type", "only http endpoints are supported yet");
  const json* value = member(endpoint, "value");
  if (value == nullptr) throw Invalid(field + ".value", "missing");
  const std::string address = config::withDefaultPort(readString(*value, field + ".value"), 80);
  std::string why;
  if (!config::checkEndpointAddress(address, &why)) {
    throw Invalid(field + ".value",
                  "must be an IP address or a DNS name, with a port (" + why + ")");
  }
  return address;
}

void readInstances(const json& list, const config::Identity& identity,
                   std::map<std::string, TagGroups>& out) {
  requireArrayOrNull(list, "instances");
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string field = "instances[" + std::to_string(i) + "]";
    const json& instance = list[i];
    requireObject(
        instance, field,
        {"id", "service_name", "endpoint", "status", "tags", "metadata", "ttl", "last_heartbeat"});
    const json* status = member(instance, "status");
    if (status != nullptr && readString(*status, field + ".status") != "UP") continue;
    const json* name = member(instance, "service_name");
    if (name == nullptr) throw Invalid(field + ".service_name", "missing");
    std::string service = readString(*name, field + ".service_name");
    checkServiceName(service, field + ".service_name");
    if (service == identity.name) continue;  // never route to ourselves
    const json* endpoint = member(instance, "endpoint");
    if (endpoint == nullptr) throw Invalid(field + ".endpoint", "missing");
    std::string tags = joinTags(readTags(member(instance, "tags"), field + ".tags"));
    out[service][tags].push_back(instanceAddress(*endpoint, field + ".endpoint"));
  }
}

bool hasAllTags(const std::string& group, const std::vector<std::string>& wanted) {
  std::set<std::string> have;
  size_t start = 0;
  while (start <= group.size() && !group.empty()) {
    size_t comma = group.find(',', start);
    have.insert(group.substr(start, comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return std::all_of(wanted.begin(), wanted.end(),
                     [&](const std::string& tag) { return have.count(tag) > 0; });
}

// Conditions of one match clause ({source, headers}) merged into `match`.
void mergeClause(const json& clause, const std::string& field, config::RouteMatch& match) {
  requireObject(clause, field, {"source", "headers"});
  if (const json* source = member(clause, "source")) {
    requireObject(*source, field + ".source", {"name", "tags"});
    const json* name = member(*source, "name");
    if (name == nullptr) throw Invalid(field + ".source.name", "missing");
    std::string text = readString(*name, field + ".source.name");
    std::string tags = joinTags(readTags(member(*source, "tags"), field + ".source.tags"));
    if (!tags.empty()) text += ":" + tags;
    if (!match.source.empty() && match.source != text) {
      throw Invalid(field + ".source", "conflicts with another source condition of the rule");
    }
    match.source = text;
  }
  if (const json* headers = member(clause, "headers")) {
    requireObjectOrNull(*headers, field + ".headers");
    for (const auto& [name, pattern] : headers->items()) {
      std::string regex = readString(pattern, field + ".headers." + name);
      auto [it, added] = match.headers.emplace(name, regex);
      if (!added && it->second != regex) {
        throw Invalid(field + ".headers." + name, "two patterns for one header");
      }
    }
  }
}

// One `none` clause as a native condition: it holds when its source and headers all do.
config::RequestMatch clauseCondition(const json& clause, const std::string& field) {
  config::RouteMatch merged;
  mergeClause(clause, field, merged);
  config::RequestMatch condition{merged.headers, {}, merged.source, {}};
  if (condition.empty()) throw Invalid(field, "an empty clause would reject every request");
  return condition;
}

// The rule's match as one or more native matches: `any` clauses expand into one each.
std::vector<config::RouteMatch> matchesOf(const json* match, const std::string& field) {
  config::RouteMatch base;
  if (match == nullptr || match->is_null()) return {base};
  requireObject(*match, field, {"source", "headers", "all", "any", "none"});
  json top = json::object();
  if (const json* source = member(*match, "source")) top["source"] = *source;
  if (const json* headers = member(*match, "headers")) top["headers"] = *headers;
  mergeClause(top, field, base);
  if (const json* all = member(*match, "all")) {
    requireArray(*all, field + ".all");
    for (size_t i = 0; i < all->size(); ++i) {
      mergeClause((*all)[i], field + ".all[" + std::to_string(i) + "]", base);
    }
  }
  if (const json* none = member(*match, "none")) {
    requireArray(*none, field + ".none");
    for (size_t i = 0; i < none->size(); ++i) {
      base.none.push_back(clauseCondition((*none)[i], field + ".none[" + std::to_string(i) + "]"));
    }
  }
  const json* any = member(*match, "any");
  if (any == nullptr || any->empty()) return {base};
  requireArray(*any, field + ".any");
  std::vector<config::RouteMatch> out;
  for (size_t i = 0; i < any->size(); ++i) {
    config::RouteMatch one = base;
    mergeClause((*any)[i], field + ".any[" + std::to_string(i) + "]", one);
    out.push_back(std::move(one));
  }
  return out;
}

struct Backend {
  std::vector<std::string> tags;
  std::optional<double> weight;
};

// Backends -> split: explicit weights, the rest shared equally by the unweighted ones; each
// backend's share spread over the tag groups it selects, by instance count (the original drew
// an instance at random among them).
std::vector<config::SplitTarget> splitOf(const std::string& service, const TagGroups& groups,
                                         const std::vector<Backend>& backends,
                                         const std::string& field) {
  double explicit_sum = 0;
  size_t unweighted = 0;
  for (const Backend& backend : backends) {
    if (backend.weight) explicit_sum += *backend.weight;
    if (!backend.weight) ++unweighted;
  }
  if (explicit_sum > 1.0 + 1e-9) throw Invalid(field, "backend weights add up to more than 1");
  double rest = unweighted > 0 ? (1.0 - explicit_sum) / static_cast<double>(unweighted) : 0;
  std::vector<config::SplitTarget> split;
  for (const Backend& backend : backends) {
    double share = backend.weight ? *backend.weight : rest;
    std::vector<std::pair<std::string, size_t>> picked;
    size_t total = 0;
    for (const auto& [tags, addresses] : groups) {
      if (!hasAllTags(tags, backend.tags)) continue;
      picked.emplace_back(tags, addresses.size());
      total += addresses.size();
    }
    if (picked.empty()) picked.emplace_back(joinTags(backend.tags), total = 1);  // 503
    for (const auto& [version, count] : picked) {
      double weight = share * static_cast<double>(count) / static_cast<double>(total);
      split.push_back(
          {service, version, static_cast<uint32_t>(std::lround(weight * kWeightScale)), {}});
    }
  }
  return split;
}

std::vector<Backend> readBackends(const json& route, const std::string& field) {
  const json* list = member(route, "backends");
  if (list == nullptr || !list->is_array() || list->empty()) {
    throw Invalid(field + ".backends", "must be a non-empty array");
  }
  std::vector<Backend> backends;
  for (size_t i = 0; i < list->size(); ++i) {
    const std::string at = field + ".backends[" + std::to_string(i) + "]";
    const json& item = (*list)[i];
    requireObject(item, at,
                  {"name", "tags", "weight", "resilience", "lb_type", "timeout", "retries"});
    Backend backend;
    backend.tags = readTags(member(item, "tags"), at + ".tags");
    if (backend.tags.empty()) throw Invalid(at + ".tags", "must not be empty");
    if (const json* weight = member(item, "weight")) {
      double value = readNumber(*weight, at + ".weight");
      if (value <= 0 || value > 1) throw Invalid(at + ".weight", "must be in (0, 1]");
      backend.weight = value;
    }
    backends.push_back(std::move(backend));
  }
  return backends;
}

struct Rule {
  std::string id;
  int32_t priority = 0;
  std::string destination;
  const json* match = nullptr;
  const json* route = nullptr;
  const json* actions = nullptr;
  std::string field;
};

Rule readRule(const json& value, const std::string& field) {
  requireObject(value, field,
                {"id", "priority", "tags", "destination", "match", "route", "actions"});
  Rule rule;
  rule.field = field;
  if (const json* id = member(value, "id")) rule.id = readString(*id, field + ".id");
  if (const json* priority = member(value, "priority")) {
    int64_t number = readInteger(*priority, field + ".priority");
    if (number < INT32_MIN + 1 || number > INT32_MAX)
      throw Invalid(field + ".priority", "out of range");
    rule.priority = static_cast<int32_t>(number);
  }
  const json* destination = member(value, "destination");
  if (destination == nullptr) throw Invalid(field + ".destination", "missing");
  rule.destination = readString(*destination, field + ".destination");
  checkServiceName(rule.destination, field + ".destination");
  rule.match = member(value, "match");
  rule.route = member(value, "route");
  rule.actions = member(value, "actions");
  if ((rule.route != nullptr) == (rule.actions != nullptr)) {
    throw Invalid(field, "needs exactly one of route and actions");
  }
  return rule;
}

// A rule id as a route id: name characters only, or the rule's index.
std::string routeId(const Rule& rule, size_t index, size_t part) {
  std::string id = rule.destination + ".";
  std::string name = rule.id.empty() ? "rule" + std::to_string(index) : rule.id;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    id += ok ? c : '_';
  }
  if (part > 0) id += ".any" + std::to_string(part);
  return id;
}

std::vector<config::Route> routesOfRule(const Rule& rule, size_t index, const TagGroups& groups) {
  requireObject(*rule.route, rule.field + ".route",
                {"backends", "http_req_timeout", "http_req_retries", "uri"});
  std::vector<Backend> backends = readBackends(*rule.route, rule.field + ".route");
  config::Route base = serviceRoute(rule.destination);
  base.priority = rule.priority;
  base.split = splitOf(rule.destination, groups, backends, rule.field + ".route.backends");
  if (base.split.size() > 1) base.sticky.cookie = "version";
  if (const json* timeout = member(*rule.route, "http_req_timeout")) {
    double seconds = readNumber(*timeout, rule.field + ".route.http_req_timeout");
    if (seconds <= 0 || seconds > 3600) {
      throw Invalid(rule.field + ".route.http_req_timeout", "must be in (0, 3600] seconds");
    }
    base.timeout_ms = static_cast<uint32_t>(std::lround(seconds * 1000));
  }
  std::vector<config::Route> routes;
  std::vector<config::RouteMatch> matches = matchesOf(rule.match, rule.field + ".match");
  for (size_t part = 0; part < matches.size(); ++part) {
    config::Route route = base;
    route.id = routeId(rule, index, part);
    std::string prefix = route.match.path_separated_prefix;
    route.match = matches[part];
    route.match.path_separated_prefix = prefix;
    routes.push_back(std::move(route));
  }
  return routes;
}

// Faults of an action rule, one per action and tag group it names.
std::vector<config::Fault> faultsOfRule(const Rule& rule, const TagGroups& groups) {
  std::vector<config::RouteMatch> matches = matchesOf(rule.match, rule.field + ".match");
  if (matches.size() != 1) throw Invalid(rule.field + ".match.any", "not supported on actions");
  requireArray(*rule.actions, rule.field + ".actions");
  std::vector<config::Fault> faults;
  for (size_t i = 0; i < rule.actions->size(); ++i) {
    const std::string at = rule.field + ".actions[" + std::to_string(i) + "]";
    const json& action = (*rule.actions)[i];
    requireObject(
        action, at,
        {"action", "duration", "probability", "return_code", "tags", "log_key", "log_value"});
    const json* kind_value = member(action, "action");
    std::string kind = kind_value ? readString(*kind_value, at + ".action") : "";
    if (kind == "trace") continue;  // a log field, not a fault
    A8FaultSpec spec;
    spec.source = matches[0].source;
    double probability = 1;
    if (const json* p = member(action, "probability")) {
      probability = readNumber(*p, at + ".probability");
    }
    if (probability <= 0) continue;  // never fires, as in the original
    if (kind == "delay") {
      const json* duration = member(action, "duration");
      if (duration == nullptr) throw Invalid(at + ".duration", "missing");
      spec.delay_seconds = readNumber(*duration, at + ".duration");
      spec.delay_probability = probability;
    } else if (kind == "abort") {
      const json* code = member(action, "return_code");
      if (code == nullptr) throw Invalid(at + ".return_code", "missing");
      int64_t status = readInteger(*code, at + ".return_code");
      spec.has_return_code = true;
      spec.return_code = status < 0 ? -1 : status;
      spec.abort_probability = probability;
    } else {
      throw Invalid(at + ".action", "must be delay, abort or trace");
    }
    std::vector<std::string> tags = readTags(member(action, "tags"), at + ".tags");
    std::vector<std::string> versions;
    for (const auto& [group, unused] : groups) {
      if (hasAllTags(group, tags)) versions.push_back(group);
    }
    if (tags.empty()) versions = {""};
    for (const std::string& version : versions) {
      config::Fault fault = nativeFault(spec, version, at);
      fault.match.headers = matches[0].headers;
      fault.match.none = matches[0].none;
      faults.push_back(std::move(fault));
    }
  }
  return faults;
}

// The catch-all of a destination without route rules: every instance alike, one target per
// tag group (weighted by its instance count) so that action tags can still tell them apart.
std::vector<config::SplitTarget> everyInstance(const std::string& service,
                                               const TagGroups& groups) {
  std::vector<config::SplitTarget> split;
  for (const auto& [tags, addresses] : groups) {
    split.push_back({service, tags, static_cast<uint32_t>(addresses.size()), {}});
  }
  if (split.empty()) split.push_back({service, "", 1, {}});  // no instance: 503
  return split;
}

}  // namespace

A8Objects translateRules(const json& doc, const config::Identity& identity) {
  requireObject(doc, "", {"instances", "rules"});
  std::map<std::string, TagGroups> instances;
  if (const json* list = member(doc, "instances")) readInstances(*list, identity, instances);
  std::vector<Rule> rules;
  if (const json* list = member(doc, "rules")) {
    requireArrayOrNull(*list, "rules");
    for (size_t i = 0; i < list->size(); ++i) {
      rules.push_back(readRule((*list)[i], "rules[" + std::to_string(i) + "]"));
    }
  }
  // Higher priority first, as the original evaluated them; stable for equal priorities.
  std::stable_sort(rules.begin(), rules.end(),
                   [](const Rule& a, const Rule& b) { return a.priority > b.priority; });
  std::set<std::string> destinations;
  for (const auto& [name, groups] : instances) destinations.insert(name);
  for (const Rule& rule : rules) destinations.insert(rule.destination);

  A8Objects out;
  for (const std::string& destination : destinations) {
    const TagGroups& groups = instances[destination];
    config::Service service;
    service.name = destination;
    for (const auto& [tags, addresses] : groups) {
      for (const std::string& address : addresses) service.endpoints.push_back({address, tags, 1});
    }
    out.services.push_back(finishService(std::move(service)));
    std::vector<config::Route> routes;
    std::vector<config::Fault> faults;
    for (size_t i = 0; i < rules.size(); ++i) {
      if (rules[i].destination != destination) continue;
      if (rules[i].route != nullptr) {
        for (config::Route& route : routesOfRule(rules[i], i, groups))
          routes.push_back(std::move(route));
      } else {
        for (config::Fault& fault : faultsOfRule(rules[i], groups))
          faults.push_back(std::move(fault));
      }
    }
    config::Route last = serviceRoute(destination);
    last.priority = INT32_MIN;
    if (routes.empty()) {
      last.split = everyInstance(destination, groups);
    } else {
      last.id = destination + ".no-rule-matched";
      last.direct_response = {412, "no routing rule of '" + destination + "' matches this request"};
    }
    routes.push_back(std::move(last));
    for (config::Route& route : routes) {
      if (route.direct_response.status == 0) route.faults = faults;
      out.routes.push_back(std::move(route));
    }
  }
  return out;
}

}  // namespace turnout::compat
