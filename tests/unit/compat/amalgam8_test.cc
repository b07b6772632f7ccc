// Amalgam8's /a8-admin payloads (the seven of the original's test suite, then every error case)
// translated into a8-owned native services and routes, and rendered back.
#include "compat/amalgam8.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "compat/lua_table.h"
#include "config/load.h"
#include "route/snapshot.h"

namespace turnout::compat {
namespace {

using nlohmann::json;

// The original's payload files, verbatim.
constexpr const char* kPayload1 = R"({
    "upstreams": {
        "helloworld_v1": {
            "servers": [
                { "host" : "127.0.0.1", "port" : 9091 }
            ]
        }
    },
    "services" : {
        "helloworld" : { "default" : "v1" }
    }
})";

constexpr const char* kPayload2 = R"({
    "upstreams": {
        "helloworld_v1": {
            "servers": [
                { "host" : "127.0.0.1", "port" : 9091 },
                { "host" : "127.0.0.1", "port" : 9092 }
            ]
        }
    },
    "services" : {
        "helloworld" : { "default" : "v1" }
    }
})";

constexpr const char* kPayload3 = R"({
    "upstreams": {
        "helloworld_v1": {
            "servers": [
                { "host" : "127.0.0.1", "port" : 9091 },
                { "host" : "127.0.0.1", "port" : 9092 }
            ]
        },
        "helloworld_v2": {
            "servers": [
                { "host" : "127.0.0.1", "port" : 9093 },
                { "host" : "127.0.0.1", "port" : 9094 }
            ]
        }
    },
    "services" : {
        "helloworld" : {
            "default" : "v1",
            "selectors" : "{v2={weight=0.5}}"
        }
    }
})";

constexpr const char* kPayload4 = R"({
    "upstreams": {
        "helloworld_v2": {
            "servers": [
                { "host" : "127.0.0.1", "port" : 9093 }
            ]
        }
    },
    "services" : {
        "helloworld" : { "default" : "v2" }
    }
})";

constexpr const char* kPayload5 = R"({
    "upstreams": {
        "helloworld_v2": {
            "servers": [
                { "host" : "127.0.0.1", "port" : 9093 }
            ]
        },
        "endworld_v1": {
            "servers": [
                { "host" : "127.0.0.1", "port" : 9095 }
            ]
        }
    },
    "services" : {
        "helloworld" : { "default" : "v2" },
        "endworld" : { "default" : "v1" }
    }
})";

constexpr const char* kPayload6 = R"({
    "upstreams": {
        "endworld_v1": {
            "servers": [
                { "host" : "127.0.0.1", "port" : 9095 }
            ]
        }
    },
    "services" : {
        "endworld" : { "default" : "v1" }
    }
})";

constexpr const char* kPayload7 = R"({
    "upstreams": {
        "helloworld_v1": {
            "servers": [
                { "host" : "127.0.0.1", "port" : 9091 }
            ]
        },
        "helloworld_v2": {
            "servers": [
                { "host" : "127.0.0.1", "port" : 9093 }
            ]
        },
        "endworld_v1": {
            "servers": [
                { "host" : "127.0.0.1", "port" : 9095 }
            ]
        }
    },
    "services" : {
        "helloworld" : { "default" : "v1", "selectors" : "{v2={weight=0.5}}" },
        "endworld" : { "default" : "v1" }
    },
    "faults" : [
        {
            "source":"source_v1",
            "destination":"helloworld_v2",
            "header": "X-Gremlin-Id",
            "pattern":"test-*",
            "delay": 3.0,
            "delay_probability":1.0,
            "abort_probability":0.0,
            "return_code":0
        },
        {
            "source":"source_v1",
            "destination":"endworld_v1",
            "header": "X-Gremlin-Id",
            "pattern":"endtest-*",
            "delay": 0.0,
            "delay_probability":0.0,
            "abort_probability":1.0,
            "return_code":503
        },
        {
            "source":"source_v2",
            "destination":"endworld_v1",
            "header": "X-Gremlin-Id",
            "pattern":"endtest2-*",
            "delay": 0.0,
            "delay_probability":0.0,
            "abort_probability":1.0,
            "return_code":-1
        }
    ]
})";

const std::vector<const char*>& allPayloads() {
  static const std::vector<const char*> kAll = {kPayload1, kPayload2, kPayload3, kPayload4,
                                                kPayload5, kPayload6, kPayload7};
  return kAll;
}

// Translates `body`, expecting success.
A8Objects translate(std::string_view body, const config::Identity& identity = {}) {
  A8Objects out;
  std::string error;
  A8Parse result = translateA8(body, identity, out, error);
  EXPECT_EQ(result, A8Parse::kOk) << error;
  EXPECT_TRUE(result != A8Parse::kOk || error.empty()) << error;
  return out;
}

// Translates `body`, expecting an error: "kBadJson: ..." / "kInvalid: ...".
std::string failure(std::string_view body) {
  A8Objects out;
  std::string error;
  switch (translateA8(body, {}, out, error)) {
    case A8Parse::kOk:
      return "kOk";
    case A8Parse::kBadJson:
      return "kBadJson: " + error;
    case A8Parse::kInvalid:
      return "kInvalid: " + error;
  }
  return "?";
}

config::Service a8Service(const std::string& name,
                          std::vector<std::pair<std::string, std::string>> endpoints) {
  config::Service service;
  service.name = name;
  service.lb = "round_robin";
  service.owner = "a8";
  for (auto& [address, version] : endpoints) service.endpoints.push_back({address, version, 1});
  return service;
}

