// Amalgam8's later /a8-admin payload, {"instances":[...],"rules":[...]} (reference §1.6),
// through translateA8: the native objects it gives (services, routes, faults owned by "a8"),
// and what those objects do once compiled (which route a request takes, which versions a split
// reaches, which faults fire), so that the rules' meaning is checked, not only their shape.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "compat/amalgam8.h"
#include "config/identity.h"
#include "config/load.h"
#include "route/snapshot.h"

namespace turnout::compat {
namespace {

using nlohmann::json;
using Headers = std::vector<http::HeaderField>;

const config::Identity kProductpageV1 = config::Identity::parse("productpage:v1");

// ---- payload builders ----------------------------------------------------------------------

json instance(const std::string& service, const std::string& address,
              const std::vector<std::string>& tags, const char* status = "UP") {
  json out{{"service_name", service},
           {"endpoint", {{"type", "http"}, {"value", address}}},
           {"tags", tags}};
  if (status != nullptr) out["status"] = status;
  return out;
}

// reviews: v1 on one instance, v2 on two; ratings: v1 on one.
json bookinfoInstances() {
  return json::array({instance("reviews", "10.0.0.1:9080", {"version=v1"}),
                      instance("reviews", "10.0.0.2:9080", {"version=v2"}),
                      instance("reviews", "10.0.0.3:9080", {"version=v2"}),
                      instance("ratings", "10.0.1.1:9080", {"version=v1"})});
}

json backend(const std::vector<std::string>& tags) { return json{{"tags", tags}}; }
json backend(const std::vector<std::string>& tags, double weight) {
  return json{{"tags", tags}, {"weight", weight}};
}

json routeRule(const std::string& id, int priority, const std::string& destination, json match,
               json backends) {
  json rule{{"id", id},
            {"priority", priority},
            {"destination", destination},
            {"route", {{"backends", std::move(backends)}}}};
  if (!match.is_null()) rule["match"] = std::move(match);
  return rule;
}

json actionRule(const std::string& id, int priority, const std::string& destination, json match,
                json actions) {
  json rule{{"id", id}, {"priority", priority}, {"destination", destination}, {"actions", actions}};
  if (!match.is_null()) rule["match"] = std::move(match);
  return rule;
}

std::string payload(json instances, json rules) {
  return json{{"instances", std::move(instances)}, {"rules", std::move(rules)}}.dump();
}

// ---- translation -------------------------------------------------------------------------

A8Objects translate(const std::string& body, const config::Identity& identity = kProductpageV1) {
  A8Objects out;
  std::string error;
  A8Parse result = translateA8(body, identity, out, error);
  EXPECT_EQ(result, A8Parse::kOk) << error << "\n" << body;
  return out;
}

// "kOk", "kBadJson: ...", "kInvalid: field: reason".
std::string failure(const std::string& body, const config::Identity& identity = kProductpageV1) {
  A8Objects out;
  std::string error;
  switch (translateA8(body, identity, out, error)) {
    case A8Parse::kOk:
      return "kOk";
    case A8Parse::kBadJson:
      return "kBadJson: " + error;
    case A8Parse::kInvalid:
      return "kInvalid: " + error;
  }
  return "?";
}

const config::Service* findService(const A8Objects& out, const std::string& name) {
  for (const config::Service& service : out.services) {
    if (service.name == name) return &service;
  }
  return nullptr;
}

const config::Route* findRoute(const A8Objects& out, const std::string& id) {
  for (const config::Route& route : out.routes) {
    if (route.id == id) return &route;
  }
  return nullptr;
}

std::set<std::string> routeIds(const A8Objects& out) {
  std::set<std::string> ids;
  for (const config::Route& route : out.routes) ids.insert(route.id);
  return ids;
}

// Endpoint address -> version, for a service.
std::map<std::string, std::string> endpointsOf(const config::Service& service) {
  std::map<std::string, std::string> out;
  for (const config::Endpoint& endpoint : service.endpoints)
    out[endpoint.address] = endpoint.version;
  return out;
}

// A route's split as version -> share of the total weight.
std::map<std::string, double> sharesOf(const config::Route& route) {
  double total = 0;
  for (const config::SplitTarget& target : route.split) total += target.weight;
  std::map<std::string, double> out;
  for (const config::SplitTarget& target : route.split) {
    out[target.version] += total > 0 ? target.weight / total : 0;
  }
  return out;
}

// ---- compiled behaviour ------------------------------------------------------------------

std::shared_ptr<const route::Snapshot> compile(const A8Objects& out,
                                               const config::Identity& identity = kProductpageV1) {
  config::Config config;
  config.services = out.services;
  config.routes = out.routes;
  std::vector<config::Error> invalid = config::validate(config);
  EXPECT_TRUE(invalid.empty()) << (invalid.empty() ? "" : config::formatError("", invalid[0]));
  route::Change change;
  change.all = config;
  std::vector<config::Error> errors;
  auto snapshot = route::Compiler(1, identity).apply(nullptr, change, errors);
  EXPECT_NE(snapshot, nullptr) << (errors.empty() ? "" : config::formatError("", errors[0]));
  return snapshot;
}

// The id of the route a request takes ("<none>" for a 404).
std::string routedTo(const route::Snapshot& snapshot, std::string_view path,
                     const Headers& headers = {}) {
  route::MatchInput input;
  input.host = "e2e.test";
  input.path = path;
  input.headers = &headers;
  const route::CompiledRoute* route = snapshot.match(input);
  return route == nullptr ? "<none>" : route->source.id;
}

// The endpoint versions (tag groups) a compiled target can reach; empty: no endpoint (503).
std::set<std::string> reachable(const route::Snapshot& snapshot,
                                const route::CompiledTarget& target) {
  std::set<std::string> versions;
  const route::CompiledService* service = snapshot.service(target.service);
  if (service == nullptr) return versions;
  const route::EndpointSet* set = service->forVersion(target.version);
  if (set == nullptr) return versions;
  for (const route::Endpoint& endpoint : set->endpoints()) {
    if (endpoint.weight > 0) versions.insert(endpoint.version);
  }
  return versions;
}

// Every endpoint address a route's weighted targets can reach.
std::set<std::string> reachableAddresses(const route::Snapshot& snapshot,
                                         const route::CompiledRoute& route) {
  std::set<std::string> addresses;
  for (const route::CompiledTarget& target : route.targets) {
    if (target.weight == 0) continue;
    const route::CompiledService* service = snapshot.service(target.service);
    if (service == nullptr) continue;
    const route::EndpointSet* set = service->forVersion(target.version);
    if (set == nullptr) continue;
    for (const route::Endpoint& endpoint : set->endpoints()) addresses.insert(endpoint.address);
  }
  return addresses;
}

// ============================================================================================
// Instances
// ============================================================================================

TEST(A8RulesTest, OnlyUpInstancesAndNotOurOwnService) {
  json instances = json::array({
      instance("reviews", "10.0.0.1:9080", {"version=v1"}),
      instance("reviews", "10.0.0.2:9080", {"version=v1"}, "DOWN"),
      instance("reviews", "10.0.0.3:9080", {"version=v1"}, "STARTING"),
      instance("reviews", "10.0.0.4:9080", {"version=v1"}, nullptr),  // no status: kept
      instance("productpage", "10.0.2.1:9080", {"version=v1"}),       // this proxy's own
      instance("productpage", "10.0.2.2:9080", {"version=v2"}),       // its own, other version
      instance("details", "10.0.3.1:9080", {"version=v1"}, "DOWN"),   // nothing left
  });
  A8Objects out = translate(payload(instances, json::array()));
  const config::Service* reviews = findService(out, "reviews");
  ASSERT_NE(reviews, nullptr);
  EXPECT_EQ(endpointsOf(*reviews),
            (std::map<std::string, std::string>{{"10.0.0.1:9080", "version=v1"},
                                                {"10.0.0.4:9080", "version=v1"}}));
  EXPECT_EQ(findService(out, "productpage"), nullptr) << "the proxy never routes to itself";
  EXPECT_EQ(findRoute(out, "productpage"), nullptr);
  EXPECT_EQ(findService(out, "details"), nullptr) << "no UP instance and no rule: no destination";
  EXPECT_EQ(findRoute(out, "details"), nullptr);

  // Another identity keeps productpage's instances.
  A8Objects other =
      translate(payload(instances, json::array()), config::Identity::parse("reviews:v1"));
  const config::Service* productpage = findService(other, "productpage");
  ASSERT_NE(productpage, nullptr);
  EXPECT_EQ(productpage->endpoints.size(), 2u);
  EXPECT_EQ(findService(other, "reviews"), nullptr);
}

TEST(A8RulesTest, EndpointValues) {
  json instances = json::array({
      instance("a", "10.0.0.1:8080", {"version=v1"}),
      instance("a", "10.0.0.2", {"version=v1"}),  // no port: 80
      instance("a", "[::1]:8081", {"version=v1"}),
  });
  A8Objects out = translate(payload(instances, json::array()));
  const config::Service* a = findService(out, "a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(endpointsOf(*a), (std::map<std::string, std::string>{{"10.0.0.1:8080", "version=v1"},
                                                                 {"10.0.0.2:80", "version=v1"},
                                                                 {"[::1]:8081", "version=v1"}}));
  // The endpoint type may be left out: http.
  json untyped = instance("b", "10.0.0.9:7000", {});
  untyped["endpoint"].erase("type");
  A8Objects b = translate(payload(json::array({untyped}), json::array()));
  ASSERT_NE(findService(b, "b"), nullptr);
  EXPECT_EQ(endpointsOf(*findService(b, "b")),
            (std::map<std::string, std::string>{{"10.0.0.9:7000", ""}}));
}

