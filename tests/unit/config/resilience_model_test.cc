// The resilience fields of the model (health_check, outlier, circuit_breakers, hash,
// panic_threshold_percent, slow_start_ms, the hashing and EWMA balancers, route retries): YAML
// and JSON decoding, defaults, toJson round trips, and every validation error with its field
// path.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "config/load.h"
#include "error_text.h"

namespace turnout::config {
namespace {

// A service using every resilience field, as the documents below spell it.
Service resilientService() {
  Service service;
  service.name = "reviews";
  service.lb = "ring_hash";
  service.endpoints = {{"10.0.0.1:80", "v1", 1}, {"10.0.0.2:80", "v2", 2}};
  HealthCheck& check = service.health_check;
  check.type = "http";
  check.path = "/ready";
  check.host = "reviews.internal";
  check.expected_statuses = {{200, 299}, {304, 304}};
  check.interval_ms = 5000;
  check.timeout_ms = 500;
  check.jitter_ms = 250;
  check.healthy = 3;
  check.unhealthy = 2;
  service.outlier = {3, 4, 2, 60000, 120000, 50};
  service.circuit_breakers = {100, 50, 200, 25, 5};
  service.hash.header = "x-user";
  service.panic_threshold_percent = 30;
  service.slow_start_ms = 10000;
  return service;
}

constexpr const char* kServiceYaml = R"(name: reviews
lb: ring_hash
endpoints:
  - {address: "10.0.0.1:80", version: v1}
  - {address: "10.0.0.2:80", version: v2, weight: 2}
health_check:
  type: http
  path: /ready
  host: reviews.internal
  expected_statuses: [200-299, 304]
  interval_ms: 5000
  timeout_ms: 500
  jitter_ms: 250
  healthy: 3
  unhealthy: 2
outlier:
  consecutive_5xx: 3
  consecutive_gateway_failure: 4
  consecutive_connect_failure: 2
  base_ejection_ms: 60000
  max_ejection_ms: 120000
  max_ejection_percent: 50
circuit_breakers: {max_connections: 100, max_pending: 50, max_requests: 200,
                   retry_budget_percent: 25, min_retry_concurrency: 5}
hash: {header: x-user}
panic_threshold_percent: 30
slow_start_ms: 10000
)";

constexpr const char* kServiceJson = R"({
  "name": "reviews", "lb": "ring_hash",
  "endpoints": [{"address": "10.0.0.1:80", "version": "v1"},
                {"address": "10.0.0.2:80", "version": "v2", "weight": 2}],
  "health_check": {"type": "http", "path": "/ready", "host": "reviews.internal",
                   "expected_statuses": ["200-299", 304], "interval_ms": 5000,
                   "timeout_ms": 500, "jitter_ms": 250, "healthy": 3, "unhealthy": 2},
  "outlier": {"consecutive_5xx": 3, "consecutive_gateway_failure": 4,
              "consecutive_connect_failure": 2, "base_ejection_ms": 60000,
              "max_ejection_ms": 120000, "max_ejection_percent": 50},
  "circuit_breakers": {"max_connections": 100, "max_pending": 50, "max_requests": 200,
                       "retry_budget_percent": 25, "min_retry_concurrency": 5},
  "hash": {"header": "x-user"},
  "panic_threshold_percent": 30,
  "slow_start_ms": 10000
})";

// A route using every retry field.
Route retryingRoute() {
  Route route;
  route.id = "reviews";
  route.split = {{"reviews", "v1", 1, {}}};
  route.timeout_ms = 5000;
  RetryPolicy& retries = route.retries;
  retries.attempts = 3;
  retries.on = {"connect-failure", "gateway-error", "retriable-status"};
  retries.statuses = {429, 503};
  retries.per_try_timeout_ms = 2000;
  retries.backoff_base_ms = 10;
  retries.backoff_max_ms = 1000;
  retries.non_idempotent = true;
  return route;
}

constexpr const char* kRouteYaml = R"(id: reviews
split: [{service: reviews, version: v1}]
timeout_ms: 5000
retries:
  attempts: 3
  on: [connect-failure, gateway-error, retriable-status]
  statuses: [429, 503]
  per_try_timeout_ms: 2000
  backoff_base_ms: 10
  backoff_max_ms: 1000
  non_idempotent: true
)";

constexpr const char* kRouteJson = R"({
  "id": "reviews", "split": [{"service": "reviews", "version": "v1"}], "timeout_ms": 5000,
  "retries": {"attempts": 3, "on": ["connect-failure", "gateway-error", "retriable-status"],
              "statuses": [429, 503], "per_try_timeout_ms": 2000, "backoff_base_ms": 10,
              "backoff_max_ms": 1000, "non_idempotent": true}
})";

std::vector<std::string> serviceErrors(const std::string& text, Format format = Format::kYaml) {
  Service service;
  return describe(parseService(text, format, service));
}

std::vector<std::string> routeErrors(const std::string& text, Format format = Format::kYaml) {
  Route route;
  return describe(parseRoute(text, format, route));
}

// A valid service with `extra` YAML lines appended.
std::string baseService(const std::string& extra) {
  return "name: s\nendpoints: [{address: \"10.0.0.1:80\"}]\n" + extra;
}