// Every a8 route names the sticky cookie "version", even with one version: a cookie left
// from a time with several versions is then expired (amalgam8.cc routeOf).
config::Route a8Route(const std::string& name, std::vector<config::SplitTarget> split) {
  config::Route route;
  route.id = name;
  route.owner = "a8";
  route.match.path_separated_prefix = "/" + name;
  route.strip_prefix = true;
  route.split = std::move(split);
  route.sticky.cookie = "version";
  return route;
}

config::SplitTarget weighted(const std::string& service, const std::string& version,
                             uint32_t weight) {
  return config::SplitTarget{service, version, weight, {}};
}

config::Fault a8Fault(const std::string& source, const std::string& version,
                      const std::string& header, const std::string& pattern) {
  config::Fault fault;
  fault.match.source = source;
  fault.version = version;
  if (!header.empty()) fault.match.headers[header] = pattern;
  return fault;
}

// ---- the seven payloads ------------------------------------------------------------------

TEST(Amalgam8Test, Payload1OneService) {
  A8Objects out = translate(kPayload1);
  EXPECT_EQ(out.services, (std::vector<config::Service>{
                              a8Service("helloworld", {{"127.0.0.1:9091", "v1"}})}));
  EXPECT_EQ(out.routes, (std::vector<config::Route>{
                            a8Route("helloworld", {weighted("helloworld", "v1", 10000)})}));
  ASSERT_EQ(out.routes.size(), 1u);
  // One version: the cookie is named, so that a leftover one is expired.
  EXPECT_EQ(out.routes[0].sticky.cookie, "version");
  EXPECT_EQ(out.routes[0].sticky.path, "");
  EXPECT_TRUE(out.routes[0].faults.empty());
}

TEST(Amalgam8Test, Payload2ScaleOut) {
  A8Objects out = translate(kPayload2);
  EXPECT_EQ(out.services,
            (std::vector<config::Service>{a8Service(
                "helloworld", {{"127.0.0.1:9091", "v1"}, {"127.0.0.1:9092", "v1"}})}));
  EXPECT_EQ(out.routes, (std::vector<config::Route>{
                            a8Route("helloworld", {weighted("helloworld", "v1", 10000)})}));
}

TEST(Amalgam8Test, Payload3AddVersion) {
  A8Objects out = translate(kPayload3);
  EXPECT_EQ(out.services, (std::vector<config::Service>{a8Service(
                              "helloworld", {{"127.0.0.1:9091", "v1"},
                                             {"127.0.0.1:9092", "v1"},
                                             {"127.0.0.1:9093", "v2"},
                                             {"127.0.0.1:9094", "v2"}})}));
  // weight=0.5 is 5000 of 10000; the default takes what is left and comes last.
  EXPECT_EQ(out.routes, (std::vector<config::Route>{a8Route(
                            "helloworld",
                            {weighted("helloworld", "v2", 5000), weighted("helloworld", "v1", 5000)})}));
  ASSERT_EQ(out.routes.size(), 1u);
  EXPECT_EQ(out.routes[0].sticky.cookie, "version");
  EXPECT_EQ(out.routes[0].sticky.path, "");
}

TEST(Amalgam8Test, Payload4RemoveVersionInstance) {
  A8Objects out = translate(kPayload4);
  EXPECT_EQ(out.services, (std::vector<config::Service>{
                              a8Service("helloworld", {{"127.0.0.1:9093", "v2"}})}));
  EXPECT_EQ(out.routes, (std::vector<config::Route>{
                            a8Route("helloworld", {weighted("helloworld", "v2", 10000)})}));
}

TEST(Amalgam8Test, Payload5AddNewService) {
  A8Objects out = translate(kPayload5);
  EXPECT_EQ(out.services,
            (std::vector<config::Service>{a8Service("endworld", {{"127.0.0.1:9095", "v1"}}),
                                          a8Service("helloworld", {{"127.0.0.1:9093", "v2"}})}));
  EXPECT_EQ(out.routes,
            (std::vector<config::Route>{
                a8Route("endworld", {weighted("endworld", "v1", 10000)}),
                a8Route("helloworld", {weighted("helloworld", "v2", 10000)})}));
}

TEST(Amalgam8Test, Payload6DeleteService) {
  A8Objects out = translate(kPayload6);
  EXPECT_EQ(out.services, (std::vector<config::Service>{
                              a8Service("endworld", {{"127.0.0.1:9095", "v1"}})}));
  EXPECT_EQ(out.routes, (std::vector<config::Route>{
                            a8Route("endworld", {weighted("endworld", "v1", 10000)})}));
}

config::Config payload7Expected() {
  config::Config config;
  config.services = {
      a8Service("endworld", {{"127.0.0.1:9095", "v1"}}),
      a8Service("helloworld", {{"127.0.0.1:9091", "v1"}, {"127.0.0.1:9093", "v2"}})};
  config::Route endworld = a8Route("endworld", {weighted("endworld", "v1", 10000)});
  config::Fault abort503 = a8Fault("source_v1", "v1", "X-Gremlin-Id", "endtest-*");
  abort503.abort = config::FaultAbort{503, false, 100, false};
  config::Fault drop = a8Fault("source_v2", "v1", "X-Gremlin-Id", "endtest2-*");
  drop.abort = config::FaultAbort{0, true, 100, false};
  endworld.faults = {abort503, drop};
  config::Route helloworld = a8Route(
      "helloworld", {weighted("helloworld", "v2", 5000), weighted("helloworld", "v1", 5000)});
  config::Fault delay = a8Fault("source_v1", "v2", "X-Gremlin-Id", "test-*");
  delay.delay = config::FaultDelay{3000, 100, false};
  helloworld.faults = {delay};
  config.routes = {endworld, helloworld};
  return config;
}