TEST(A8RulesTest, HostNameInstancesAreKeptForTheResolver) {
  A8Objects out = translate(
      payload(json::array({instance("reviews", "reviews.default.svc:9080", {"version=v1"}),
                           instance("reviews", "localhost", {"version=v1"})}),
              json::array()));
  ASSERT_EQ(out.services.size(), 1u);
  std::vector<std::string> addresses;
  for (const auto& endpoint : out.services[0].endpoints) addresses.push_back(endpoint.address);
  EXPECT_EQ(addresses, (std::vector<std::string>{"reviews.default.svc:9080", "localhost:80"}));
}

TEST(A8RulesTest, EndpointTypesOtherThanHttpAndBadAddressesAreRefused) {
  for (const char* type : {"https", "tcp", "udp"}) {
    json one = instance("a", "10.0.0.1:8080", {"version=v1"});
    one["endpoint"]["type"] = type;
    std::string got = failure(payload(json::array({one}), json::array()));
    EXPECT_TRUE(got.starts_with("kInvalid: instances[0].endpoint.type: ")) << type << " -> " << got;
  }
  for (const char* value :
       {"-bad-.svc:9080", "a b:9080", "300.0.0.1:80", "10.0.0.1:0", "10.0.0.1:80abc", "::1"}) {
    json ok = instance("a", "10.0.0.1:8080", {"version=v1"});
    json bad = instance("a", value, {"version=v1"});
    std::string got = failure(payload(json::array({ok, bad}), json::array()));
    EXPECT_TRUE(got.starts_with("kInvalid: instances[1].endpoint.value")) << value << " -> " << got;
  }
  json no_name = instance("a", "10.0.0.1:8080", {});
  no_name.erase("service_name");
  EXPECT_EQ(failure(payload(json::array({no_name}), json::array())),
            "kInvalid: instances[0].service_name: missing");
  json no_endpoint = instance("a", "10.0.0.1:8080", {});
  no_endpoint.erase("endpoint");
  EXPECT_EQ(failure(payload(json::array({no_endpoint}), json::array())),
            "kInvalid: instances[0].endpoint: missing");
}

TEST(A8RulesTest, AnInstanceVersionIsItsSortedTags) {
  json instances = json::array({
      instance("a", "10.0.0.1:80", {"version=v1", "env=prod"}),
      instance("a", "10.0.0.2:80", {"env=prod", "version=v1"}),
      instance("a", "10.0.0.3:80", {"version=v2"}),
      instance("a", "10.0.0.4:80", {}),
  });
  A8Objects out = translate(payload(instances, json::array()));
  const config::Service* a = findService(out, "a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(endpointsOf(*a),
            (std::map<std::string, std::string>{{"10.0.0.1:80", "env=prod,version=v1"},
                                                {"10.0.0.2:80", "env=prod,version=v1"},
                                                {"10.0.0.3:80", "version=v2"},
                                                {"10.0.0.4:80", ""}}));
}

// ============================================================================================
// Destinations, routes, 412 / 503 / 404
// ============================================================================================

TEST(A8RulesTest, EveryDestinationIsAnA8Service) {
  json rules =
      json::array({routeRule("r", 1, "nopods", nullptr, json::array({backend({"version=v1"})}))});
  A8Objects out = translate(payload(bookinfoInstances(), rules));
  std::set<std::string> names;
  for (const config::Service& service : out.services) {
    names.insert(service.name);
    EXPECT_EQ(service.owner, "a8") << service.name;
  }
  EXPECT_EQ(names, (std::set<std::string>{"nopods", "ratings", "reviews"}));
  for (const config::Route& route : out.routes) {
    EXPECT_EQ(route.owner, "a8") << route.id;
    ASSERT_FALSE(route.id.empty());
    std::string destination = route.id.substr(0, route.id.find('.'));
    EXPECT_EQ(route.match.path_separated_prefix, "/" + destination) << route.id;
    EXPECT_TRUE(route.strip_prefix) << route.id;
  }
}

TEST(A8RulesTest, InstancesWithoutRouteRulesGetACatchAllRoute) {
  A8Objects out = translate(payload(bookinfoInstances(), json::array()));
  EXPECT_EQ(routeIds(out), (std::set<std::string>{"ratings", "reviews"}));
  const config::Route* reviews = findRoute(out, "reviews");
  ASSERT_NE(reviews, nullptr);
  EXPECT_EQ(reviews->direct_response.status, 0u);
  EXPECT_TRUE(reviews->match.headers.empty());
  EXPECT_TRUE(reviews->match.source.empty());
  auto snapshot = compile(out);
  ASSERT_NE(snapshot, nullptr);
  EXPECT_EQ(routedTo(*snapshot, "/reviews/x"), "reviews");
  EXPECT_EQ(routedTo(*snapshot, "/reviews"), "reviews");
  EXPECT_EQ(routedTo(*snapshot, "/ratings/", {{"Cookie", "user=jason"}}), "ratings");
  EXPECT_EQ(routedTo(*snapshot, "/reviewsx"), "<none>");
  EXPECT_EQ(routedTo(*snapshot, "/details/"), "<none>") << "unknown destination: 404";
  // Every instance of the destination is reachable.
  EXPECT_EQ(reachableAddresses(*snapshot, *snapshot->route("reviews")),
            (std::set<std::string>{"10.0.0.1:9080", "10.0.0.2:9080", "10.0.0.3:9080"}));
  EXPECT_EQ(snapshot->route("reviews")->upstreamPath("/reviews/a/b?q=1"), "/a/b?q=1");
}