// A valid route (timeout_ms 15000, the default) with `extra` YAML lines appended.
std::string baseRoute(const std::string& extra) {
  return "id: r\nsplit: [{service: reviews}]\n" + extra;
}

Service decodedService(const std::string& yaml) {
  Service service;
  auto errors = describe(parseService(yaml, Format::kYaml, service));
  EXPECT_TRUE(errors.empty()) << yaml << joined(errors);
  return service;
}

// ---- decoding ---------------------------------------------------------------------------

TEST(ResilienceModelTest, YamlDecodesEveryServiceField) {
  Service service;
  auto errors = describe(parseService(kServiceYaml, Format::kYaml, service));
  ASSERT_TRUE(errors.empty()) << joined(errors);
  EXPECT_EQ(service, resilientService());
}

TEST(ResilienceModelTest, JsonDecodesEveryServiceField) {
  Service service;
  auto errors = describe(parseService(kServiceJson, Format::kJson, service));
  ASSERT_TRUE(errors.empty()) << joined(errors);
  EXPECT_EQ(service, resilientService());
}

TEST(ResilienceModelTest, YamlAndJsonDecodeEveryRetryField) {
  for (auto [text, format] :
       {std::pair{kRouteYaml, Format::kYaml}, std::pair{kRouteJson, Format::kJson}}) {
    Route route;
    auto errors = describe(parseRoute(text, format, route));
    ASSERT_TRUE(errors.empty()) << text << joined(errors);
    EXPECT_EQ(route, retryingRoute()) << text;
  }
}

TEST(ResilienceModelTest, DefaultsAreTheModels) {
  Service service = decodedService("name: s\n");
  EXPECT_FALSE(service.health_check.enabled());
  EXPECT_EQ(service.health_check, HealthCheck{});
  EXPECT_EQ(service.outlier.consecutive_5xx, 5u);  // Envoy: outlier detection is on by default
  EXPECT_EQ(service.outlier.base_ejection_ms, 30000u);
  EXPECT_EQ(service.outlier.max_ejection_percent, 10u);
  EXPECT_EQ(service.circuit_breakers.max_requests, 1024u);
  EXPECT_TRUE(service.hash.empty());
  EXPECT_EQ(service.panic_threshold_percent, 50u);
  EXPECT_EQ(service.slow_start_ms, 0u);
  Route route;
  ASSERT_TRUE(parseRoute(baseRoute(""), Format::kYaml, route).empty());
  EXPECT_FALSE(route.retries.enabled());
  EXPECT_EQ(route.retries, RetryPolicy{});
}

TEST(ResilienceModelTest, PartialBlocksKeepTheOtherDefaults) {
  Service service = decodedService(baseService("health_check: {type: tcp}\noutlier: {}\n"));
  HealthCheck tcp;
  tcp.type = "tcp";
  EXPECT_EQ(service.health_check, tcp);
  EXPECT_EQ(service.outlier, Outlier{});
  Route route;
  ASSERT_TRUE(parseRoute(baseRoute("retries: {attempts: 2}\n"), Format::kYaml, route).empty());
  EXPECT_EQ(route.retries.attempts, 2u);
  EXPECT_EQ(route.retries.on, RetryPolicy{}.on);
  EXPECT_EQ(route.retries.statuses, RetryPolicy{}.statuses);
}

TEST(ResilienceModelTest, ListsGivenReplaceTheDefaults) {
  Service service =
      decodedService(baseService("health_check: {type: http, "
                                 "expected_statuses: [204]}\n"));
  EXPECT_EQ(service.health_check.expected_statuses,
            (std::vector<std::pair<uint16_t, uint16_t>>{{204, 204}}));
  Route route;
  ASSERT_TRUE(parseRoute(baseRoute("retries: {attempts: 1, on: [5xx], statuses: []}\n"),
                         Format::kYaml, route)
                  .empty());
  EXPECT_EQ(route.retries.on, std::vector<std::string>{"5xx"});
  EXPECT_TRUE(route.retries.statuses.empty());
}

// DESIGN §"Configuration model" spells these: they are a contract.
TEST(ResilienceModelTest, DesignDocumentExamplesDecode) {
  Config config;
  auto errors = describe(parseDocument(
      "services:\n"
      "  - name: helloworld\n"
      "    lb: round_robin\n"
      "    endpoints:\n"
      "      - {address: \"127.0.0.1:9091\", version: v1, weight: 1}\n"
      "    health_check: {type: http, path: /healthz, interval_ms: 2000, timeout_ms: 1000, "
      "healthy: 2, unhealthy: 3}\n"
      "    outlier: {consecutive_5xx: 5, base_ejection_ms: 30000, max_ejection_percent: 10}\n"
      "routes:\n"
      "  - id: hello\n"
      "    split: [{service: helloworld, version: v1}]\n"
      "    retries: {attempts: 2, on: [connect-failure, gateway-error], per_try_timeout_ms: "
      "2000}\n",
      config));
  ASSERT_TRUE(errors.empty()) << joined(errors);
  EXPECT_EQ(config.services[0].health_check.type, "http");
  EXPECT_EQ(config.services[0].health_check.path, "/healthz");
  EXPECT_EQ(config.services[0].outlier, Outlier{});  // the example spells the defaults
  EXPECT_EQ(config.routes[0].retries.attempts, 2u);
  EXPECT_EQ(config.routes[0].retries.on,
            (std::vector<std::string>{"connect-failure", "gateway-error"}));
  EXPECT_EQ(config.routes[0].retries.per_try_timeout_ms, 2000u);
}