TEST(Amalgam8Test, Payload7InjectFaults) {
  A8Objects out = translate(kPayload7);
  config::Config expected = payload7Expected();
  EXPECT_EQ(out.services, expected.services);
  EXPECT_EQ(out.routes, expected.routes);
  ASSERT_EQ(out.routes.size(), 2u);
  // Spot checks of the mapping, field by field.
  const config::Route& hello = out.routes[1];
  ASSERT_EQ(hello.faults.size(), 1u);
  ASSERT_TRUE(hello.faults[0].delay.has_value());
  EXPECT_EQ(hello.faults[0].delay->ms, 3000u);
  EXPECT_EQ(hello.faults[0].delay->percent, 100.0);
  EXPECT_FALSE(hello.faults[0].abort.has_value());  // abort_probability 0
  EXPECT_EQ(hello.faults[0].match.source, "source_v1");
  EXPECT_EQ(hello.faults[0].version, "v2");
  const config::Route& end = out.routes[0];
  ASSERT_EQ(end.faults.size(), 2u);
  EXPECT_EQ(end.faults[0].abort->status, 503u);
  EXPECT_FALSE(end.faults[0].delay.has_value());  // delay 0
  EXPECT_TRUE(end.faults[1].abort->drop);
  EXPECT_EQ(end.faults[1].match.source, "source_v2");
}

TEST(Amalgam8Test, EveryPayloadIsAValidConfigAndCompiles) {
  for (size_t i = 0; i < allPayloads().size(); ++i) {
    A8Objects out = translate(allPayloads()[i]);
    config::Config config;
    config.services = out.services;
    config.routes = out.routes;
    std::vector<config::Error> errors = config::validate(config);
    EXPECT_TRUE(errors.empty()) << "payload " << i + 1 << ": "
                                << (errors.empty() ? "" : config::formatError("", errors[0]));
    route::Change change;
    change.all = config;
    std::vector<config::Error> compile_errors;
    EXPECT_NE(route::Compiler(1).apply(nullptr, change, compile_errors), nullptr)
        << "payload " << i + 1;
  }
}

TEST(Amalgam8Test, Payload7FaultsApplyOnlyToTheirSource) {
  A8Objects out = translate(kPayload7);
  route::Change change;
  change.all.services = out.services;
  change.all.routes = out.routes;
  std::vector<config::Error> errors;
  for (const char* identity : {"source_v1", "source:v1"}) {
    auto snapshot =
        route::Compiler(1, config::Identity::parse(identity)).apply(nullptr, change, errors);
    ASSERT_NE(snapshot, nullptr) << identity;
    EXPECT_EQ(snapshot->route("helloworld")->faults.size(), 1u) << identity;
    ASSERT_EQ(snapshot->route("endworld")->faults.size(), 1u) << identity;
    EXPECT_EQ(snapshot->route("endworld")->faults[0].abort->status, 503u) << identity;
  }
  auto v2 = route::Compiler(1, config::Identity::parse("source:v2")).apply(nullptr, change, errors);
  ASSERT_NE(v2, nullptr);
  EXPECT_EQ(v2->route("helloworld")->faults.size(), 0u);
  ASSERT_EQ(v2->route("endworld")->faults.size(), 1u);
  EXPECT_TRUE(v2->route("endworld")->faults[0].abort->drop);
  auto anonymous = route::Compiler(1).apply(nullptr, change, errors);
  ASSERT_NE(anonymous, nullptr);
  EXPECT_EQ(anonymous->route("helloworld")->faults.size(), 0u);
  EXPECT_EQ(anonymous->route("endworld")->faults.size(), 0u);
  // The route answers on /helloworld and below, with the prefix stripped.
  const route::CompiledRoute* hello = anonymous->route("helloworld");
  std::vector<http::HeaderField> none;
  EXPECT_TRUE(hello->matchesRequest("/helloworld/hello", none));
  EXPECT_FALSE(hello->matchesRequest("/helloworldx", none));
  EXPECT_EQ(hello->upstreamPath("/helloworld/hello"), "/hello");
  EXPECT_EQ(hello->upstreamPath("/helloworld"), "/");
}

TEST(Amalgam8Test, StickyVersionOnCompiledRoutes) {
  A8Objects out = translate(kPayload7);
  route::Change change;
  change.all.services = out.services;
  change.all.routes = out.routes;
  std::vector<config::Error> errors;
  auto snapshot = route::Compiler(1).apply(nullptr, change, errors);
  ASSERT_NE(snapshot, nullptr);
  std::mt19937_64 rng(1);
  const route::CompiledRoute* hello = snapshot->route("helloworld");
  ASSERT_NE(hello, nullptr);
  EXPECT_EQ(hello->sticky.set_suffix, "; Path=/helloworld\r\n");
  std::vector<http::HeaderField> v2 = {{"Cookie", "version=v2"}};
  for (int i = 0; i < 100; ++i) {
    route::VersionPick pick = hello->pickVersion(v2, rng);
    ASSERT_NE(pick.target, nullptr);
    ASSERT_EQ(pick.target->version, "v2");
    ASSERT_EQ(pick.cookie, route::VersionPick::Cookie::kKeep);
  }
  // endworld has one version: a leftover cookie is expired, none is set.
  const route::CompiledRoute* end = snapshot->route("endworld");
  ASSERT_NE(end, nullptr);
  std::vector<http::HeaderField> leftover = {{"Cookie", "version=v2"}};
  EXPECT_EQ(end->pickVersion(leftover, rng).cookie, route::VersionPick::Cookie::kExpire);
  EXPECT_EQ(end->pickVersion({}, rng).cookie, route::VersionPick::Cookie::kKeep);
}