TEST(A8RulesTest, RouteRulesBecomeRoutesByPriorityAndA412) {
  json rules = json::array({
      routeRule("everyone", 1, "reviews", {{"headers", {{"Cookie", "user="}}}},
                json::array({backend({"version=v1"})})),
      routeRule("jason", 2, "reviews", {{"headers", {{"Cookie", "^(.*?;)?(user=jason)(;.*)?$"}}}},
                json::array({backend({"version=v2"})})),
  });
  A8Objects out = translate(payload(bookinfoInstances(), rules));
  EXPECT_EQ(routeIds(out), (std::set<std::string>{"reviews.everyone", "reviews.jason",
                                                  "reviews.no-rule-matched", "ratings"}));
  const config::Route* jason = findRoute(out, "reviews.jason");
  const config::Route* everyone = findRoute(out, "reviews.everyone");
  const config::Route* rest = findRoute(out, "reviews.no-rule-matched");
  ASSERT_TRUE(jason && everyone && rest);
  EXPECT_EQ(jason->priority, 2);
  EXPECT_EQ(everyone->priority, 1);
  EXPECT_EQ(jason->match.headers,
            (std::map<std::string, std::string>{{"Cookie", "^(.*?;)?(user=jason)(;.*)?$"}}));
  EXPECT_EQ(rest->direct_response.status, 412u);
  EXPECT_TRUE(rest->split.empty());
  EXPECT_LT(rest->priority, everyone->priority);
  EXPECT_LT(rest->priority, jason->priority);
  EXPECT_EQ(findRoute(out, "reviews"), nullptr) << "no catch-all once route rules exist";

  auto snapshot = compile(out);
  ASSERT_NE(snapshot, nullptr);
  EXPECT_EQ(routedTo(*snapshot, "/reviews/", {{"Cookie", "user=jason"}}), "reviews.jason");
  EXPECT_EQ(routedTo(*snapshot, "/reviews/", {{"Cookie", "a=1;user=jason;b=2"}}), "reviews.jason");
  // The original's regex wants no space after a ';': "a=1; user=jason" falls to the lower rule.
  EXPECT_EQ(routedTo(*snapshot, "/reviews/", {{"Cookie", "a=1; user=jason"}}), "reviews.everyone");
  EXPECT_EQ(routedTo(*snapshot, "/reviews/", {{"Cookie", "user=bob"}}), "reviews.everyone");
  EXPECT_EQ(routedTo(*snapshot, "/reviews/", {{"Cookie", "user=jasonx"}}), "reviews.everyone");
  EXPECT_EQ(routedTo(*snapshot, "/reviews/"), "reviews.no-rule-matched");
  EXPECT_EQ(routedTo(*snapshot, "/reviews/", {{"Cookie", "other=1"}}), "reviews.no-rule-matched");
  EXPECT_EQ(routedTo(*snapshot, "/ratings/"), "ratings");
  // What each route reaches.
  std::set<std::string> v1 = {"version=v1"}, v2 = {"version=v2"};
  ASSERT_EQ(snapshot->route("reviews.jason")->targets.size(), 1u);
  EXPECT_EQ(reachable(*snapshot, snapshot->route("reviews.jason")->targets[0]), v2);
  ASSERT_EQ(snapshot->route("reviews.everyone")->targets.size(), 1u);
  EXPECT_EQ(reachable(*snapshot, snapshot->route("reviews.everyone")->targets[0]), v1);
}

TEST(A8RulesTest, RuleIdsBecomeRouteIds) {
  json rules = json::array(
      {routeRule("my rule/1", 0, "reviews", nullptr, json::array({backend({"version=v1"})}))});
  A8Objects out = translate(payload(bookinfoInstances(), rules));
  std::set<std::string> ids = routeIds(out);
  EXPECT_EQ(ids.count("reviews.no-rule-matched"), 1u);
  ids.erase("reviews.no-rule-matched");
  ids.erase("ratings");
  ASSERT_EQ(ids.size(), 1u);
  EXPECT_TRUE(ids.begin()->starts_with("reviews.")) << *ids.begin();
  auto snapshot = compile(out);  // a valid route id
  ASSERT_NE(snapshot, nullptr);
  EXPECT_EQ(routedTo(*snapshot, "/reviews/"), *ids.begin());
}

TEST(A8RulesTest, RulesWithoutInstancesAnswer503) {
  json rules = json::array({
      routeRule("r", 1, "nopods", nullptr, json::array({backend({"version=v1"})})),
      actionRule("slow", 1, "idle", nullptr, json::array({{{"action", "delay"}, {"duration", 1}}})),
  });
  A8Objects out = translate(payload(json::array(), rules));
  for (const char* name : {"nopods", "idle"}) {
    const config::Service* service = findService(out, name);
    ASSERT_NE(service, nullptr) << name;
    EXPECT_TRUE(service->endpoints.empty()) << name;
  }
  auto snapshot = compile(out);
  ASSERT_NE(snapshot, nullptr);
  EXPECT_EQ(routedTo(*snapshot, "/nopods/"), "nopods.r");
  EXPECT_TRUE(reachableAddresses(*snapshot, *snapshot->route("nopods.r")).empty());
  std::string idle = routedTo(*snapshot, "/idle/");
  ASSERT_NE(idle, "<none>") << "an action rule's destination exists (503), it is not a 404";
  EXPECT_EQ(snapshot->route(idle)->source.direct_response.status, 0u);
  EXPECT_TRUE(reachableAddresses(*snapshot, *snapshot->route(idle)).empty());
}

TEST(A8RulesTest, NothingAtAllIsNothing) {
  for (const char* body : {R"({"instances": [], "rules": []})", R"({"instances": []})",
                           R"({"rules": []})", R"({"instances": null, "rules": null})"}) {
    A8Objects out = translate(body);
    EXPECT_TRUE(out.services.empty()) << body;
    EXPECT_TRUE(out.routes.empty()) << body;
  }
}

// ============================================================================================
// Matches
// ============================================================================================

TEST(A8RulesTest, SourceMatchAppliesOnlyToThisProxysIdentity) {
  json rules = json::array({
      routeRule("from-productpage-v1", 5, "reviews",
                {{"source", {{"name", "productpage"}, {"tags", {"version=v1"}}}}},
                json::array({backend({"version=v2"})})),
      routeRule("default", 0, "reviews", nullptr, json::array({backend({"version=v1"})})),
  });
  std::string body = payload(bookinfoInstances(), rules);
  A8Objects out = translate(body);
  const config::Route* sourced = findRoute(out, "reviews.from-productpage-v1");
  ASSERT_NE(sourced, nullptr);
  EXPECT_EQ(config::Identity::parse("productpage:v1").matches(sourced->match.source), true)
      << sourced->match.source;

  auto v1 = compile(out, kProductpageV1);
  ASSERT_NE(v1, nullptr);
  EXPECT_EQ(routedTo(*v1, "/reviews/"), "reviews.from-productpage-v1");
  for (const char* other : {"productpage:v2", "details:v1", ""}) {
    config::Identity identity = config::Identity::parse(other);
    auto snapshot = compile(translate(body, identity), identity);
    ASSERT_NE(snapshot, nullptr) << other;
    EXPECT_EQ(routedTo(*snapshot, "/reviews/"), "reviews.default") << other;
  }
  // A source with no tags: any version of that service.
  json any_version =
      json::array({routeRule("pp", 5, "reviews", {{"source", {{"name", "productpage"}}}},
                             json::array({backend({"version=v2"})}))});
  auto snapshot = compile(translate(payload(bookinfoInstances(), any_version),
                                    config::Identity::parse("productpage:v7")),
                          config::Identity::parse("productpage:v7"));
  ASSERT_NE(snapshot, nullptr);
  EXPECT_EQ(routedTo(*snapshot, "/reviews/"), "reviews.pp");
}

TEST(A8RulesTest, SeveralHeadersMustAllMatch) {
  json rules =
      json::array({routeRule("two", 1, "reviews", {{"headers", {{"X-A", "^a$"}, {"X-B", "b"}}}},
                             json::array({backend({"version=v2"})}))});
  auto snapshot = compile(translate(payload(bookinfoInstances(), rules)));
  ASSERT_NE(snapshot, nullptr);
  EXPECT_EQ(routedTo(*snapshot, "/reviews/", {{"X-A", "a"}, {"X-B", "xbx"}}), "reviews.two");
  EXPECT_EQ(routedTo(*snapshot, "/reviews/", {{"X-A", "a"}}), "reviews.no-rule-matched");
  EXPECT_EQ(routedTo(*snapshot, "/reviews/", {{"X-B", "b"}}), "reviews.no-rule-matched");
  EXPECT_EQ(routedTo(*snapshot, "/reviews/", {{"X-A", "aa"}, {"X-B", "b"}}),
            "reviews.no-rule-matched");
}