TEST(ResilienceModelTest, EveryBalancerIsAccepted) {
  for (const char* lb : {"random", "round_robin", "least_request", "ring_hash", "maglev", "ewma"}) {
    EXPECT_NO_ERRORS(serviceErrors(baseService(std::string("lb: ") + lb + "\n")));
  }
  EXPECT_HAS_ERROR(serviceErrors(baseService("lb: fastest\n")),
                   "lb: must be one of: random, round_robin, least_request, ring_hash, maglev, "
                   "ewma");
  EXPECT_HAS_ERROR(serviceErrors(baseService("lb: Maglev\n")),
                   "lb: must be one of: random, round_robin, least_request, ring_hash, maglev, "
                   "ewma");
}

// nginx's `server ... max_fails=3 fail_timeout=60s`, as the README maps it.
TEST(ResilienceModelTest, NginxMaxFailsMapping) {
  Service service = decodedService(
      baseService("outlier: {consecutive_5xx: 0, consecutive_gateway_failure: 3, "
                  "base_ejection_ms: 60000, max_ejection_ms: 60000, max_ejection_percent: 100}\n"));
  EXPECT_EQ(service.outlier, (Outlier{0, 3, 0, 60000, 60000, 100}));
}

// ---- expected_statuses ------------------------------------------------------------------

std::vector<std::pair<uint16_t, uint16_t>> statusesOf(const std::string& list,
                                                      Format format = Format::kYaml) {
  Service service;
  std::string text =
      format == Format::kYaml
          ? baseService("health_check: {type: http, expected_statuses: " + list + "}\n")
          : R"({"name": "s", "health_check": {"type": "http", "expected_statuses": )" + list + "}}";
  auto errors = describe(parseService(text, format, service));
  EXPECT_TRUE(errors.empty()) << list << joined(errors);
  return service.health_check.expected_statuses;
}

TEST(ResilienceModelTest, ExpectedStatusesForms) {
  using Ranges = std::vector<std::pair<uint16_t, uint16_t>>;
  EXPECT_EQ(statusesOf("[200]"), (Ranges{{200, 200}}));
  EXPECT_EQ(statusesOf("[200-299]"), (Ranges{{200, 299}}));
  EXPECT_EQ(statusesOf("[\"200-299\", 418, 100-599]"),
            (Ranges{{200, 299}, {418, 418}, {100, 599}}));
  EXPECT_EQ(statusesOf("[204-204]"), (Ranges{{204, 204}}));
  EXPECT_EQ(statusesOf(R"(["200-299", 304])", Format::kJson), (Ranges{{200, 299}, {304, 304}}));
  EXPECT_EQ(statusesOf(R"([599])", Format::kJson), (Ranges{{599, 599}}));
}