// ---- other shapes of valid payloads ------------------------------------------------------

TEST(Amalgam8Test, ColonNames) {
  A8Objects out = translate(R"({
    "upstreams": {"helloworld:v1": {"servers": [{"host": "127.0.0.1", "port": 9091}]},
                  "helloworld:v2": {"servers": [{"host": "127.0.0.1", "port": 9093}]}},
    "services": {"helloworld": {"default": "v1"}},
    "faults": [{"source": "source:v1", "destination": "helloworld:v2", "delay": 0.5,
                "delay_probability": 0.25}]})");
  EXPECT_EQ(out.services, (std::vector<config::Service>{a8Service(
                              "helloworld", {{"127.0.0.1:9091", "v1"}, {"127.0.0.1:9093", "v2"}})}));
  ASSERT_EQ(out.routes.size(), 1u);
  ASSERT_EQ(out.routes[0].faults.size(), 1u);
  const config::Fault& fault = out.routes[0].faults[0];
  EXPECT_EQ(fault.version, "v2");
  EXPECT_EQ(fault.match.source, "source:v1");
  EXPECT_TRUE(fault.match.headers.empty());
  ASSERT_TRUE(fault.delay.has_value());
  EXPECT_EQ(fault.delay->ms, 500u);
  EXPECT_EQ(fault.delay->percent, 25.0);
  EXPECT_FALSE(fault.abort.has_value());
}

TEST(Amalgam8Test, UnderscoreInServiceNames) {
  A8Objects out = translate(R"({
    "upstreams": {"my_svc_v1": {"servers": [{"host": "10.0.0.1", "port": 80}]}},
    "services": {"my_svc": {"default": "v1"}}})");
  EXPECT_EQ(out.services,
            (std::vector<config::Service>{a8Service("my_svc", {{"10.0.0.1:80", "v1"}})}));
}

TEST(Amalgam8Test, HeaderAndUserSelectors) {
  A8Objects out = translate(R"({
    "upstreams": {"reviews_v1": {"servers": [{"host": "10.0.0.1", "port": 80}]},
                  "reviews_v2": {"servers": [{"host": "10.0.0.2", "port": 80}]},
                  "reviews_v3": {"servers": [{"host": "10.0.0.3", "port": 80}]}},
    "services": {"reviews": {"default": "v1",
                             "selectors": "{v2={header=\"Foo:bar\"},v3={user=\"jason\"}}"}}})");
  ASSERT_EQ(out.routes.size(), 1u);
  const config::Route& route = out.routes[0];
  ASSERT_EQ(route.split.size(), 3u);
  EXPECT_EQ(route.split[0].version, "v2");
  EXPECT_EQ(route.split[0].match.headers,
            (std::map<std::string, std::string>{{"Foo", "bar"}}));
  EXPECT_TRUE(route.split[0].match.cookies.empty());
  EXPECT_EQ(route.split[1].version, "v3");
  EXPECT_EQ(route.split[1].match.cookies,
            (std::map<std::string, std::string>{{"user", "jason"}}));
  EXPECT_TRUE(route.split[1].match.headers.empty());
  EXPECT_EQ(route.split[2], weighted("reviews", "v1", 10000));
  EXPECT_EQ(route.sticky.cookie, "version");
}

TEST(Amalgam8Test, JsonObjectSelectors) {
  A8Objects out = translate(R"({
    "upstreams": {"reviews_v1": {"servers": [{"host": "10.0.0.1", "port": 80}]},
                  "reviews_v2": {"servers": [{"host": "10.0.0.2", "port": 80}]},
                  "reviews_v3": {"servers": [{"host": "10.0.0.3", "port": 80}]}},
    "services": {"reviews": {"default": "v1",
                             "selectors": {"v2": {"weight": 0.25},
                                           "v3": {"header": "X-Canary:^yes$"}}}}})");
  ASSERT_EQ(out.routes.size(), 1u);
  const config::Route& route = out.routes[0];
  ASSERT_EQ(route.split.size(), 3u);
  // Decisions first, then the weighted versions, then the default.
  EXPECT_EQ(route.split[0].version, "v3");
  EXPECT_EQ(route.split[0].match.headers,
            (std::map<std::string, std::string>{{"X-Canary", "^yes$"}}));
  EXPECT_EQ(route.split[1], weighted("reviews", "v2", 2500));
  EXPECT_EQ(route.split[2], weighted("reviews", "v1", 7500));
  EXPECT_EQ(route.sticky.cookie, "version");
  // The same as a Lua table.
  A8Objects lua = translate(R"({
    "upstreams": {"reviews_v1": {"servers": [{"host": "10.0.0.1", "port": 80}]},
                  "reviews_v2": {"servers": [{"host": "10.0.0.2", "port": 80}]},
                  "reviews_v3": {"servers": [{"host": "10.0.0.3", "port": 80}]}},
    "services": {"reviews": {"default": "v1",
                             "selectors": "{v2={weight=0.25},v3={header=\"X-Canary:^yes$\"}}"}}})");
  EXPECT_EQ(lua.routes, out.routes);
}