TEST(A8RulesTest, AllClausesAreAnded) {
  json match = {
      {"headers", {{"X-A", "a"}}},
      {"all", json::array({{{"headers", {{"X-B", "b"}}}},
                           {{"source", {{"name", "productpage"}, {"tags", {"version=v1"}}}}}})}};
  json rules =
      json::array({routeRule("all", 1, "reviews", match, json::array({backend({"version=v2"})}))});
  std::string body = payload(bookinfoInstances(), rules);
  A8Objects out = translate(body);
  const config::Route* all = findRoute(out, "reviews.all");
  ASSERT_NE(all, nullptr);
  EXPECT_EQ(all->match.headers, (std::map<std::string, std::string>{{"X-A", "a"}, {"X-B", "b"}}));
  EXPECT_FALSE(all->match.source.empty());
  auto snapshot = compile(out);
  ASSERT_NE(snapshot, nullptr);
  EXPECT_EQ(routedTo(*snapshot, "/reviews/", {{"X-A", "a"}, {"X-B", "b"}}), "reviews.all");
  EXPECT_EQ(routedTo(*snapshot, "/reviews/", {{"X-A", "a"}}), "reviews.no-rule-matched");
  EXPECT_EQ(routedTo(*snapshot, "/reviews/", {{"X-B", "b"}}), "reviews.no-rule-matched");
  config::Identity v2 = config::Identity::parse("productpage:v2");
  auto other = compile(translate(body, v2), v2);
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(routedTo(*other, "/reviews/", {{"X-A", "a"}, {"X-B", "b"}}), "reviews.no-rule-matched");
}

TEST(A8RulesTest, AnyClausesExpandIntoOneRouteEach) {
  json match = {
      {"headers", {{"X-Z", "z"}}},
      {"any", json::array({{{"headers", {{"X-A", "a"}}}}, {{"headers", {{"X-B", "b"}}}}})}};
  json rules = json::array(
      {routeRule("either", 3, "reviews", match, json::array({backend({"version=v2"})}))});
  A8Objects out = translate(payload(bookinfoInstances(), rules));
  std::vector<const config::Route*> parts;
  for (const config::Route& route : out.routes) {
    if (route.id.starts_with("reviews.either")) parts.push_back(&route);
  }
  ASSERT_EQ(parts.size(), 2u) << "one route per any clause";
  EXPECT_NE(parts[0]->id, parts[1]->id);
  for (const config::Route* part : parts) {
    EXPECT_EQ(part->priority, 3) << part->id;
    EXPECT_EQ(part->match.headers.count("X-Z"), 1u) << part->id;
    EXPECT_EQ(part->match.headers.size(), 2u) << part->id;
  }
  auto snapshot = compile(out);
  ASSERT_NE(snapshot, nullptr);
  EXPECT_TRUE(
      routedTo(*snapshot, "/reviews/", {{"X-Z", "z"}, {"X-A", "a"}}).starts_with("reviews.either"));
  EXPECT_TRUE(
      routedTo(*snapshot, "/reviews/", {{"X-Z", "z"}, {"X-B", "b"}}).starts_with("reviews.either"));
  EXPECT_EQ(routedTo(*snapshot, "/reviews/", {{"X-A", "a"}, {"X-B", "b"}}),
            "reviews.no-rule-matched");
  EXPECT_EQ(routedTo(*snapshot, "/reviews/", {{"X-Z", "z"}}), "reviews.no-rule-matched");
}

TEST(A8RulesTest, NoneClausesExcludeTheRequestsTheyMatch) {
  json match = {{"headers", {{"Cookie", "user="}}},
                {"none", json::array({{{"headers", {{"Cookie", "user=jason"}}}},
                                      {{"headers", {{"X-Test", "^yes$"}}}}})}};
  json rules = json::array(
      {routeRule("not-jason", 1, "reviews", match, json::array({backend({"version=v2"})}))});
  std::string body = payload(bookinfoInstances(), rules);
  ASSERT_EQ(failure(body), "kOk") << "match.none must be accepted";
  auto snapshot = compile(translate(body));
  ASSERT_NE(snapshot, nullptr);
  EXPECT_EQ(routedTo(*snapshot, "/reviews/", {{"Cookie", "user=bob"}}), "reviews.not-jason");
  EXPECT_EQ(routedTo(*snapshot, "/reviews/", {{"Cookie", "user=bob"}, {"X-Test", "no"}}),
            "reviews.not-jason");
  EXPECT_EQ(routedTo(*snapshot, "/reviews/", {{"Cookie", "user=jason"}}),
            "reviews.no-rule-matched");
  EXPECT_EQ(routedTo(*snapshot, "/reviews/", {{"Cookie", "user=bob"}, {"X-Test", "yes"}}),
            "reviews.no-rule-matched");
  EXPECT_EQ(routedTo(*snapshot, "/reviews/"), "reviews.no-rule-matched");
}

TEST(A8RulesTest, NoneClauseHoldsOnlyWhenAllItsConditionsDo) {
  // One clause with two headers: it excludes requests carrying both, not either.
  json match = {{"none", json::array({{{"headers", {{"X-A", "a"}, {"X-B", "b"}}}}})}};
  json rules =
      json::array({routeRule("r", 1, "reviews", match, json::array({backend({"version=v2"})}))});
  std::string body = payload(bookinfoInstances(), rules);
  ASSERT_EQ(failure(body), "kOk") << "match.none must be accepted";
  auto snapshot = compile(translate(body));
  ASSERT_NE(snapshot, nullptr);
  EXPECT_EQ(routedTo(*snapshot, "/reviews/"), "reviews.r");
  EXPECT_EQ(routedTo(*snapshot, "/reviews/", {{"X-A", "a"}}), "reviews.r");
  EXPECT_EQ(routedTo(*snapshot, "/reviews/", {{"X-B", "b"}}), "reviews.r");
  EXPECT_EQ(routedTo(*snapshot, "/reviews/", {{"X-A", "a"}, {"X-B", "b"}}),
            "reviews.no-rule-matched");
}

TEST(A8RulesTest, NoneClauseWithASourceExcludesThatCaller) {
  json match = {
      {"none", json::array({{{"source", {{"name", "productpage"}, {"tags", {"version=v1"}}}}}})}};
  json rules = json::array({
      routeRule("not-pp-v1", 2, "reviews", match, json::array({backend({"version=v2"})})),
      routeRule("default", 1, "reviews", nullptr, json::array({backend({"version=v1"})})),
  });
  std::string body = payload(bookinfoInstances(), rules);
  ASSERT_EQ(failure(body), "kOk") << "match.none must be accepted";
  auto v1 = compile(translate(body, kProductpageV1), kProductpageV1);
  ASSERT_NE(v1, nullptr);
  EXPECT_EQ(routedTo(*v1, "/reviews/"), "reviews.default");
  config::Identity v2 = config::Identity::parse("productpage:v2");
  auto other = compile(translate(body, v2), v2);
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(routedTo(*other, "/reviews/"), "reviews.not-pp-v1");
}