TEST(ResilienceModelTest, ExpectedStatusesBadForms) {
  const std::string kRule =
      "health_check.expected_statuses[0]: must be a status between 100 and 599, or a range "
      "\"LO-HI\" such as \"200-299\"";
  for (const char* item :
       {"99", "600", "2xx", "\"200\"", "200-", "-200", "200-600", "99-200", "\"200 - 299\"",
        "200-299-300", "[200, 299]", "{lo: 200}", "200.0", "\"+200-299\"", "ok"}) {
    SCOPED_TRACE(item);
    EXPECT_HAS_ERROR(serviceErrors(baseService(std::string("health_check: {type: http, "
                                                           "expected_statuses: [") +
                                               item + "]}\n")),
                     kRule);
  }
  for (const char* item : {"\"200\"", "[200, 299]", "200.5", "\"2xx\"", "true"}) {
    SCOPED_TRACE(item);
    EXPECT_HAS_ERROR(serviceErrors(std::string(R"({"name": "s", "health_check": {"type": "http",
                                                   "expected_statuses": [)") +
                                       item + "]}}",
                                   Format::kJson),
                     kRule);
  }
  EXPECT_HAS_ERROR(
      serviceErrors(baseService("health_check: {type: http, expected_statuses: [200, 299-200]}\n")),
      "health_check.expected_statuses[1]: must be a range \"LO-HI\" with LO <= HI");
  EXPECT_HAS_ERROR(
      serviceErrors(baseService("health_check: {type: http, expected_statuses: []}\n")),
      "health_check.expected_statuses: must list at least one status or range for an http check");
  EXPECT_HAS_ERROR(
      serviceErrors(baseService("health_check: {type: http, expected_statuses: 200}\n")),
      "health_check.expected_statuses: must be a list");
  // A tcp check reads no status: an empty list is fine there.
  EXPECT_NO_ERRORS(
      serviceErrors(baseService("health_check: {type: tcp, expected_statuses: []}\n")));
}

// ---- encoding ---------------------------------------------------------------------------

TEST(ResilienceModelTest, ToJsonRoundTrips) {
  const Service service = resilientService();
  const std::string json = toJson(service);
  Service back;
  auto errors = describe(parseService(json, Format::kJson, back));
  ASSERT_TRUE(errors.empty()) << json << joined(errors);
  EXPECT_EQ(back, service) << json;
  Service yaml_back;
  ASSERT_TRUE(parseService(json, Format::kYaml, yaml_back).empty()) << json;
  EXPECT_EQ(yaml_back, service) << json;
  Service stored;
  ASSERT_TRUE(decodeStored(json, stored).empty());
  EXPECT_EQ(stored, service);
  EXPECT_EQ(toJson(back), json);

  const Route route = retryingRoute();
  const std::string route_json = toJson(route);
  Route route_back;
  errors = describe(parseRoute(route_json, Format::kJson, route_back));
  ASSERT_TRUE(errors.empty()) << route_json << joined(errors);
  EXPECT_EQ(route_back, route) << route_json;
  Route route_stored;
  ASSERT_TRUE(decodeStored(route_json, route_stored).empty());
  EXPECT_EQ(route_stored, route);
  EXPECT_EQ(toJson(route_back), route_json);
}

TEST(ResilienceModelTest, ToJsonWritesBlocksWholeAndRangesAsText) {
  const std::string json = toJson(resilientService());
  EXPECT_NE(json.find(R"("expected_statuses":["200-299",304])"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("hash":{"header":"x-user"})"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("circuit_breakers":{"max_connections":100,"max_pending":50,)"
                      R"("max_requests":200,"retry_budget_percent":25,"min_retry_concurrency":5})"),
            std::string::npos)
      << json;
  Route route;
  route.id = "r";
  route.retries.attempts = 2;
  EXPECT_NE(toJson(route).find(R"("retries":{"attempts":2,"on":["connect-failure",)"
                               R"("refused-stream","reset"],"statuses":[502,503,504],)"
                               R"("per_try_timeout_ms":0,"backoff_base_ms":25,)"
                               R"("backoff_max_ms":250,"non_idempotent":false})"),
            std::string::npos)
      << toJson(route);
}

// Stored rows and GET /v1/config answers of configurations that do not use the new fields
// stay byte for byte what they were.
TEST(ResilienceModelTest, DefaultsAreNotEncoded) {
  Service service;
  service.name = "s";
  service.endpoints = {{"10.0.0.1:80", "", 1}};
  EXPECT_EQ(toJson(service),
            R"({"name":"s","lb":"round_robin","endpoints":[{"address":"10.0.0.1:80",)"
            R"("version":"","weight":1}]})");
  Route route;
  route.id = "r";
  route.split = {{"s", "", 1, {}}};
  EXPECT_EQ(toJson(route).find("retries"), std::string::npos) << toJson(route);
}

TEST(ResilienceModelTest, RoundTripOfEachFieldAlone) {
  std::vector<Service> services;
  auto add = [&](auto change) {
    Service service;
    service.name = "s";
    change(service);
    services.push_back(service);
  };
  add([](Service& s) { s.health_check.type = "tcp"; });
  add([](Service& s) { s.health_check.path = "/x"; });  // settings kept while disabled
  add([](Service& s) { s.health_check.expected_statuses.clear(); });
  add([](Service& s) { s.health_check.expected_statuses = {{100, 100}, {599, 599}, {100, 599}}; });
  add([](Service& s) { s.health_check.host = "a:8080"; });
  add([](Service& s) { s.health_check.jitter_ms = 1; });
  add([](Service& s) { s.outlier.consecutive_5xx = 0; });
  add([](Service& s) { s.outlier.consecutive_connect_failure = 1; });
  add([](Service& s) { s.outlier.max_ejection_percent = 0; });
  add([](Service& s) { s.circuit_breakers.max_pending = 1; });
  add([](Service& s) {
    s.lb = "maglev";
    s.hash.source_ip = true;
  });
  add([](Service& s) { s.hash.cookie = "session"; });
  add([](Service& s) {  // invalid (checked elsewhere), but stored rows must still round-trip
    s.hash = {"x-a", "c", true};
  });
  add([](Service& s) { s.panic_threshold_percent = 0; });
  add([](Service& s) { s.slow_start_ms = 1; });
  add([](Service& s) { s.lb = "ewma"; });
  for (const Service& service : services) {
    const std::string json = toJson(service);
    Service back;
    ASSERT_TRUE(decodeStored(json, back).empty()) << json;
    EXPECT_EQ(back, service) << json;
  }
  std::vector<Route> routes;
  auto addRoute = [&](auto change) {
    Route route;
    route.id = "r";
    route.split = {{"s", "", 1, {}}};
    change(route.retries);
    routes.push_back(route);
  };
  addRoute([](RetryPolicy& r) { r.on.clear(); });
  addRoute([](RetryPolicy& r) { r.statuses.clear(); });
  addRoute([](RetryPolicy& r) { r.non_idempotent = true; });
  addRoute([](RetryPolicy& r) { r.backoff_max_ms = 3600000; });
  addRoute([](RetryPolicy& r) { r.attempts = 10; });
  for (const Route& route : routes) {
    const std::string json = toJson(route);
    Route back;
    ASSERT_TRUE(decodeStored(json, back).empty()) << json;
    EXPECT_EQ(back, route) << json;
  }
}

TEST(ResilienceModelTest, ConfigRoundTripKeepsResilienceFields) {
  Config config;
  config.services.push_back(resilientService());
  Route route = retryingRoute();
  config.routes.push_back(route);
  ASSERT_TRUE(validate(config).empty()) << joined(describe(validate(config)));
  Config back;
  auto errors = describe(parseDocument(toJson(config), Format::kJson, back));
  ASSERT_TRUE(errors.empty()) << joined(errors);
  EXPECT_EQ(back, config);
}

// ---- validation: decoding ---------------------------------------------------------------

TEST(ResilienceModelTest, UnknownKeysAreRefused) {
  EXPECT_HAS_ERROR(serviceErrors(baseService("health_check: {type: http, interval: 5}\n")),
                   "health_check.interval: unknown field");
  EXPECT_HAS_ERROR(serviceErrors(baseService("health_check: {type: http, enabled: true}\n")),
                   "health_check.enabled: unknown field");
  EXPECT_HAS_ERROR(serviceErrors(baseService("outlier: {interval_ms: 10000}\n")),
                   "outlier.interval_ms: unknown field");
  EXPECT_HAS_ERROR(serviceErrors(baseService("circuit_breakers: {max_retries: 3}\n")),
                   "circuit_breakers.max_retries: unknown field");
  EXPECT_HAS_ERROR(serviceErrors(baseService("hash: {query: user}\n")),
                   "hash.query: unknown field");
  EXPECT_HAS_ERROR(serviceErrors(baseService("panic_threshold: 10\n")),
                   "panic_threshold: unknown field");
  EXPECT_HAS_ERROR(routeErrors(baseRoute("retries: {attempts: 1, retry_on: [5xx]}\n")),
                   "retries.retry_on: unknown field");
  EXPECT_HAS_ERROR(
      serviceErrors(baseService("outlier: {consecutive_5xx: 1, consecutive_5xx: 2}\n")),
      "outlier.consecutive_5xx: duplicate key");
}

TEST(ResilienceModelTest, WrongTypesAreRefused) {
  EXPECT_HAS_ERROR(serviceErrors(baseService("health_check: [http]\n")),
                   "health_check: must be a mapping");
  EXPECT_HAS_ERROR(serviceErrors(baseService("health_check: {type: [http]}\n")),
                   "health_check.type: must be a string");
  EXPECT_HAS_ERROR(serviceErrors(baseService("outlier: {consecutive_5xx: \"5\"}\n")),
                   "outlier.consecutive_5xx: must be an integer between 0 and 4294967295");
  EXPECT_HAS_ERROR(serviceErrors(baseService("hash: {source_ip: yes}\n")),
                   "hash.source_ip: must be true or false");
  EXPECT_HAS_ERROR(routeErrors(baseRoute("retries: {on: connect-failure}\n")),
                   "retries.on: must be a list");
  EXPECT_HAS_ERROR(routeErrors(baseRoute("retries: {attempts: 1.5}\n")),
                   "retries.attempts: must be an integer between 0 and 10");
  const std::string json_service = R"({"name": "s", "health_check": {"type": "http",
                                       "interval_ms": "2000"}, "outlier": {"base_ejection_ms": 1.5},
                                       "circuit_breakers": {"max_requests": true},
                                       "hash": {"header": 7}, "slow_start_ms": null})";
  auto errors = serviceErrors(json_service, Format::kJson);
  EXPECT_HAS_ERROR(errors, "health_check.interval_ms: must be an integer between 100 and 3600000");
  EXPECT_HAS_ERROR(errors, "outlier.base_ejection_ms: must be an integer between 0 and 3600000");
  EXPECT_HAS_ERROR(errors,
                   "circuit_breakers.max_requests: must be an integer between 1 and 4294967295");
  EXPECT_HAS_ERROR(errors, "hash.header: must be a string");
  EXPECT_HAS_ERROR(errors, "slow_start_ms: must be an integer between 0 and 3600000");
  EXPECT_HAS_ERROR(routeErrors(R"({"id": "r", "split": [{"service": "s"}],
                                   "retries": {"on": [5], "non_idempotent": "yes"}})",
                               Format::kJson),
                   "retries.on[0]: must be a string");
  EXPECT_HAS_ERROR(routeErrors(R"({"id": "r", "split": [{"service": "s"}],
                                   "retries": {"non_idempotent": "yes"}})",
                               Format::kJson),
                   "retries.non_idempotent: must be true or false");
}