TEST(Amalgam8Test, WeightsAddingUpToOneLeaveNothingToTheDefault) {
  A8Objects out = translate(R"({
    "services": {"reviews": {"default": "v1", "selectors": "{v2={weight=0.7},v3={weight=0.3}}"}}})");
  ASSERT_EQ(out.routes.size(), 1u);
  EXPECT_EQ(out.routes[0].split,
            (std::vector<config::SplitTarget>{weighted("reviews", "v2", 7000),
                                              weighted("reviews", "v3", 3000),
                                              weighted("reviews", "v1", 0)}));
}

TEST(Amalgam8Test, ServiceWithoutUpstreamsIsValidAndOwned) {
  A8Objects out = translate(R"({"services": {"helloworld": {"default": "v1"}}})");
  EXPECT_EQ(out.services, (std::vector<config::Service>{a8Service("helloworld", {})}));
  config::Config config;
  config.services = out.services;
  config.routes = out.routes;
  EXPECT_TRUE(config::validate(config).empty());
}

TEST(Amalgam8Test, NullsAndEmptyDocument) {
  A8Objects out = translate(R"({"upstreams": null, "services": null, "faults": null})");
  EXPECT_TRUE(out.services.empty());
  EXPECT_TRUE(out.routes.empty());
  out = translate("{}");
  EXPECT_TRUE(out.services.empty());
  EXPECT_TRUE(out.routes.empty());
  out = translate(R"({"upstreams": {"helloworld_v1": {}}, "services": {"helloworld": {"default": "v1",
                      "selectors": null, "service_type": "http"}}})");
  EXPECT_EQ(out.services, (std::vector<config::Service>{a8Service("helloworld", {})}));
}

TEST(Amalgam8Test, Ipv6Servers) {
  A8Objects out = translate(R"({
    "upstreams": {"helloworld_v1": {"servers": [{"host": "::1", "port": 9091},
                                                 {"host": "[fe80::1]", "port": 9092}]}},
    "services": {"helloworld": {"default": "v1"}}})");
  EXPECT_EQ(out.services, (std::vector<config::Service>{a8Service(
                              "helloworld", {{"[::1]:9091", "v1"}, {"[fe80::1]:9092", "v1"}})}));
}

TEST(Amalgam8Test, FaultProbabilitiesAndCodes) {
  A8Objects out = translate(R"({
    "services": {"helloworld": {"default": "v1"}},
    "faults": [
      {"destination": "helloworld_v1", "delay": 1.5, "delay_probability": 0.333333,
       "abort_probability": 0.5, "return_code": 500},
      {"destination": "helloworld_v1", "delay_probability": 2, "delay": 0.0001},
      {"destination": "helloworld_v1", "abort_probability": 1, "return_code": -1,
       "header": "X-A", "pattern": ""}]})");
  ASSERT_EQ(out.routes.size(), 1u);
  const auto& faults = out.routes[0].faults;
  ASSERT_EQ(faults.size(), 3u);
  EXPECT_EQ(faults[0].match.source, "");
  EXPECT_EQ(faults[0].delay, (config::FaultDelay{1500, 33.3333, false}));
  EXPECT_EQ(faults[0].abort, (config::FaultAbort{500, false, 50, false}));
  EXPECT_EQ(faults[1].delay, (config::FaultDelay{1, 100, false}));  // clamped, at least 1 ms
  EXPECT_FALSE(faults[1].abort.has_value());
  EXPECT_FALSE(faults[2].delay.has_value());
  EXPECT_EQ(faults[2].abort, (config::FaultAbort{0, true, 100, false}));
  EXPECT_EQ(faults[2].match.headers, (std::map<std::string, std::string>{{"X-A", ""}}));
}

// ---- errors ------------------------------------------------------------------------------

TEST(Amalgam8Test, BadJson) {
  for (const char* body : {"{", "", "{\"services\": }", "[1,", "{'a': 1}", "nul"}) {
    std::string got = failure(body);
    EXPECT_TRUE(got.starts_with("kBadJson: ") && got.size() > 10) << body << " -> " << got;
  }
}

struct ErrorCase {
  const char* body;
  const char* error;  // "kInvalid: field: message"
};

void expectErrors(const std::vector<ErrorCase>& cases) {
  for (const ErrorCase& c : cases) EXPECT_EQ(failure(c.body), c.error) << c.body;
}

TEST(Amalgam8Test, NullDefault) {
  expectErrors({
      {R"({"services": {"helloworld": {"default": null}}})",
       "kInvalid: services.helloworld.default: null entry for default version"},
      {R"({"services": {"helloworld": {}}})",
       "kInvalid: services.helloworld.default: null entry for default version"},
      {R"({"services": {"helloworld": {"default": 1}}})",
       "kInvalid: services.helloworld.default: must be a string, not number"},
      {R"({"services": {"helloworld": "v1"}})",
       "kInvalid: services.helloworld: must be an object, not string"},
  });
}