TEST(A8RulesTest, NoneClausesAlsoLimitActionRules) {
  // The original's #323: header matches in none blocks were ignored. A delay with a none
  // clause must not fire for the requests that clause matches.
  json match = {{"headers", {{"X-Slow", "yes"}}},
                {"none", json::array({{{"headers", {{"X-Exempt", "^1$"}}}}})}};
  json rules = json::array({actionRule("slow", 1, "ratings", match,
                                       json::array({{{"action", "delay"}, {"duration", 2}}}))});
  std::string body = payload(bookinfoInstances(), rules);
  ASSERT_EQ(failure(body), "kOk") << "match.none must be accepted";
  auto snapshot = compile(translate(body));
  ASSERT_NE(snapshot, nullptr);
  std::mt19937_64 rng(3);
  auto delayOf = [&](const Headers& headers) {
    std::string id = routedTo(*snapshot, "/ratings/", headers);
    if (id == "<none>") return -1;
    const route::CompiledRoute* route = snapshot->route(id);
    route::VersionPick pick = route->pickVersion(headers, rng);
    if (pick.target == nullptr) return -2;
    return static_cast<int>(route->planFaults(*pick.target, headers, rng).delay_ms);
  };
  EXPECT_EQ(delayOf({{"X-Slow", "yes"}}), 2000);
  EXPECT_EQ(delayOf({}), 0);
  EXPECT_EQ(delayOf({{"X-Slow", "yes"}, {"X-Exempt", "1"}}), 0)
      << "the none clause holds: the action must not apply";
  EXPECT_EQ(delayOf({{"X-Slow", "yes"}, {"X-Exempt", "10"}}), 2000);
}

TEST(A8RulesTest, EmptyNoneIsNoCondition) {
  json rules = json::array({routeRule("r", 1, "reviews", {{"none", json::array()}},
                                      json::array({backend({"version=v2"})}))});
  auto snapshot = compile(translate(payload(bookinfoInstances(), rules)));
  ASSERT_NE(snapshot, nullptr);
  EXPECT_EQ(routedTo(*snapshot, "/reviews/"), "reviews.r");
}

// ============================================================================================
// Backends and weights
// ============================================================================================

TEST(A8RulesTest, WeightedBackendsAndTheRest) {
  json rules = json::array(
      {routeRule("split", 1, "reviews", nullptr,
                 json::array({backend({"version=v2"}, 0.25), backend({"version=v1"})}))});
  A8Objects out = translate(payload(bookinfoInstances(), rules));
  const config::Route* split = findRoute(out, "reviews.split");
  ASSERT_NE(split, nullptr);
  std::map<std::string, double> shares = sharesOf(*split);
  ASSERT_EQ(shares.size(), 2u);
  EXPECT_NEAR(shares["version=v2"], 0.25, 1e-4);
  EXPECT_NEAR(shares["version=v1"], 0.75, 1e-4);
  EXPECT_EQ(split->sticky.cookie, "version");

  // Drawn over many requests.
  auto snapshot = compile(out);
  ASSERT_NE(snapshot, nullptr);
  const route::CompiledRoute* route = snapshot->route("reviews.split");
  std::mt19937_64 rng(7);
  std::map<std::string, int> drawn;
  for (int i = 0; i < 4000; ++i) {
    route::VersionPick pick = route->pickVersion({}, rng);
    ASSERT_NE(pick.target, nullptr);
    std::set<std::string> versions = reachable(*snapshot, *pick.target);
    ASSERT_EQ(versions.size(), 1u);
    ++drawn[*versions.begin()];
  }
  EXPECT_GT(drawn["version=v2"], 850);
  EXPECT_LT(drawn["version=v2"], 1150);
}

TEST(A8RulesTest, UnweightedBackendsShareTheRestEqually) {
  json instances = bookinfoInstances();
  instances.push_back(instance("reviews", "10.0.0.9:9080", {"version=v3"}));
  json rules =
      json::array({routeRule("three", 1, "reviews", nullptr,
                             json::array({backend({"version=v1"}), backend({"version=v2"}, 0.4),
                                          backend({"version=v3"})}))});
  A8Objects out = translate(payload(instances, rules));
  const config::Route* three = findRoute(out, "reviews.three");
  ASSERT_NE(three, nullptr);
  std::map<std::string, double> shares = sharesOf(*three);
  EXPECT_NEAR(shares["version=v1"], 0.3, 1e-4);
  EXPECT_NEAR(shares["version=v2"], 0.4, 1e-4);
  EXPECT_NEAR(shares["version=v3"], 0.3, 1e-4);

  json two =
      json::array({routeRule("two", 1, "reviews", nullptr,
                             json::array({backend({"version=v1"}), backend({"version=v2"})}))});
  A8Objects halves = translate(payload(bookinfoInstances(), two));
  ASSERT_NE(findRoute(halves, "reviews.two"), nullptr);
  shares = sharesOf(*findRoute(halves, "reviews.two"));
  EXPECT_NEAR(shares["version=v1"], 0.5, 1e-4);
  EXPECT_NEAR(shares["version=v2"], 0.5, 1e-4);
}

TEST(A8RulesTest, WeightsAddingUpToOneLeaveNothingForTheRest) {
  json rules = json::array(
      {routeRule("full", 1, "reviews", nullptr,
                 json::array({backend({"version=v2"}, 0.7), backend({"version=v1"}, 0.3),
                              backend({"version=v3"})}))});
  A8Objects out = translate(payload(bookinfoInstances(), rules));
  ASSERT_NE(findRoute(out, "reviews.full"), nullptr);
  std::map<std::string, double> shares = sharesOf(*findRoute(out, "reviews.full"));
  EXPECT_NEAR(shares["version=v2"], 0.7, 1e-4);
  EXPECT_NEAR(shares["version=v1"], 0.3, 1e-4);
  EXPECT_NEAR(shares["version=v3"], 0.0, 1e-9);
}

TEST(A8RulesTest, ABackendShareIsSpreadOverItsTagGroupsByInstanceCount) {
  json instances = json::array({
      instance("reviews", "10.0.0.1:80", {"version=v1"}),
      instance("reviews", "10.0.0.2:80", {"version=v2", "env=a"}),
      instance("reviews", "10.0.0.3:80", {"version=v2", "env=b"}),
      instance("reviews", "10.0.0.4:80", {"env=b", "version=v2"}),
      instance("reviews", "10.0.0.5:80", {"version=v2", "env=b"}),
  });
  json rules = json::array(
      {routeRule("spread", 1, "reviews", nullptr,
                 json::array({backend({"version=v2"}, 0.4), backend({"version=v1"})}))});
  A8Objects out = translate(payload(instances, rules));
  const config::Route* spread = findRoute(out, "reviews.spread");
  ASSERT_NE(spread, nullptr);
  std::map<std::string, double> shares = sharesOf(*spread);
  EXPECT_NEAR(shares["env=a,version=v2"], 0.1, 1e-4);
  EXPECT_NEAR(shares["env=b,version=v2"], 0.3, 1e-4);
  EXPECT_NEAR(shares["version=v1"], 0.6, 1e-4);
  EXPECT_EQ(spread->sticky.cookie, "version");

  // Each tag group sticks, even with a ',' in its label.
  auto compiled = compile(out);
  ASSERT_NE(compiled, nullptr);
  const route::CompiledRoute* route = compiled->route("reviews.spread");
  ASSERT_NE(route, nullptr);
  std::mt19937_64 rng(11);
  for (const route::CompiledTarget& target : route->targets) {
    std::string cookie = "version=" + target.label;
    Headers headers = {{"Cookie", cookie}};
    for (int i = 0; i < 20; ++i) {
      route::VersionPick pick = route->pickVersion(headers, rng);
      ASSERT_EQ(pick.target, &target) << cookie;
      ASSERT_EQ(pick.cookie, route::VersionPick::Cookie::kKeep) << cookie;
    }
  }

  // A backend with two tags selects only the groups having both.
  json narrow = json::array(
      {routeRule("b", 1, "reviews", nullptr, json::array({backend({"version=v2", "env=b"})}))});
  A8Objects b = translate(payload(instances, narrow));
  ASSERT_NE(findRoute(b, "reviews.b"), nullptr);
  auto snapshot = compile(b);
  ASSERT_NE(snapshot, nullptr);
  EXPECT_EQ(reachableAddresses(*snapshot, *snapshot->route("reviews.b")),
            (std::set<std::string>{"10.0.0.3:80", "10.0.0.4:80", "10.0.0.5:80"}));
}