// ---- validation: checks -----------------------------------------------------------------

TEST(ResilienceModelTest, HealthCheckType) {
  const std::string kRule = "health_check.type: must be one of: http, tcp";
  EXPECT_HAS_ERROR(serviceErrors(baseService("health_check: {type: grpc}\n")), kRule);
  EXPECT_HAS_ERROR(serviceErrors(baseService("health_check: {type: HTTP}\n")), kRule);
  // Settings without a type would check nothing: the type was most likely forgotten.
  EXPECT_HAS_ERROR(serviceErrors(baseService("health_check: {path: /ready}\n")), kRule);
  EXPECT_NO_ERRORS(serviceErrors(baseService("health_check: {}\n")));
  EXPECT_NO_ERRORS(serviceErrors(baseService("health_check: {type: \"\"}\n")));
  EXPECT_NO_ERRORS(serviceErrors(baseService("health_check: {type: tcp}\n")));
}

TEST(ResilienceModelTest, HealthCheckPathAndHost) {
  const std::string kPath =
      "health_check.path: must be a path starting with '/' (visible ASCII, no spaces)";
  EXPECT_HAS_ERROR(serviceErrors(baseService("health_check: {type: http, path: healthz}\n")),
                   kPath);
  EXPECT_HAS_ERROR(serviceErrors(baseService("health_check: {type: http, path: \"\"}\n")), kPath);
  EXPECT_HAS_ERROR(serviceErrors(baseService("health_check: {type: http, path: \"/a b\"}\n")),
                   kPath);
  EXPECT_HAS_ERROR(
      serviceErrors(baseService("health_check: {type: http, path: \"/a\\r\\nX: y\"}\n")), kPath);
  EXPECT_HAS_ERROR(serviceErrors(baseService("health_check: {type: http, host: \"a b\"}\n")),
                   "health_check.host: must be a Host header value (visible ASCII, no spaces)");
  EXPECT_NO_ERRORS(serviceErrors(
      baseService("health_check: {type: http, path: \"/healthz?full=1\", host: \"a.b:8080\"}\n")));
  EXPECT_NO_ERRORS(serviceErrors(baseService("health_check: {type: tcp, path: unused}\n")));
}