TEST(Amalgam8Test, ServerErrors) {
  expectErrors({
      {R"({"upstreams": {"helloworld_v1": {"servers": [{"host": null, "port": 9091}]}}})",
       "kInvalid: upstreams.helloworld_v1.servers[0]: null host for server"},
      {R"({"upstreams": {"helloworld_v1": {"servers": [{"port": 9091}]}}})",
       "kInvalid: upstreams.helloworld_v1.servers[0]: null host for server"},
      {R"({"upstreams": {"helloworld_v1": {"servers": [{"host": "127.0.0.1", "port": 1},
                                                       {"host": "127.0.0.1", "port": null}]}}})",
       "kInvalid: upstreams.helloworld_v1.servers[1]: null port for server"},
      {R"({"upstreams": {"helloworld_v1": {"servers": [{"host": "127.0.0.1"}]}}})",
       "kInvalid: upstreams.helloworld_v1.servers[0]: null port for server"},
      {R"({"upstreams": {"helloworld_v1": {"servers": [{"host": "127.0.0.1", "port": 0}]}}})",
       "kInvalid: upstreams.helloworld_v1.servers[0].port: must be a port between 1 and 65535"},
      {R"({"upstreams": {"helloworld_v1": {"servers": [{"host": "127.0.0.1", "port": 70000}]}}})",
       "kInvalid: upstreams.helloworld_v1.servers[0].port: must be a port between 1 and 65535"},
      {R"({"upstreams": {"helloworld_v1": {"servers": [{"host": "127.0.0.1", "port": -1}]}}})",
       "kInvalid: upstreams.helloworld_v1.servers[0].port: must be a port between 1 and 65535"},
      {R"({"upstreams": {"helloworld_v1": {"servers": [{"host": "127.0.0.1", "port": "80"}]}}})",
       "kInvalid: upstreams.helloworld_v1.servers[0].port: must be an integer, not string"},
      {R"({"upstreams": {"helloworld_v1": {"servers": [{"host": 127, "port": 80}]}}})",
       "kInvalid: upstreams.helloworld_v1.servers[0].host: must be a string, not number"},
      {R"({"upstreams": {"helloworld_v1": {"servers": {}}}})",
       "kInvalid: upstreams.helloworld_v1.servers: must be an array, not object"},
  });
}

TEST(Amalgam8Test, DnsHostNamesAreKeptAndBadHostsRefused) {
  A8Objects out;
  std::string error;
  ASSERT_EQ(translateA8(R"({"upstreams": {"helloworld_v1": {"servers": [
                {"host": "helloworld.example.com", "port": 9091}]}}})",
                        {}, out, error),
            A8Parse::kOk)
      << error;
  ASSERT_EQ(out.services.size(), 1u);
  EXPECT_EQ(out.services[0].endpoints[0].address, "helloworld.example.com:9091");
  for (const char* host : {"300.1.1.1", "", "-bad-.test", "a b"}) {
    std::string body = std::string(R"({"upstreams": {"helloworld_v1": {"servers": [{"host": ")") +
                       host + R"(", "port": 9091}]}}})";
    std::string got = failure(body);
    EXPECT_TRUE(got.starts_with(
        "kInvalid: upstreams.helloworld_v1.servers[0].host: must be an IP address or a DNS name ("))
        << host << " -> " << got;
  }
}

TEST(Amalgam8Test, WeightErrors) {
  expectErrors({
      {R"({"services": {"h": {"default": "v1", "selectors": "{v2={weight=0.6},v3={weight=0.5}}"}}})",
       "kInvalid: services.h.selectors: weights add up to more than 1"},
      {R"({"services": {"h": {"default": "v1",
                              "selectors": {"v2": {"weight": 0.6}, "v3": {"weight": 0.5}}}}})",
       "kInvalid: services.h.selectors: weights add up to more than 1"},
      {R"({"services": {"h": {"default": "v1", "selectors": {"v2": {"weight": 1.5}}}}})",
       "kInvalid: services.h.selectors.v2.weight: must be between 0 and 1"},
      {R"({"services": {"h": {"default": "v1", "selectors": {"v2": {"weight": 0.5, "user": "j"}}}}})",
       "kInvalid: services.h.selectors.v2: needs exactly one of weight, header or user"},
      {R"({"services": {"h": {"default": "v1", "selectors": {"v2": {"cookie": "j"}}}}})",
       "kInvalid: services.h.selectors.v2.cookie: unknown field"},
      {R"({"services": {"h": {"default": "v1", "selectors": 5}}})",
       "kInvalid: services.h.selectors: must be a Lua table string (\"{v2={weight=0.5}}\") or an "
       "object"},
      {R"({"services": {"h": {"default": "v1", "selectors": "{v2={header=\"Foo\"}}"}}})",
       "kInvalid: services.h.selectors: header selector must be \"Name:regex\", got \"Foo\""},
  });
  // A Lua table that does not parse, or a weight above 1 in one: the parser's message.
  for (const char* selectors : {R"({v2=)", R"({v2={weight=1.5}})", R"(os.exit())"}) {
    std::string body = std::string(R"({"services": {"h": {"default": "v1", "selectors": )") +
                       json(selectors).dump() + "}}}";
    std::string got = failure(body);
    EXPECT_TRUE(got.starts_with("kInvalid: services.h.selectors: ")) << selectors << " -> " << got;
  }
}