TEST(A8RulesTest, ABackendSelectingNoInstanceGetsA503Target) {
  json rules = json::array(
      {routeRule("half", 1, "reviews", nullptr,
                 json::array({backend({"version=v9"}, 0.5), backend({"version=v1"})}))});
  A8Objects out = translate(payload(bookinfoInstances(), rules));
  const config::Route* half = findRoute(out, "reviews.half");
  ASSERT_NE(half, nullptr);
  auto snapshot = compile(out);
  ASSERT_NE(snapshot, nullptr);
  const route::CompiledRoute* route = snapshot->route("reviews.half");
  ASSERT_NE(route, nullptr);
  uint64_t empty_weight = 0, v1_weight = 0;
  for (const route::CompiledTarget& target : route->targets) {
    std::set<std::string> versions = reachable(*snapshot, target);
    if (versions.empty()) empty_weight += target.weight;
    if (versions == std::set<std::string>{"version=v1"}) v1_weight += target.weight;
  }
  EXPECT_GT(empty_weight, 0u) << "half of the requests are drawn to a backend with no instance";
  EXPECT_EQ(empty_weight, v1_weight);
  EXPECT_EQ(empty_weight + v1_weight, route->total_weight);
}

TEST(A8RulesTest, BackendErrors) {
  auto withBackends = [](json backends) {
    return payload(bookinfoInstances(),
                   json::array({routeRule("r", 1, "reviews", nullptr, std::move(backends))}));
  };
  auto startsWith = [](const std::string& got, const std::string& prefix) {
    EXPECT_TRUE(got.starts_with(prefix)) << got << "\nwanted: " << prefix;
  };
  startsWith(failure(withBackends(
                 json::array({backend({"version=v2"}, 0.6), backend({"version=v1"}, 0.5)}))),
             "kInvalid: rules[0].route.backends: ");
  startsWith(
      failure(withBackends(json::array(
          {backend({"version=v2"}, 0.75), backend({"version=v1"}, 0.5), backend({"version=v3"})}))),
      "kInvalid: rules[0].route.backends: ");
  startsWith(failure(withBackends(json::array({backend({"version=v2"}, 0.0)}))),
             "kInvalid: rules[0].route.backends[0].weight: ");
  startsWith(failure(withBackends(json::array({backend({"version=v2"}, -0.5)}))),
             "kInvalid: rules[0].route.backends[0].weight: ");
  startsWith(
      failure(withBackends(json::array({backend({"version=v1"}), backend({"version=v2"}, 1.5)}))),
      "kInvalid: rules[0].route.backends[1].weight: ");
  startsWith(failure(withBackends(json::array({backend({})}))),
             "kInvalid: rules[0].route.backends[0].tags: ");
  startsWith(failure(withBackends(json::array({json{{"weight", 1}}}))),
             "kInvalid: rules[0].route.backends[0].tags: ");
  startsWith(failure(withBackends(json::array())), "kInvalid: rules[0].route.backends");
  startsWith(failure(withBackends(json::array({json{{"tags", {"version=v1"}}, {"color", "red"}}}))),
             "kInvalid: rules[0].route.backends[0].color: unknown field");
  startsWith(
      failure(withBackends(json::array({json{{"tags", {"version=v1"}}, {"weight", "0.5"}}}))),
      "kInvalid: rules[0].route.backends[0].weight: ");
  // The index is the rule's in the payload, whatever its priority.
  json rules = json::array(
      {routeRule("ok", 1, "reviews", nullptr, json::array({backend({"version=v1"})})),
       routeRule("bad", 9, "reviews", nullptr, json::array({backend({"version=v1"}, 2.0)}))});
  startsWith(failure(payload(bookinfoInstances(), rules)),
             "kInvalid: rules[1].route.backends[0].weight: ");
}

TEST(A8RulesTest, BackendNameAndExtrasAreAccepted) {
  json rules = json::array({routeRule(
      "named", 1, "reviews", nullptr,
      json::array(
          {json{{"name", "reviews"}, {"tags", {"version=v2"}}, {"lb_type", "round_robin"}}}))});
  A8Objects out = translate(payload(bookinfoInstances(), rules));
  ASSERT_NE(findRoute(out, "reviews.named"), nullptr);
}

TEST(A8RulesTest, HttpReqTimeoutIsTheRouteTimeout) {
  json rules = json::array(
      {routeRule("fast", 2, "reviews", {{"headers", {{"X-Fast", "1"}}}},
                 json::array({backend({"version=v1"})})),
       routeRule("plain", 1, "reviews", nullptr, json::array({backend({"version=v1"})}))});
  rules[0]["route"]["http_req_timeout"] = 2.5;
  A8Objects out = translate(payload(bookinfoInstances(), rules));
  ASSERT_NE(findRoute(out, "reviews.fast"), nullptr);
  EXPECT_EQ(findRoute(out, "reviews.fast")->timeout_ms, 2500u);
  ASSERT_NE(findRoute(out, "reviews.plain"), nullptr);
  EXPECT_EQ(findRoute(out, "reviews.plain")->timeout_ms, 15000u) << "the original's default: 15 s";
  rules[0]["route"]["http_req_timeout"] = 0.25;
  out = translate(payload(bookinfoInstances(), rules));
  ASSERT_NE(findRoute(out, "reviews.fast"), nullptr);
  EXPECT_EQ(findRoute(out, "reviews.fast")->timeout_ms, 250u);
  rules[0]["route"]["http_req_timeout"] = "2";
  EXPECT_TRUE(failure(payload(bookinfoInstances(), rules))
                  .starts_with("kInvalid: rules[0].route.http_req_timeout: "));
  rules[0]["route"]["http_req_timeout"] = -1;
  EXPECT_TRUE(failure(payload(bookinfoInstances(), rules))
                  .starts_with("kInvalid: rules[0].route.http_req_timeout: "));
}

// ============================================================================================
// Actions
// ============================================================================================