TEST(ResilienceModelTest, HealthCheckTimes) {
  EXPECT_HAS_ERROR(serviceErrors(baseService("health_check: {type: tcp, interval_ms: 99}\n")),
                   "health_check.interval_ms: must be an integer between 100 and 3600000");
  EXPECT_HAS_ERROR(serviceErrors(baseService("health_check: {type: tcp, interval_ms: 3600001}\n")),
                   "health_check.interval_ms: must be an integer between 100 and 3600000");
  EXPECT_HAS_ERROR(serviceErrors(baseService("health_check: {type: tcp, timeout_ms: 0}\n")),
                   "health_check.timeout_ms: must be an integer between 1 and 3600000");
  EXPECT_HAS_ERROR(serviceErrors(baseService("health_check: {type: tcp, timeout_ms: 2000}\n")),
                   "health_check.timeout_ms: must be at least 1 and below interval_ms (2000)");
  EXPECT_HAS_ERROR(
      serviceErrors(baseService("health_check: {type: tcp, interval_ms: 500, timeout_ms: 800}\n")),
      "health_check.timeout_ms: must be at least 1 and below interval_ms (500)");
  EXPECT_HAS_ERROR(serviceErrors(baseService("health_check: {type: tcp, jitter_ms: 2001}\n")),
                   "health_check.jitter_ms: must not exceed interval_ms (2000)");
  EXPECT_NO_ERRORS(serviceErrors(baseService(
      "health_check: {type: tcp, interval_ms: 100, timeout_ms: 99, jitter_ms: 100}\n")));
  EXPECT_NO_ERRORS(serviceErrors(
      baseService("health_check: {type: tcp, interval_ms: 3600000, timeout_ms: 3599999}\n")));
}

TEST(ResilienceModelTest, HealthCheckThresholds) {
  for (const char* key : {"healthy", "unhealthy"}) {
    for (const char* value : {"0", "101", "-1"}) {
      EXPECT_HAS_ERROR(
          serviceErrors(
              baseService(std::string("health_check: {type: tcp, ") + key + ": " + value + "}\n")),
          std::string("health_check.") + key + ": must be an integer between 1 and 100");
    }
    EXPECT_NO_ERRORS(
        serviceErrors(baseService(std::string("health_check: {type: tcp, ") + key + ": 100}\n")));
  }
}

TEST(ResilienceModelTest, OutlierChecks) {
  EXPECT_HAS_ERROR(serviceErrors(baseService("outlier: {max_ejection_percent: 101}\n")),
                   "outlier.max_ejection_percent: must be an integer between 0 and 100");
  EXPECT_HAS_ERROR(serviceErrors(baseService("outlier: {base_ejection_ms: 0}\n")),
                   "outlier.base_ejection_ms: must be at least 1 while a consecutive_* trigger is "
                   "above 0");
  EXPECT_HAS_ERROR(
      serviceErrors(baseService(
          "outlier: {consecutive_5xx: 0, consecutive_connect_failure: 2, base_ejection_ms: 0}\n")),
      "outlier.base_ejection_ms: must be at least 1 while a consecutive_* trigger is above 0");
  EXPECT_HAS_ERROR(serviceErrors(baseService("outlier: {base_ejection_ms: 400000}\n")),
                   "outlier.max_ejection_ms: must be at least base_ejection_ms (400000)");
  EXPECT_HAS_ERROR(serviceErrors(baseService("outlier: {max_ejection_ms: 3600001}\n")),
                   "outlier.max_ejection_ms: must be an integer between 0 and 3600000");
  // Every trigger off: outlier detection is off, and the times do not matter.
  EXPECT_NO_ERRORS(serviceErrors(
      baseService("outlier: {consecutive_5xx: 0, base_ejection_ms: 0, max_ejection_ms: 0}\n")));
  EXPECT_NO_ERRORS(serviceErrors(baseService(
      "outlier: {base_ejection_ms: 1, max_ejection_ms: 1, max_ejection_percent: 0}\n")));
}