TEST(Amalgam8Test, FaultErrors) {
  const std::string kServices = R"("services": {"helloworld": {"default": "v1"}})";
  auto body = [&](const std::string& fault) {
    return "{" + kServices + R"(, "faults": [)" + fault + "]}";
  };
  const char* kNothing =
      "kInvalid: faults[0]: Invalid fault entry. Atleast one of abort/delay fault details should "
      "be non zero";
  EXPECT_EQ(failure(body(R"({"source": "source_v1", "destination": "helloworld_v1", "delay": 0.0,
                             "delay_probability": 0.0, "abort_probability": 0.0,
                             "return_code": 0})")),
            kNothing);
  EXPECT_EQ(failure(body(R"({"destination": "helloworld_v1", "delay": 3, "delay_probability": 0})")),
            kNothing);
  EXPECT_EQ(failure(body(R"({"destination": "helloworld_v1", "delay": 0, "delay_probability": 1})")),
            kNothing);
  EXPECT_EQ(failure(body(R"({"destination": "helloworld_v1", "abort_probability": 1,
                             "return_code": 0})")),
            kNothing);
  EXPECT_EQ(failure(body(R"({"destination": "helloworld_v1", "abort_probability": 1})")), kNothing);
  EXPECT_EQ(failure(body(R"({"destination": "helloworld_v1", "abort_probability": 0,
                             "return_code": 503})")),
            kNothing);
  EXPECT_EQ(failure(body(R"({"destination": "helloworld_v1", "abort_probability": 1,
                             "return_code": 42})")),
            "kInvalid: faults[0].return_code: must be -1 (drop), 0 (none) or a status 200-599");
  EXPECT_EQ(failure(body(R"({"destination": "helloworld_v1", "abort_probability": 1,
                             "return_code": 600})")),
            "kInvalid: faults[0].return_code: must be -1 (drop), 0 (none) or a status 200-599");
  EXPECT_EQ(failure(body(R"({"destination": "helloworld_v1", "abort_probability": 1,
                             "return_code": "503"})")),
            "kInvalid: faults[0].return_code: must be an integer, not string");
  EXPECT_EQ(failure(body(R"({"destination": "nosuch_v1", "abort_probability": 1,
                             "return_code": 503})")),
            "kInvalid: faults[0].destination: no service 'nosuch' in services");
  EXPECT_EQ(failure(body(R"({"destination": "helloworld", "abort_probability": 1,
                             "return_code": 503})")),
            "kInvalid: faults[0].destination: must be <service>_<version> or <service>:<version>");
  EXPECT_EQ(failure(body(R"({"abort_probability": 1, "return_code": 503})")),
            "kInvalid: faults[0].destination: must be <service>_<version> or <service>:<version>");
  EXPECT_EQ(failure(body(R"({"destination": "helloworld_v1", "abort_probability": 1,
                             "return_code": 503, "source": "a b"})")),
            "kInvalid: faults[0].source: must be NAME, NAME_VERSION or NAME:VERSION");
  EXPECT_EQ(failure(body(R"({"destination": "helloworld_v1", "delay": 3601,
                             "delay_probability": 1})")),
            "kInvalid: faults[0].delay: must be at most 3600 seconds");
  EXPECT_EQ(failure(body(R"({"destination": "helloworld_v1", "delay": "3",
                             "delay_probability": 1})")),
            "kInvalid: faults[0].delay: must be a number, not string");
  EXPECT_EQ(failure(body(R"({"destination": "helloworld_v1", "delay": 1, "delay_probability": 1},
                            {"destination": "helloworld_v1", "kind": "abort"})")),
            "kInvalid: faults[1].kind: unknown field");
  EXPECT_EQ(failure("{" + kServices + R"(, "faults": {}})"),
            "kInvalid: faults: must be an array, not object");
}

TEST(Amalgam8Test, UnknownFields) {
  expectErrors({
      {R"({"upstreams": {}, "bogus": 1})", "kInvalid: bogus: unknown field"},
      {R"({"services": {"helloworld": {"default": "v1", "weight": 1}}})",
       "kInvalid: services.helloworld.weight: unknown field"},
      {R"({"upstreams": {"helloworld_v1": {"servers": [], "tags": []}}})",
       "kInvalid: upstreams.helloworld_v1.tags: unknown field"},
      {R"({"upstreams": {"helloworld_v1": {"servers": [{"host": "127.0.0.1", "port": 80,
                                                        "weight": 2}]}}})",
       "kInvalid: upstreams.helloworld_v1.servers[0].weight: unknown field"},
  });
}