TEST(A8RulesTest, DelayAndAbortActionsBecomeFaultsOnTheDestinationsRoutes) {
  json rules = json::array({
      routeRule("jason", 2, "reviews", {{"headers", {{"Cookie", "user=jason"}}}},
                json::array({backend({"version=v2"})})),
      routeRule("rest", 1, "reviews", nullptr, json::array({backend({"version=v1"})})),
      actionRule("slow-v2", 10, "reviews",
                 {{"source", {{"name", "productpage"}, {"tags", {"version=v1"}}}},
                  {"headers", {{"X-Slow", "yes"}}}},
                 json::array({{{"action", "delay"}, {"duration", 7}, {"tags", {"version=v2"}}},
                              {{"action", "trace"}, {"log_key", "k"}, {"log_value", "v"}}})),
  });
  A8Objects out = translate(payload(bookinfoInstances(), rules));
  for (const char* id : {"reviews.jason", "reviews.rest"}) {
    const config::Route* route = findRoute(out, id);
    ASSERT_NE(route, nullptr) << id;
    ASSERT_EQ(route->faults.size(), 1u) << id << ": trace is no fault";
    const config::Fault& fault = route->faults[0];
    EXPECT_EQ(fault.version, "version=v2") << id;
    EXPECT_TRUE(kProductpageV1.matches(fault.match.source)) << fault.match.source;
    EXPECT_FALSE(config::Identity::parse("productpage:v2").matches(fault.match.source));
    EXPECT_EQ(fault.match.headers, (std::map<std::string, std::string>{{"X-Slow", "yes"}})) << id;
    ASSERT_TRUE(fault.delay.has_value()) << id;
    EXPECT_EQ(fault.delay->ms, 7000u);
    EXPECT_EQ(fault.delay->percent, 100.0) << "probability defaults to 1";
    EXPECT_FALSE(fault.abort.has_value());
  }
  ASSERT_NE(findRoute(out, "reviews.no-rule-matched"), nullptr);
  EXPECT_TRUE(findRoute(out, "reviews.no-rule-matched")->faults.empty());
  EXPECT_EQ(findRoute(out, "reviews.slow-v2"), nullptr) << "an action rule is no route";
  EXPECT_EQ(findRoute(out, "ratings")->faults.size(), 0u) << "other destinations are untouched";

  // Compiled: it fires for productpage:v1 only, with X-Slow, on v2 only.
  std::mt19937_64 rng(1);
  auto delayOf = [&](const route::Snapshot& snapshot, const Headers& headers) {
    const route::CompiledRoute* route = snapshot.route(routedTo(snapshot, "/reviews/", headers));
    if (route == nullptr) return -1;
    route::VersionPick pick = route->pickVersion(headers, rng);
    if (pick.target == nullptr) return -2;
    return static_cast<int>(route->planFaults(*pick.target, headers, rng).delay_ms);
  };
  auto v1 = compile(out, kProductpageV1);
  ASSERT_NE(v1, nullptr);
  EXPECT_EQ(delayOf(*v1, {{"Cookie", "user=jason"}, {"X-Slow", "yes"}}), 7000);
  EXPECT_EQ(delayOf(*v1, {{"Cookie", "user=jason"}}), 0);
  EXPECT_EQ(delayOf(*v1, {{"Cookie", "user=bob"}, {"X-Slow", "yes"}}), 0) << "v1 is not delayed";
  config::Identity pp2 = config::Identity::parse("productpage:v2");
  auto v2 = compile(out, pp2);
  ASSERT_NE(v2, nullptr);
  EXPECT_EQ(delayOf(*v2, {{"Cookie", "user=jason"}, {"X-Slow", "yes"}}), 0);
}

TEST(A8RulesTest, AbortActions) {
  json rules = json::array({
      actionRule("aborts", 1, "ratings", {{"headers", {{"X-Fail", "abort"}}}},
                 json::array({{{"action", "abort"}, {"return_code", 503}, {"probability", 0.5}}})),
      actionRule("drops", 1, "ratings", {{"headers", {{"X-Fail", "drop"}}}},
                 json::array({{{"action", "abort"}, {"return_code", -5}}})),
  });
  A8Objects out = translate(payload(bookinfoInstances(), rules));
  const config::Route* ratings = findRoute(out, "ratings");
  ASSERT_NE(ratings, nullptr) << "action rules only: the catch-all stays";
  ASSERT_EQ(ratings->faults.size(), 2u);
  std::map<std::string, config::Fault> by_header;
  for (const config::Fault& fault : ratings->faults)
    by_header[fault.match.headers.at("X-Fail")] = fault;
  const config::Fault& aborts = by_header["abort"];
  ASSERT_TRUE(aborts.abort.has_value());
  EXPECT_EQ(aborts.abort->status, 503u);
  EXPECT_FALSE(aborts.abort->drop);
  EXPECT_EQ(aborts.abort->percent, 50.0);
  EXPECT_EQ(aborts.version, "") << "no tags: every version";
  const config::Fault& drops = by_header["drop"];
  ASSERT_TRUE(drops.abort.has_value());
  EXPECT_TRUE(drops.abort->drop) << "a negative return_code drops the connection";
  EXPECT_EQ(drops.abort->percent, 100.0);

  auto snapshot = compile(out);
  ASSERT_NE(snapshot, nullptr);
  const route::CompiledRoute* route = snapshot->route("ratings");
  std::mt19937_64 rng(5);
  Headers drop = {{"X-Fail", "drop"}};
  route::VersionPick pick = route->pickVersion(drop, rng);
  ASSERT_NE(pick.target, nullptr);
  EXPECT_TRUE(route->planFaults(*pick.target, drop, rng).drop);
  Headers none = {{"X-Fail", "no"}};
  EXPECT_FALSE(route->planFaults(*pick.target, none, rng).any());
}

TEST(A8RulesTest, ActionTagsSelectTagGroups) {
  json instances = json::array({
      instance("reviews", "10.0.0.1:80", {"version=v1"}),
      instance("reviews", "10.0.0.2:80", {"version=v2", "env=a"}),
      instance("reviews", "10.0.0.3:80", {"version=v2", "env=b"}),
  });
  json rules = json::array({
      routeRule("all", 1, "reviews", nullptr,
                json::array({backend({"version=v1"}), backend({"version=v2"})})),
      actionRule("slow-v2", 1, "reviews", nullptr,
                 json::array({{{"action", "delay"}, {"duration", 1}, {"tags", {"version=v2"}}}})),
      actionRule("slow-b", 1, "reviews", nullptr,
                 json::array({{{"action", "delay"}, {"duration", 2}, {"tags", {"env=b"}}}})),
  });
  A8Objects out = translate(payload(instances, rules));
  auto snapshot = compile(out);
  ASSERT_NE(snapshot, nullptr);
  const route::CompiledRoute* route = snapshot->route("reviews.all");
  ASSERT_NE(route, nullptr);
  std::mt19937_64 rng(1);
  std::map<std::string, uint32_t> delays;
  for (const route::CompiledTarget& target : route->targets) {
    std::set<std::string> versions = reachable(*snapshot, target);
    ASSERT_EQ(versions.size(), 1u) << target.version;
    delays[*versions.begin()] = route->planFaults(target, {}, rng).delay_ms;
  }
  EXPECT_EQ(delays,
            (std::map<std::string, uint32_t>{
                {"version=v1", 0}, {"env=a,version=v2", 1000}, {"env=b,version=v2", 3000}}));
}

// Action tags must limit an action to the instances they select even when the destination has
// no route rule (its catch-all route reaches every instance).
TEST(A8RulesTest, ActionTagsLimitTheCatchAllRouteToo) {
  json rules = json::array({actionRule(
      "fail-v2", 1, "reviews", nullptr,
      json::array({{{"action", "abort"}, {"return_code", 503}, {"tags", {"version=v2"}}}}))});
  A8Objects out = translate(payload(bookinfoInstances(), rules));
  auto snapshot = compile(out);
  ASSERT_NE(snapshot, nullptr);
  std::string id = routedTo(*snapshot, "/reviews/");
  ASSERT_EQ(id, "reviews");
  const route::CompiledRoute* route = snapshot->route(id);
  std::mt19937_64 rng(1);
  std::set<std::string> seen;
  for (const route::CompiledTarget& target : route->targets) {
    if (target.weight == 0) continue;
    std::set<std::string> versions = reachable(*snapshot, target);
    ASSERT_EQ(versions.size(), 1u)
        << "target '" << target.version << "' reaches several tag groups, so an action on "
        << "version=v2 cannot be limited to v2 (fault versions compare with the picked target's)";
    route::FaultPlan plan = route->planFaults(target, {}, rng);
    seen.insert(*versions.begin());
    if (*versions.begin() == "version=v2") {
      EXPECT_EQ(plan.abort_status, 503u) << "requests drawn to v2 must be aborted";
    } else {
      EXPECT_FALSE(plan.any()) << *versions.begin() << " is not v2";
    }
  }
  EXPECT_EQ(seen, (std::set<std::string>{"version=v1", "version=v2"}));
}