TEST(ResilienceModelTest, CircuitBreakersAreAtLeastOne) {
  for (const char* key : {"max_connections", "max_pending", "max_requests"}) {
    EXPECT_HAS_ERROR(
        serviceErrors(baseService(std::string("circuit_breakers: {") + key + ": 0}\n")),
        std::string("circuit_breakers.") + key + ": must be an integer between 1 and 4294967295");
  }
  EXPECT_NO_ERRORS(serviceErrors(
      baseService("circuit_breakers: {max_connections: 1, max_pending: 4294967295}\n")));
  EXPECT_HAS_ERROR(serviceErrors(baseService("circuit_breakers: {retry_budget_percent: 101}\n")),
                   "circuit_breakers.retry_budget_percent: must be an integer between 0 and 100");
  EXPECT_NO_ERRORS(serviceErrors(baseService(
      "circuit_breakers: {retry_budget_percent: 0, min_retry_concurrency: 0}\n")));
}

TEST(ResilienceModelTest, PanicThresholdAndSlowStart) {
  EXPECT_HAS_ERROR(serviceErrors(baseService("panic_threshold_percent: 101\n")),
                   "panic_threshold_percent: must be an integer between 0 and 100");
  EXPECT_HAS_ERROR(serviceErrors(baseService("slow_start_ms: 3600001\n")),
                   "slow_start_ms: must be an integer between 0 and 3600000");
  EXPECT_NO_ERRORS(
      serviceErrors(baseService("panic_threshold_percent: 0\nslow_start_ms: 3600000\n")));
}

TEST(ResilienceModelTest, HashChecks) {
  EXPECT_HAS_ERROR(serviceErrors(baseService("lb: ring_hash\nhash: {header: x-a, cookie: c}\n")),
                   "hash: set only one of header, cookie or source_ip");
  EXPECT_HAS_ERROR(serviceErrors(baseService("lb: maglev\nhash: {cookie: c, source_ip: true}\n")),
                   "hash: set only one of header, cookie or source_ip");
  EXPECT_HAS_ERROR(serviceErrors(baseService("lb: ring_hash\nhash: {header: \"x a\"}\n")),
                   "hash.header: must be a header name: letters, digits and !#$%&'*+-.^_`|~");
  EXPECT_HAS_ERROR(serviceErrors(baseService("lb: ring_hash\nhash: {header: \"x:a\"}\n")),
                   "hash.header: must be a header name: letters, digits and !#$%&'*+-.^_`|~");
  EXPECT_HAS_ERROR(serviceErrors(baseService("lb: ring_hash\nhash: {cookie: \"a;b\"}\n")),
                   "hash.cookie: must be a cookie name: letters, digits and !#$%&'*+-.^_`|~");
  EXPECT_HAS_ERROR(serviceErrors(baseService("hash: {header: x-user}\n")),
                   "hash: is read by lb ring_hash or maglev only (lb is 'round_robin'): set one "
                   "of them or remove hash");
  EXPECT_HAS_ERROR(serviceErrors(baseService("lb: ewma\nhash: {source_ip: true}\n")),
                   "hash: is read by lb ring_hash or maglev only (lb is 'ewma'): set one of them "
                   "or remove hash");
  EXPECT_NO_ERRORS(serviceErrors(baseService("lb: ring_hash\n")));  // hashes the client address
  EXPECT_NO_ERRORS(serviceErrors(baseService("lb: maglev\nhash: {source_ip: true}\n")));
  EXPECT_NO_ERRORS(serviceErrors(baseService("lb: ring_hash\nhash: {cookie: session}\n")));
  EXPECT_NO_ERRORS(serviceErrors(baseService("hash: {source_ip: false}\n")));  // no hash at all
}

TEST(ResilienceModelTest, RetryAttemptsAndConditions) {
  EXPECT_HAS_ERROR(routeErrors(baseRoute("retries: {attempts: 11}\n")),
                   "retries.attempts: must be an integer between 0 and 10");
  const std::string kConditions =
      ": must be one of: connect-failure, refused-stream, reset, gateway-error, 5xx, "
      "retriable-status";
  EXPECT_HAS_ERROR(routeErrors(baseRoute("retries: {attempts: 1, on: [reset, 503]}\n")),
                   "retries.on[1]" + kConditions);
  EXPECT_HAS_ERROR(routeErrors(baseRoute("retries: {on: [connect_failure]}\n")),
                   "retries.on[0]" + kConditions);
  EXPECT_HAS_ERROR(routeErrors(baseRoute("retries: {attempts: 2, on: []}\n")),
                   "retries.on: must name at least one condition while attempts is above 0");
  EXPECT_NO_ERRORS(routeErrors(baseRoute("retries: {attempts: 0, on: []}\n")));
  EXPECT_NO_ERRORS(routeErrors(baseRoute(
      "retries: {attempts: 10, on: [connect-failure, refused-stream, reset, gateway-error, 5xx, "
      "retriable-status]}\n")));
}

TEST(ResilienceModelTest, RetryStatuses) {
  EXPECT_HAS_ERROR(routeErrors(baseRoute("retries: {statuses: [503, 600]}\n")),
                   "retries.statuses[1]: must be an integer between 100 and 599");
  EXPECT_HAS_ERROR(routeErrors(baseRoute("retries: {statuses: [\"503\"]}\n")),
                   "retries.statuses[0]: must be an integer between 100 and 599");
  EXPECT_HAS_ERROR(
      routeErrors(baseRoute("retries: {attempts: 1, on: [retriable-status], statuses: []}\n")),
      "retries.statuses: must list at least one status when on has retriable-status");
  EXPECT_NO_ERRORS(
      routeErrors(baseRoute("retries: {attempts: 1, on: [retriable-status], statuses: [429]}\n")));
  EXPECT_NO_ERRORS(routeErrors(baseRoute("retries: {attempts: 1, on: [5xx], statuses: []}\n")));
}