TEST(Amalgam8Test, NameErrors) {
  const char* kUpstream = "name must be <service>_<version> or <service>:<version>";
  for (const char* name : {"helloworld", "_v1", "helloworld_", ":v1", "helloworld:"}) {
    std::string body = std::string(R"({"upstreams": {")") + name + R"(": {"servers": []}}})";
    EXPECT_EQ(failure(body), std::string("kInvalid: upstreams.") + name + ": " + kUpstream) << name;
  }
  expectErrors({
      {R"({"services": {"hello world": {"default": "v1"}}})",
       "kInvalid: services.hello world: service names are letters, digits, '.', '_' and '-'"},
      {R"({"services": {"a/b": {"default": "v1"}}})",
       "kInvalid: services.a/b: service names are letters, digits, '.', '_' and '-'"},
  });
}

TEST(Amalgam8Test, ServiceTypeErrors) {
  expectErrors({
      {R"({"services": {"helloworld": {"default": "v1", "service_type": "https"}}})",
       "kInvalid: services.helloworld.service_type: https upstreams are not supported yet"},
      {R"({"services": {"helloworld": {"default": "v1", "service_type": "ftp"}}})",
       "kInvalid: services.helloworld.service_type: must be http or https"},
      {R"({"services": {"helloworld": {"default": "v1", "service_type": 1}}})",
       "kInvalid: services.helloworld.service_type: must be a string, not number"},
  });
}

TEST(Amalgam8Test, WrongTopLevelTypes) {
  expectErrors({
      {"[]", "kInvalid: must be an object, not array"},
      {"\"x\"", "kInvalid: must be an object, not string"},
      {R"({"upstreams": []})", "kInvalid: upstreams: must be an object, not array"},
      {R"({"services": "helloworld"})", "kInvalid: services: must be an object, not string"},
  });
}

TEST(Amalgam8Test, ErrorsLeaveNoPartialResultsBehind) {
  A8Objects out;
  out.services.push_back(a8Service("keep", {}));
  std::string error;
  EXPECT_EQ(translateA8(R"({"services": {"h": {"default": null}}})", {}, out, error),
            A8Parse::kInvalid);
  EXPECT_FALSE(error.empty());
  // The caller's objects are not replaced by a half translation.
  ASSERT_EQ(out.services.size(), 1u);
  EXPECT_EQ(out.services[0].name, "keep");
}

// ---- rendering back ----------------------------------------------------------------------

// Replaces a "selectors" Lua string by its parse, so that equal tables compare equal whatever
// the number formatting.
json normalizedServices(json services) {
  for (auto& [name, service] : services.items()) {
    if (!service.contains("selectors") || !service["selectors"].is_string()) continue;
    std::string error;
    auto parsed = parseLuaSelectors(service["selectors"].get<std::string>(), error);
    EXPECT_TRUE(parsed.has_value()) << error;
    json list = json::array();
    if (parsed) {
      for (const LuaSelector& s : *parsed) {
        json entry{{"version", s.version}};
        if (s.weight) entry["weight"] = *s.weight;
        if (s.header) entry["header"] = *s.header;
        if (s.user) entry["user"] = *s.user;
        list.push_back(entry);
      }
    }
    service["selectors"] = list;
  }
  return services;
}

json sortedArray(json array) {
  std::sort(array.begin(), array.end());
  return array;
}

json renderedState(const A8Objects& objects) {
  config::Config owned;
  owned.services = objects.services;
  owned.routes = objects.routes;
  return json::parse(renderA8State(owned));
}

TEST(Amalgam8Test, RenderReproducesPayload7) {
  json original = json::parse(kPayload7);
  json rendered = renderedState(translate(kPayload7));
  EXPECT_EQ(rendered["upstreams"], original["upstreams"]) << rendered.dump(2);
  EXPECT_EQ(normalizedServices(rendered["services"]), normalizedServices(original["services"]))
      << rendered.dump(2);
  // Faults come back grouped by service; their order across services carries no meaning.
  EXPECT_EQ(sortedArray(rendered["faults"]), sortedArray(original["faults"])) << rendered.dump(2);
  EXPECT_EQ(rendered["faults"].size(), 3u);
}

TEST(Amalgam8Test, RenderReproducesEveryPayload) {
  for (size_t i = 0; i < allPayloads().size(); ++i) {
    json original = json::parse(allPayloads()[i]);
    json rendered = renderedState(translate(allPayloads()[i]));
    EXPECT_EQ(rendered["upstreams"], original["upstreams"]) << "payload " << i + 1;
    EXPECT_EQ(normalizedServices(rendered["services"]), normalizedServices(original["services"]))
        << "payload " << i + 1;
    json faults = original.contains("faults") ? original["faults"] : json::array();
    EXPECT_EQ(sortedArray(rendered["faults"]), sortedArray(faults)) << "payload " << i + 1;
  }
}

TEST(Amalgam8Test, RenderedStateTranslatesToTheSameObjects) {
  for (size_t i = 0; i < allPayloads().size(); ++i) {
    A8Objects first = translate(allPayloads()[i]);
    config::Config owned;
    owned.services = first.services;
    owned.routes = first.routes;
    A8Objects second = translate(renderA8State(owned));
    EXPECT_EQ(second.services, first.services) << "payload " << i + 1;
    EXPECT_EQ(second.routes, first.routes) << "payload " << i + 1;
  }
}

TEST(Amalgam8Test, RenderSelectorsOfEveryKind) {
  const char* body = R"({
    "upstreams": {"reviews_v1": {"servers": [{"host": "10.0.0.1", "port": 80}]},
                  "reviews_v2": {"servers": [{"host": "10.0.0.2", "port": 80}]},
                  "reviews_v3": {"servers": [{"host": "10.0.0.3", "port": 80}]},
                  "reviews_v4": {"servers": [{"host": "::1", "port": 81}]}},
    "services": {"reviews": {"default": "v1",
        "selectors": "{v2={header=\"Foo:bar\"},v3={user=\"jason\"},v4={weight=0.25}}"}}})";
  A8Objects first = translate(body);
  json rendered = renderedState(first);
  json original = json::parse(body);
  EXPECT_EQ(rendered["upstreams"], original["upstreams"]) << rendered.dump(2);
  EXPECT_EQ(normalizedServices(rendered["services"]), normalizedServices(original["services"]))
      << rendered.dump(2);
  A8Objects second = translate(rendered.dump());
  EXPECT_EQ(second.routes, first.routes);
}

}  // namespace
}  // namespace turnout::compat