TEST(A8RulesTest, ActionErrors) {
  auto withActions = [](json actions) {
    return payload(bookinfoInstances(),
                   json::array({actionRule("a", 1, "reviews", nullptr, std::move(actions))}));
  };
  auto startsWith = [](const std::string& got, const std::string& prefix) {
    EXPECT_TRUE(got.starts_with(prefix)) << got << "\nwanted: " << prefix;
  };
  startsWith(failure(withActions(json::array({{{"action", "explode"}}}))),
             "kInvalid: rules[0].actions[0].action: ");
  startsWith(failure(withActions(json::array({{{"action", "delay"}}}))),
             "kInvalid: rules[0].actions[0].duration: ");
  startsWith(failure(withActions(json::array({{{"action", "abort"}}}))),
             "kInvalid: rules[0].actions[0].return_code: ");
  startsWith(failure(withActions(json::array({{{"action", "delay"}, {"duration", "7"}}}))),
             "kInvalid: rules[0].actions[0].duration: ");
  startsWith(
      failure(withActions(json::array({{{"action", "delay"}, {"duration", 1}, {"color", 1}}}))),
      "kInvalid: rules[0].actions[0].color: unknown field");
  startsWith(failure(withActions(json{{"action", "delay"}})), "kInvalid: rules[0].actions: ");
}

// ============================================================================================
// Errors
// ============================================================================================

TEST(A8RulesTest, RuleErrors) {
  json ok_route = {{"backends", json::array({backend({"version=v1"})})}};
  json ok_actions = json::array({{{"action", "delay"}, {"duration", 1}}});
  auto one = [](json rule) { return payload(bookinfoInstances(), json::array({std::move(rule)})); };
  auto startsWith = [](const std::string& got, const std::string& prefix) {
    EXPECT_TRUE(got.starts_with(prefix)) << got << "\nwanted: " << prefix;
  };
  startsWith(
      failure(one(
          {{"id", "x"}, {"destination", "reviews"}, {"route", ok_route}, {"actions", ok_actions}})),
      "kInvalid: rules[0]: ");
  startsWith(failure(one({{"id", "x"}, {"destination", "reviews"}})), "kInvalid: rules[0]: ");
  EXPECT_EQ(failure(one({{"id", "x"}, {"route", ok_route}})),
            "kInvalid: rules[0].destination: missing");
  EXPECT_EQ(
      failure(one(
          {{"id", "x"}, {"destination", "reviews"}, {"priority", "high"}, {"route", ok_route}})),
      "kInvalid: rules[0].priority: must be an integer, not string");
  startsWith(
      failure(
          one({{"id", "x"}, {"destination", "reviews"}, {"priority", 1.5}, {"route", ok_route}})),
      "kInvalid: rules[0].priority: ");
  EXPECT_EQ(
      failure(one({{"id", "x"}, {"destination", "reviews"}, {"route", ok_route}, {"bogus", 1}})),
      "kInvalid: rules[0].bogus: unknown field");
  EXPECT_EQ(failure(one({{"id", "x"},
                         {"destination", "reviews"},
                         {"route", ok_route},
                         {"match", {{"cookies", {{"a", "b"}}}}}})),
            "kInvalid: rules[0].match.cookies: unknown field");
  EXPECT_EQ(failure(one({{"id", "x"},
                         {"destination", "reviews"},
                         {"route", ok_route},
                         {"match", {{"source", {{"tags", {"version=v1"}}}}}}})),
            "kInvalid: rules[0].match.source.name: missing");
  startsWith(failure(one({{"id", "x"}, {"destination", "a b"}, {"route", ok_route}})),
             "kInvalid: rules[0].destination: ");
  startsWith(failure(one({{"id", "x"}, {"destination", 5}, {"route", ok_route}})),
             "kInvalid: rules[0].destination: ");
  EXPECT_EQ(failure(R"({"instances": [], "rules": [], "bogus": 1})"),
            "kInvalid: bogus: unknown field");
  startsWith(failure(R"({"instances": {}, "rules": []})"), "kInvalid: instances: ");
  startsWith(failure(R"({"instances": [], "rules": {}})"), "kInvalid: rules: ");
  json extra = instance("reviews", "10.0.0.1:80", {"version=v1"});
  extra["zone"] = "eu";
  EXPECT_EQ(failure(payload(json::array({extra}), json::array())),
            "kInvalid: instances[0].zone: unknown field");
  // An instance's documented fields are all accepted.
  json full = instance("reviews", "10.0.0.1:80", {"version=v1"});
  full["id"] = "abc";
  full["metadata"] = {{"k", "v"}};
  full["ttl"] = 30;
  full["last_heartbeat"] = "2016-11-01T00:00:00Z";
  EXPECT_EQ(failure(payload(json::array({full}), json::array())), "kOk");
}

TEST(A8RulesTest, BadJson) {
  for (const char* body : {R"({"instances": [)", R"({"rules": [}])", "", "{'rules': []}"}) {
    std::string got = failure(body);
    EXPECT_TRUE(got.starts_with("kBadJson: ") && got.size() > 10) << body << " -> " << got;
  }
}

TEST(A8RulesTest, ErrorsLeaveTheCallersObjectsAlone) {
  A8Objects out = translate(payload(bookinfoInstances(), json::array()));
  A8Objects before = out;
  std::string error;
  std::string bad = payload(
      bookinfoInstances(),
      json::array(
          {routeRule("r", 1, "reviews", nullptr,
                     json::array({backend({"version=v1"}, 0.8), backend({"version=v2"}, 0.8)}))}));
  EXPECT_EQ(translateA8(bad, kProductpageV1, out, error), A8Parse::kInvalid);
  EXPECT_FALSE(error.empty());
  EXPECT_EQ(out.services, before.services);
  EXPECT_EQ(out.routes, before.routes);
}

// ============================================================================================
// A whole bookinfo-like payload is a valid configuration and compiles
// ============================================================================================

TEST(A8RulesTest, BookinfoPayloadValidatesAndCompiles) {
  json instances = bookinfoInstances();
  instances.push_back(instance("details", "10.0.4.1:9080", {"version=v1"}));
  instances.push_back(instance("productpage", "10.0.2.1:9080", {"version=v1"}));
  json rules = json::array({
      routeRule("jason", 2, "reviews", {{"headers", {{"Cookie", "^(.*?;)?(user=jason)(;.*)?$"}}}},
                json::array({backend({"version=v2"})})),
      routeRule("split", 1, "reviews", nullptr,
                json::array({backend({"version=v2"}, 0.25), backend({"version=v1"})})),
      actionRule("jason-delay", 10, "ratings",
                 {{"source", {{"name", "reviews"}, {"tags", {"version=v2"}}}},
                  {"headers", {{"Cookie", "^(.*?;)?(user=jason)(;.*)?$"}}}},
                 json::array({{{"action", "delay"},
                               {"duration", 7},
                               {"probability", 1},
                               {"tags", {"version=v1"}}}})),
      routeRule("r", 1, "nopods", nullptr, json::array({backend({"version=v1"})})),
  });
  for (const char* identity : {"productpage:v1", "reviews:v2", "reviews:version=v2", ""}) {
    config::Identity id = config::Identity::parse(identity);
    A8Objects out = translate(payload(instances, rules), id);
    auto snapshot = compile(out, id);
    ASSERT_NE(snapshot, nullptr) << identity;
    EXPECT_EQ(routedTo(*snapshot, "/details/"), "details") << identity;
    EXPECT_EQ(routedTo(*snapshot, "/reviews/"), "reviews.split") << identity;
    EXPECT_EQ(routedTo(*snapshot, "/nothing/"), "<none>") << identity;
  }
  // The ratings delay is reviews:v2's.
  for (const char* identity : {"reviews:v2", "reviews:version=v2"}) {
    config::Identity id = config::Identity::parse(identity);
    auto snapshot = compile(translate(payload(instances, rules), id), id);
    ASSERT_NE(snapshot, nullptr);
    EXPECT_EQ(snapshot->route("ratings")->faults.size(), 1u) << identity;
  }
  auto pp = compile(translate(payload(instances, rules)));
  ASSERT_NE(pp, nullptr);
  EXPECT_EQ(pp->route("ratings")->faults.size(), 0u);
}

}  // namespace
}  // namespace turnout::compat