TEST(ResilienceModelTest, RetryTimes) {
  EXPECT_HAS_ERROR(routeErrors(baseRoute("retries: {per_try_timeout_ms: 15001}\n")),
                   "retries.per_try_timeout_ms: must not exceed the route's timeout_ms (15000); 0 "
                   "means the route's");
  EXPECT_HAS_ERROR(routeErrors(baseRoute("timeout_ms: 100\nretries: {per_try_timeout_ms: 101}\n")),
                   "retries.per_try_timeout_ms: must not exceed the route's timeout_ms (100); 0 "
                   "means the route's");
  EXPECT_NO_ERRORS(routeErrors(baseRoute("timeout_ms: 100\nretries: {per_try_timeout_ms: 100}\n")));
  EXPECT_HAS_ERROR(routeErrors(baseRoute("retries: {backoff_base_ms: 0}\n")),
                   "retries.backoff_base_ms: must be an integer between 1 and 3600000");
  EXPECT_HAS_ERROR(routeErrors(baseRoute("retries: {backoff_base_ms: 300}\n")),
                   "retries.backoff_max_ms: must be at least backoff_base_ms (300)");
  EXPECT_HAS_ERROR(routeErrors(baseRoute("retries: {backoff_max_ms: 0}\n")),
                   "retries.backoff_max_ms: must be an integer between 1 and 3600000");
  EXPECT_NO_ERRORS(
      routeErrors(baseRoute("retries: {backoff_base_ms: 250, backoff_max_ms: 250}\n")));
}

// Models built in code (quick mode, compat APIs) go through the same checks, with document
// paths.
TEST(ResilienceModelTest, ValidateReportsDocumentPaths) {
  Config config;
  Service service = resilientService();
  service.lb = "round_robin";
  service.health_check.timeout_ms = service.health_check.interval_ms;
  service.health_check.expected_statuses = {{200, 299}, {0, 700}};
  service.outlier.max_ejection_percent = 200;
  service.circuit_breakers.max_pending = 0;
  service.panic_threshold_percent = 101;
  config.services.push_back(service);
  Route route = retryingRoute();
  route.retries.attempts = 11;
  route.retries.statuses = {99};
  route.retries.per_try_timeout_ms = 6000;
  config.routes.push_back(route);
  EXPECT_EQ(
      describe(validate(config)),
      (std::vector<std::string>{
          "services[0].health_check.expected_statuses[1]: must be a status between 100 and 599, "
          "or a range \"LO-HI\" such as \"200-299\"",
          "services[0].health_check.timeout_ms: must be at least 1 and below interval_ms (5000)",
          "services[0].outlier.max_ejection_percent: must be an integer between 0 and 100",
          "services[0].circuit_breakers.max_pending: must be an integer between 1 and 4294967295",
          "services[0].hash: is read by lb ring_hash or maglev only (lb is 'round_robin'): set "
          "one of them or remove hash",
          "services[0].panic_threshold_percent: must be an integer between 0 and 100",
          "routes[0].retries.attempts: must be an integer between 0 and 10",
          "routes[0].retries.statuses[0]: must be an integer between 100 and 599",
          "routes[0].retries.per_try_timeout_ms: must not exceed the route's timeout_ms (5000); 0 "
          "means the route's"}));
}

TEST(ResilienceModelTest, YamlErrorsCarryLines) {
  Config config;
  auto errors = parseDocument(
      "services:\n"                                    // 1
      "  - name: s\n"                                  // 2
      "    endpoints: [{address: \"10.0.0.1:80\"}]\n"  // 3
      "    health_check:\n"                            // 4
      "      type: http\n"                             // 5
      "      interval_ms: 1000\n"                      // 6
      "      timeout_ms: 1000\n"                       // 7
      "      expected_statuses:\n"                     // 8
      "        - 200\n"                                // 9
      "        - 3xx\n"                                // 10
      "    outlier: {max_ejection_percent: 101}\n"     // 11
      "    hash: {header: x-user}\n"                   // 12
      "routes:\n"                                      // 13
      "  - id: r\n"                                    // 14
      "    split: [{service: s}]\n"                    // 15
      "    retries:\n"                                 // 16
      "      attempts: 2\n"                            // 17
      "      on: [reset, bogus]\n",                    // 18
      config);
  std::vector<std::string> lines;
  for (const Error& e : errors) lines.push_back(formatError("f", e));
  EXPECT_EQ(lines,
            (std::vector<std::string>{
                "f:7: services[0].health_check.timeout_ms: must be at least 1 and below "
                "interval_ms (1000)",
                "f:10: services[0].health_check.expected_statuses[1]: must be a status between "
                "100 and 599, or a range \"LO-HI\" such as \"200-299\"",
                "f:11: services[0].outlier.max_ejection_percent: must be an integer between 0 "
                "and 100",
                "f:12: services[0].hash: is read by lb ring_hash or maglev only (lb is "
                "'round_robin'): set one of them or remove hash",
                "f:18: routes[0].retries.on[1]: must be one of: connect-failure, refused-stream, "
                "reset, gateway-error, 5xx, retriable-status"}));
}

}  // namespace
}  // namespace turnout::config
