// The traffic-policy fields of the route model (path_separated_prefix, cookies and source
// matchers, split selectors, sticky, faults, owner): YAML and JSON decoding, toJson round
// trips, and every validation error with its field path.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "config/load.h"
#include "error_text.h"

namespace turnout::config {
namespace {

// A route using every traffic-policy field, as the documents below spell it.
Route policyRoute() {
  Route route;
  route.id = "reviews";
  route.priority = 3;
  route.match.path_separated_prefix = "/reviews";
  route.match.headers = {{"X-Env", "^qa"}};
  route.match.cookies = {{"user", "jason"}};
  route.match.source = "productpage:v1";
  route.strip_prefix = true;
  SplitTarget selector{"reviews", "v2", 0, {}};
  selector.match.headers = {{"x-test", "^a"}};
  selector.match.cookies = {{"user", "jason"}};
  selector.match.source = "productpage";
  route.split = {selector, {"reviews", "v1", 70, {}}, {"reviews", "v3", 30, {}}};
  route.sticky = {"version", "/reviews"};
  Fault scoped;
  scoped.match.headers = {{"X-Gremlin-Id", "test-"}};
  scoped.match.source = "productpage_v1";
  scoped.version = "v2";
  scoped.delay = FaultDelay{1, 33.3333, false};
  scoped.abort = FaultAbort{503, false, 2.5, false};
  Fault slow;
  slow.delay = FaultDelay{2500, 100, false};
  Fault drop;
  drop.abort = FaultAbort{0, true, 0.01, false};
  Fault header_driven;
  header_driven.delay = FaultDelay{0, 50, true};
  header_driven.abort = FaultAbort{0, false, 100, true};
  route.faults = {scoped, slow, drop, header_driven};
  route.timeout_ms = 2000;
  route.owner = "a8";
  return route;
}

constexpr const char* kPolicyYaml = R"(id: reviews
priority: 3
match:
  path_separated_prefix: /reviews
  headers: {X-Env: "^qa"}
  cookies: {user: jason}
  source: "productpage:v1"
rewrite: {strip_prefix: true}
split:
  - service: reviews
    version: v2
    weight: 0
    match: {headers: {x-test: "^a"}, cookies: {user: jason}, source: productpage}
  - {service: reviews, version: v1, weight: 70}
  - {service: reviews, version: v3, weight: 30}
sticky: {cookie: version, path: /reviews}
faults:
  - match: {headers: {X-Gremlin-Id: "test-"}, source: productpage_v1}
    version: v2
    delay: {seconds: 0.001, percent: 33.3333}
    abort: {status: 503, percent: 2.5}
  - delay: {seconds: 2.5}
  - abort: {status: drop, percent: 0.01}
  - delay: {from_header: true, percent: 50}
    abort: {from_header: true}
timeout_ms: 2000
owner: a8
)";

constexpr const char* kPolicyJson = R"({
  "id": "reviews", "priority": 3,
  "match": {"path_separated_prefix": "/reviews", "headers": {"X-Env": "^qa"},
            "cookies": {"user": "jason"}, "source": "productpage:v1"},
  "rewrite": {"strip_prefix": true},
  "split": [
    {"service": "reviews", "version": "v2", "weight": 0,
     "match": {"headers": {"x-test": "^a"}, "cookies": {"user": "jason"}, "source": "productpage"}},
    {"service": "reviews", "version": "v1", "weight": 70},
    {"service": "reviews", "version": "v3", "weight": 30}],
  "sticky": {"cookie": "version", "path": "/reviews"},
  "faults": [
    {"match": {"headers": {"X-Gremlin-Id": "test-"}, "source": "productpage_v1"},
     "version": "v2",
     "delay": {"seconds": 0.001, "percent": 33.3333},
     "abort": {"status": 503, "percent": 2.5}},
    {"delay": {"seconds": 2.5}},
    {"abort": {"status": "drop", "percent": 0.01}},
    {"delay": {"from_header": true, "percent": 50}, "abort": {"from_header": true}}],
  "timeout_ms": 2000,
  "owner": "a8"
})";

// Errors of one route given as YAML, "field: message" each.
std::vector<std::string> routeErrors(const std::string& yaml, Format format = Format::kYaml) {
  Route route;
  return describe(parseRoute(yaml, format, route));
}

// A valid route splitting to reviews v1, with `extra` YAML lines appended.
std::string baseRoute(const std::string& extra) {
  return "id: r\nsplit: [{service: reviews, version: v1}]\n" + extra;
}

TEST(PolicyModelTest, YamlDecodesEveryPolicyField) {
  Route route;
  auto errors = describe(parseRoute(kPolicyYaml, Format::kYaml, route));
  ASSERT_TRUE(errors.empty()) << joined(errors);
  EXPECT_EQ(route, policyRoute());
}

TEST(PolicyModelTest, JsonDecodesEveryPolicyField) {
  Route route;
  auto errors = describe(parseRoute(kPolicyJson, Format::kJson, route));
  ASSERT_TRUE(errors.empty()) << joined(errors);
  EXPECT_EQ(route, policyRoute());
}

TEST(PolicyModelTest, SpotChecksOfDecodedValues) {
  Route route;
  ASSERT_TRUE(parseRoute(kPolicyYaml, Format::kYaml, route).empty());
  ASSERT_EQ(route.faults.size(), 4u);
  EXPECT_EQ(route.faults[0].delay->ms, 1u);  // 0.001 s
  EXPECT_EQ(route.faults[0].delay->percent, 33.3333);
  EXPECT_EQ(route.faults[0].abort->status, 503u);
  EXPECT_EQ(route.faults[0].abort->percent, 2.5);
  EXPECT_EQ(route.faults[1].delay->ms, 2500u);       // 2.5 s
  EXPECT_EQ(route.faults[1].delay->percent, 100.0);  // default
  EXPECT_FALSE(route.faults[1].abort.has_value());
  EXPECT_TRUE(route.faults[2].abort->drop);
  EXPECT_EQ(route.faults[2].abort->status, 0u);
  EXPECT_EQ(route.faults[2].abort->percent, 0.01);
  EXPECT_TRUE(route.faults[3].delay->from_header);
  EXPECT_EQ(route.faults[3].delay->ms, 0u);
  EXPECT_TRUE(route.faults[3].abort->from_header);
  EXPECT_EQ(route.faults[3].abort->percent, 100.0);
  EXPECT_EQ(route.split[0].match.source, "productpage");
  EXPECT_EQ(route.sticky.path, "/reviews");
}

TEST(PolicyModelTest, SecondsAndPercentPrecision) {
  auto delayOf = [](const std::string& delay) {
    Route route;
    auto errors =
        describe(parseRoute(baseRoute("faults: [{delay: " + delay + "}]\n"), Format::kYaml, route));
    EXPECT_TRUE(errors.empty()) << delay << joined(errors);
    return route.faults.empty() || !route.faults[0].delay ? FaultDelay{} : *route.faults[0].delay;
  };
  EXPECT_EQ(delayOf("{seconds: 0.0004}").ms, 1u);  // a positive value below 1 ms is 1 ms
  EXPECT_EQ(delayOf("{seconds: 0.0015}").ms, 2u);
  EXPECT_EQ(delayOf("{seconds: 3}").ms, 3000u);
  EXPECT_EQ(delayOf("{seconds: 3600}").ms, 3600000u);
  EXPECT_EQ(delayOf("{seconds: 1, percent: 12.345678}").percent, 12.3457);
  EXPECT_EQ(delayOf("{seconds: 1, percent: 0}").percent, 0.0);
  EXPECT_EQ(delayOf("{seconds: 1, percent: 100}").percent, 100.0);
}

TEST(PolicyModelTest, ToJsonRoundTrips) {
  const Route route = policyRoute();
  const std::string json = toJson(route);
  Route back;
  auto errors = describe(parseRoute(json, Format::kJson, back));
  ASSERT_TRUE(errors.empty()) << json << joined(errors);
  EXPECT_EQ(back, route) << json;
  // The YAML reader reads the same text to the same object.
  Route yaml_back;
  errors = describe(parseRoute(json, Format::kYaml, yaml_back));
  ASSERT_TRUE(errors.empty()) << json << joined(errors);
  EXPECT_EQ(yaml_back, route) << json;
  // Stored rows go through decodeStored.
  Route stored;
  ASSERT_TRUE(decodeStored(json, stored).empty());
  EXPECT_EQ(stored, route);
  // And the encoding is stable.
  EXPECT_EQ(toJson(back), json);
}

TEST(PolicyModelTest, ToJsonWritesSecondsPercentAndDropReadably) {
  const std::string json = toJson(policyRoute());
  EXPECT_NE(json.find("\"seconds\":0.001"), std::string::npos) << json;
  EXPECT_NE(json.find("\"seconds\":2.5"), std::string::npos) << json;
  EXPECT_NE(json.find("\"percent\":33.3333"), std::string::npos) << json;
  EXPECT_NE(json.find("\"status\":\"drop\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"from_header\":true"), std::string::npos) << json;
  EXPECT_NE(json.find("\"path_separated_prefix\":\"/reviews\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"owner\":\"a8\""), std::string::npos) << json;
}

TEST(PolicyModelTest, RoundTripOfEachFieldAlone) {
  std::vector<Route> routes;
  auto base = [] {
    Route route;
    route.id = "r";
    route.split = {{"reviews", "v1", 1, {}}};
    return route;
  };
  {
    Route r = base();
    r.match.path_separated_prefix = "/hello";
    r.strip_prefix = true;
    routes.push_back(r);
  }
  {
    Route r = base();
    RequestMatch bot;
    bot.headers = {{"X-Bot", "."}};
    RequestMatch caller;
    caller.source = "reviews:v2";
    caller.cookies = {{"user", "jason"}};
    r.match.none = {bot, caller};
    routes.push_back(r);
  }
  {
    Route r = base();
    r.split.clear();
    r.direct_response = {412, "no rule matched"};
    routes.push_back(r);
  }
  {
    Route r = base();
    r.match.cookies = {{"a", "1"}, {"b", "x-y"}};
    routes.push_back(r);
  }
  {
    Route r = base();
    r.match.source = "reviews_v2";
    routes.push_back(r);
  }
  {
    Route r = base();
    r.sticky.cookie = "version";
    routes.push_back(r);
  }
  {
    Route r = base();
    Fault f;
    f.delay = FaultDelay{1, 100, false};
    f.abort = FaultAbort{599, false, 0.0001, false};
    r.faults = {f};
    routes.push_back(r);
  }
  {
    Route r = base();
    Fault f;
    f.match.cookies = {{"user", "jason"}};
    f.version = "v1";
    f.abort = FaultAbort{200, false, 99.9999, false};
    r.faults = {f};
    routes.push_back(r);
  }
  {
    Route r = base();
    r.split.push_back({"reviews", "v2", 7, {}});
    r.split[1].match.source = "productpage:v1";
    r.owner = "a8-compat";
    routes.push_back(r);
  }
  for (const Route& route : routes) {
    const std::string json = toJson(route);
    Route back;
    auto errors = describe(parseRoute(json, Format::kJson, back));
    ASSERT_TRUE(errors.empty()) << json << joined(errors);
    EXPECT_EQ(back, route) << json;
  }
}

TEST(PolicyModelTest, ConfigRoundTripKeepsPolicyFields) {
  Config config;
  Service service;
  service.name = "reviews";
  service.owner = "a8";
  service.endpoints = {
      {"10.0.0.1:80", "v1", 1}, {"10.0.0.2:80", "v2", 1}, {"10.0.0.3:80", "v3", 1}};
  config.services.push_back(service);
  config.routes.push_back(policyRoute());
  ASSERT_TRUE(validate(config).empty()) << joined(describe(validate(config)));
  Config back;
  auto errors = describe(parseDocument(toJson(config), Format::kJson, back));
  ASSERT_TRUE(errors.empty()) << joined(errors);
  EXPECT_EQ(back, config);
}

TEST(PolicyModelTest, PlainRoutesDoNotMentionNewFields) {
  Route route;
  route.id = "r";
  route.split = {{"reviews", "v1", 1, {}}};
  const std::string json = toJson(route);
  for (const char* key :
       {"path_separated_prefix", "cookies", "source", "sticky", "faults", "owner"}) {
    EXPECT_EQ(json.find(key), std::string::npos) << key << " in " << json;
  }
}

// ---- validation -----------------------------------------------------------------------

TEST(PolicyModelTest, BaseRouteIsValid) { EXPECT_NO_ERRORS(routeErrors(baseRoute(""))); }

TEST(PolicyModelTest, NoneClausesAreChecked) {
  EXPECT_HAS_ERROR(routeErrors(baseRoute("match: {none: [{}]}\n")),
                   "match.none[0]: an empty clause always holds");
  EXPECT_HAS_ERROR(routeErrors(baseRoute("match: {none: [{headers: {X-A: \"(\"}}]}\n")),
                   "match.none[0].headers.X-A: invalid regular expression: missing ): (");
}

TEST(PolicyModelTest, DirectResponseReplacesTheSplit) {
  EXPECT_NO_ERRORS(routeErrors("id: r\ndirect_response: {status: 412}\n"));
  EXPECT_HAS_ERROR(routeErrors(baseRoute("direct_response: {status: 410}\n")),
                   "split: must be empty with direct_response");
  EXPECT_HAS_ERROR(routeErrors("id: r\ndirect_response: {status: 99}\n"),
                   "direct_response.status: must be an integer between 200 and 599");
}

TEST(PolicyModelTest, FaultNeedsDelayOrAbort) {
  EXPECT_HAS_ERROR(routeErrors(baseRoute("faults: [{version: v1}]\n")),
                   "faults[0]: needs a delay or an abort");
  EXPECT_HAS_ERROR(routeErrors(baseRoute("faults: [{match: {headers: {X-A: b}}}]\n")),
                   "faults[0]: needs a delay or an abort");
  EXPECT_HAS_ERROR(routeErrors(baseRoute("faults: [{delay: {seconds: 1}}, {}]\n")),
                   "faults[1]: needs a delay or an abort");
}

TEST(PolicyModelTest, DelayNeedsExactlyOneOfSecondsOrFromHeader) {
  const std::string kMessage =
      "faults[0].delay: needs exactly one of seconds (above 0) or from_header";
  EXPECT_HAS_ERROR(routeErrors(baseRoute("faults: [{delay: {seconds: 1, from_header: true}}]\n")),
                   kMessage);
  EXPECT_HAS_ERROR(routeErrors(baseRoute("faults: [{delay: {percent: 50}}]\n")), kMessage);
  EXPECT_HAS_ERROR(routeErrors(baseRoute("faults: [{delay: {seconds: 0}}]\n")), kMessage);
  EXPECT_NO_ERRORS(routeErrors(baseRoute("faults: [{delay: {from_header: true}}]\n")));
  EXPECT_NO_ERRORS(
      routeErrors(baseRoute("faults: [{delay: {seconds: 0.5, from_header: false}}]\n")));
}

TEST(PolicyModelTest, AbortNeedsExactlyOneOfStatusOrFromHeader) {
  const std::string kMessage = "faults[0].abort: needs exactly one of status or from_header";
  EXPECT_HAS_ERROR(routeErrors(baseRoute("faults: [{abort: {status: 503, from_header: true}}]\n")),
                   kMessage);
  EXPECT_HAS_ERROR(routeErrors(baseRoute("faults: [{abort: {status: drop, from_header: true}}]\n")),
                   kMessage);
  EXPECT_HAS_ERROR(routeErrors(baseRoute("faults: [{abort: {percent: 10}}]\n")), kMessage);
  EXPECT_NO_ERRORS(routeErrors(baseRoute("faults: [{abort: {from_header: true}}]\n")));
  EXPECT_NO_ERRORS(routeErrors(baseRoute("faults: [{abort: {status: drop}}]\n")));
  EXPECT_NO_ERRORS(
      routeErrors(baseRoute("faults: [{abort: {status: 200}}, {abort: {status: 599}}]\n")));
}

TEST(PolicyModelTest, AbortStatusRange) {
  const std::string kMessage =
      "faults[0].abort.status: must be an HTTP status between 200 and 599, or \"drop\"";
  for (const char* status : {"600", "199", "0", "-1", "crash", "\"503\"", "DROP", "503.5"}) {
    EXPECT_HAS_ERROR(
        routeErrors(baseRoute(std::string("faults: [{abort: {status: ") + status + "}}]\n")),
        kMessage);
  }
  EXPECT_HAS_ERROR(routeErrors(R"({"id": "r", "split": [{"service": "reviews"}],
                                   "faults": [{"abort": {"status": 600}}]})",
                               Format::kJson),
                   kMessage);
  EXPECT_HAS_ERROR(routeErrors(R"({"id": "r", "split": [{"service": "reviews"}],
                                   "faults": [{"abort": {"status": "crash"}}]})",
                               Format::kJson),
                   kMessage);
}

TEST(PolicyModelTest, PercentRange) {
  EXPECT_HAS_ERROR(routeErrors(baseRoute("faults: [{delay: {seconds: 1, percent: 101}}]\n")),
                   "faults[0].delay.percent: must be a number between 0 and 100");
  EXPECT_HAS_ERROR(routeErrors(baseRoute("faults: [{abort: {status: 503, percent: -1}}]\n")),
                   "faults[0].abort.percent: must be a number between 0 and 100");
  EXPECT_HAS_ERROR(routeErrors(baseRoute("faults: [{abort: {status: 503, percent: lots}}]\n")),
                   "faults[0].abort.percent: must be a number between 0 and 100");
  EXPECT_HAS_ERROR(routeErrors(R"({"id": "r", "split": [{"service": "reviews"}],
                                   "faults": [{"delay": {"seconds": 1, "percent": 100.5}}]})",
                               Format::kJson),
                   "faults[0].delay.percent: must be a number between 0 and 100");
  EXPECT_NO_ERRORS(routeErrors(baseRoute("faults: [{delay: {seconds: 1, percent: 0.0001}}]\n")));
}

TEST(PolicyModelTest, SecondsRange) {
  const std::string kMessage =
      "faults[0].delay.seconds: must be a number of seconds between 0 and 3600";
  EXPECT_HAS_ERROR(routeErrors(baseRoute("faults: [{delay: {seconds: -1}}]\n")), kMessage);
  EXPECT_HAS_ERROR(routeErrors(baseRoute("faults: [{delay: {seconds: 3600.5}}]\n")), kMessage);
  EXPECT_HAS_ERROR(routeErrors(baseRoute("faults: [{delay: {seconds: soon}}]\n")), kMessage);
}

TEST(PolicyModelTest, UnknownFaultKeys) {
  EXPECT_HAS_ERROR(routeErrors(baseRoute("faults: [{delay: {seconds: 1}, retry: 3}]\n")),
                   "faults[0].retry: unknown field");
  EXPECT_HAS_ERROR(routeErrors(baseRoute("faults: [{delay: {seconds: 1, ms: 3}}]\n")),
                   "faults[0].delay.ms: unknown field");
  EXPECT_HAS_ERROR(routeErrors(baseRoute("faults: [{abort: {code: 503}}]\n")),
                   "faults[0].abort.code: unknown field");
  EXPECT_HAS_ERROR(routeErrors(baseRoute("sticky: {cookie: v, max_age: 3}\n")),
                   "sticky.max_age: unknown field");
  EXPECT_HAS_ERROR(
      routeErrors("id: r\nsplit: [{service: reviews, match: {host: x}}, {service: reviews}]\n"),
      "split[0].match.host: unknown field");
}

TEST(PolicyModelTest, FaultVersionMustBeInTheSplitUnlessOwned) {
  EXPECT_HAS_ERROR(routeErrors(baseRoute("faults: [{version: v9, delay: {seconds: 1}}]\n")),
                   "faults[0].version: version 'v9' is not a target of this route's split");
  EXPECT_NO_ERRORS(routeErrors(baseRoute("faults: [{version: v1, delay: {seconds: 1}}]\n")));
  EXPECT_NO_ERRORS(
      routeErrors(baseRoute("owner: a8\nfaults: [{version: v9, delay: {seconds: 1}}]\n")));
}

TEST(PolicyModelTest, StickyChecks) {
  EXPECT_HAS_ERROR(routeErrors(baseRoute("sticky: {cookie: version, path: x}\n")),
                   "sticky.path: must be a path starting with '/'");
  EXPECT_HAS_ERROR(routeErrors(baseRoute("sticky: {cookie: version, path: \"/a;b\"}\n")),
                   "sticky.path: must be a path starting with '/'");
  EXPECT_HAS_ERROR(routeErrors(baseRoute("sticky: {cookie: version, path: \"/a b\"}\n")),
                   "sticky.path: must be a path starting with '/'");
  EXPECT_HAS_ERROR(routeErrors(baseRoute("sticky: {cookie: \"a b\"}\n")),
                   "sticky.cookie: invalid cookie name");
  EXPECT_HAS_ERROR(routeErrors(baseRoute("sticky: {cookie: \"a;b\"}\n")),
                   "sticky.cookie: invalid cookie name");
  EXPECT_HAS_ERROR(routeErrors(baseRoute("sticky: {path: /x}\n")),
                   "sticky.cookie: needed when path is set");
  EXPECT_NO_ERRORS(routeErrors(baseRoute("sticky: {cookie: version, path: /x/y}\n")));
  EXPECT_NO_ERRORS(routeErrors(baseRoute("sticky: {cookie: version}\n")));
  EXPECT_NO_ERRORS(routeErrors(baseRoute("sticky: {}\n")));
}

TEST(PolicyModelTest, CookieMatcherChecks) {
  EXPECT_HAS_ERROR(routeErrors(baseRoute("match: {cookies: {\"a b\": x}}\n")),
                   "match.cookies.a b: invalid cookie name");
  EXPECT_HAS_ERROR(routeErrors(baseRoute("match: {cookies: {\"a=b\": x}}\n")),
                   "match.cookies.a=b: invalid cookie name");
  const std::string kValue = "a cookie value cannot hold spaces, quotes, ',', ';' or '\\'";
  for (const char* value : {"\"j son\"", "\"a;b\"", "\"a,b\"", "'\"q\"'", "\"a\\\\b\"", "\"é\""}) {
    EXPECT_HAS_ERROR(
        routeErrors(baseRoute(std::string("match: {cookies: {user: ") + value + "}}\n")),
        "match.cookies.user: " + kValue);
  }
  EXPECT_HAS_ERROR(
      routeErrors("id: r\nsplit:\n  - {service: reviews, version: v2, match: {cookies: "
                  "{\"a b\": x}}}\n  - {service: reviews}\n"),
      "split[0].match.cookies.a b: invalid cookie name");
  EXPECT_HAS_ERROR(routeErrors(baseRoute("faults: [{match: {cookies: {user: \"x y\"}}, delay: "
                                         "{seconds: 1}}]\n")),
                   "faults[0].match.cookies.user: " + kValue);
  EXPECT_NO_ERRORS(routeErrors(baseRoute("match: {cookies: {user: jason, env: \"\"}}\n")));
  EXPECT_HAS_ERROR(routeErrors(baseRoute("match: {cookies: [user]}\n")),
                   "match.cookies: must be a mapping of cookie name to value");
}

TEST(PolicyModelTest, SourceChecks) {
  const std::string kMessage = "must be NAME or NAME:VERSION (letters, digits, '.', '_', '-')";
  EXPECT_HAS_ERROR(routeErrors(baseRoute("match: {source: \"a b\"}\n")),
                   "match.source: " + kMessage);
  EXPECT_HAS_ERROR(routeErrors("id: r\nsplit:\n  - {service: reviews, version: v2, match: {source: "
                               "\":v1\"}}\n  - {service: reviews}\n"),
                   "split[0].match.source: " + kMessage);
  EXPECT_HAS_ERROR(
      routeErrors(baseRoute("faults: [{match: {source: \"x:\"}, delay: {seconds: 1}}]\n")),
      "faults[0].match.source: " + kMessage);
  EXPECT_NO_ERRORS(routeErrors(baseRoute("match: {source: \"reviews:v2,canary\"}\n")));
  EXPECT_NO_ERRORS(routeErrors(baseRoute("match: {source: source_v1}\n")));
}

TEST(PolicyModelTest, SelectorChecks) {
  EXPECT_HAS_ERROR(
      routeErrors(
          "id: r\nsplit: [{service: reviews, version: v2, match: {headers: {x: \"1\"}}}]\n"),
      "split: at least one target without a match must have a positive weight");
  EXPECT_HAS_ERROR(
      routeErrors("id: r\nsplit:\n  - {service: reviews, version: v2, weight: 5, "
                  "match: {headers: {x: \"1\"}}}\n  - {service: reviews, weight: 0}\n"),
      "split: at least one target without a match must have a positive weight");
  auto bad_regex = routeErrors(
      "id: r\nsplit:\n  - {service: reviews, match: {headers: {x: \"[\"}}}\n  - {service: "
      "reviews}\n");
  bool found = false;
  for (const std::string& e : bad_regex) {
    found = found || e.starts_with("split[0].match.headers.x: invalid regular expression");
  }
  EXPECT_TRUE(found) << joined(bad_regex);
  EXPECT_HAS_ERROR(routeErrors("id: r\nsplit:\n  - {service: reviews, match: {headers: {\"a b\": "
                               "x}}}\n  - {service: reviews}\n"),
                   "split[0].match.headers.a b: invalid header name");
  // An empty match is no selector: the target is drawn by weight.
  EXPECT_NO_ERRORS(routeErrors("id: r\nsplit: [{service: reviews, match: {}}]\n"));
}

TEST(PolicyModelTest, PathSeparatedPrefixChecks) {
  const std::string kShape =
      "match.path_separated_prefix: must start with '/' and not end with '/' (\"/api\")";
  EXPECT_HAS_ERROR(routeErrors(baseRoute("match: {path_separated_prefix: /a/}\n")), kShape);
  EXPECT_HAS_ERROR(routeErrors(baseRoute("match: {path_separated_prefix: a}\n")), kShape);
  EXPECT_HAS_ERROR(routeErrors(baseRoute("match: {path_separated_prefix: /}\n")), kShape);
  const std::string kCombined =
      "match.path_separated_prefix: cannot be set with path or path_prefix";
  EXPECT_HAS_ERROR(routeErrors(baseRoute("match: {path_separated_prefix: /a, path_prefix: /a}\n")),
                   kCombined);
  EXPECT_HAS_ERROR(routeErrors(baseRoute("match: {path_separated_prefix: /a, path: /a}\n")),
                   kCombined);
  EXPECT_NO_ERRORS(routeErrors(
      baseRoute("match: {path_separated_prefix: /a}\nrewrite: {strip_prefix: true}\n")));
  EXPECT_NO_ERRORS(routeErrors(baseRoute("match: {path_separated_prefix: /a/b.c}\n")));
  EXPECT_HAS_ERROR(routeErrors(baseRoute("rewrite: {strip_prefix: true}\n")),
                   "rewrite.strip_prefix: needs match.path_prefix or match.path_separated_prefix");
}

TEST(PolicyModelTest, OwnerChecks) {
  const std::string kMessage = "owner: must be at most 32 lowercase letters, digits or '-'";
  EXPECT_HAS_ERROR(routeErrors(baseRoute("owner: A8\n")), kMessage);
  EXPECT_HAS_ERROR(routeErrors(baseRoute("owner: a_8\n")), kMessage);
  EXPECT_HAS_ERROR(routeErrors(baseRoute("owner: " + std::string(33, 'a') + "\n")), kMessage);
  EXPECT_NO_ERRORS(routeErrors(baseRoute("owner: " + std::string(32, 'a') + "\n")));
  EXPECT_NO_ERRORS(routeErrors(baseRoute("owner: a8\n")));
  Service service;
  auto errors = describe(
      parseService(R"({"name": "s", "owner": "A8", "endpoints": [{"address": "10.0.0.1:80"}]})",
                   Format::kJson, service));
  EXPECT_HAS_ERROR(errors, kMessage);
}

TEST(PolicyModelTest, YamlErrorsCarryLines) {
  Route route;
  auto errors = parseRoute(baseRoute("faults:\n  - delay: {seconds: 1, percent: 101}\n"),
                           Format::kYaml, route);
  ASSERT_FALSE(errors.empty());
  EXPECT_EQ(errors[0].field, "faults[0].delay.percent");
  EXPECT_EQ(errors[0].line, 4);
}

// ---- whole documents -------------------------------------------------------------------

Config reviewsConfig() {
  Config config;
  Service service;
  service.name = "reviews";
  service.endpoints = {{"10.0.0.1:80", "v1", 1}};
  config.services.push_back(service);
  Route route;
  route.id = "reviews";
  route.split = {{"reviews", "v1", 50, {}}, {"reviews", "v2", 50, {}}};
  config.routes.push_back(route);
  return config;
}

TEST(PolicyModelTest, UnknownVersionIsAnErrorForNativeRoutes) {
  auto errors = describe(validate(reviewsConfig()));
  EXPECT_EQ(errors, (std::vector<std::string>{
                        "routes[0].split[1].version: service 'reviews' has no endpoint with "
                        "version 'v2'"}));
}

TEST(PolicyModelTest, UnknownVersionIsAllowedForOwnedRoutes) {
  Config config = reviewsConfig();
  config.routes[0].owner = "a8";
  EXPECT_NO_ERRORS(describe(validate(config)));
  // An unknown service is still an error.
  config.routes[0].split.push_back({"nosuch", "v1", 1, {}});
  EXPECT_EQ(describe(validate(config)),
            (std::vector<std::string>{"routes[0].split[2].service: unknown service 'nosuch'"}));
}

TEST(PolicyModelTest, DocumentPathsOfPolicyErrors) {
  Config config = reviewsConfig();
  config.routes[0].split.pop_back();
  config.routes[0].sticky.path = "x";
  config.routes[0].faults.push_back(Fault{});
  config.routes[0].owner = "A8";
  auto errors = describe(validate(config));
  EXPECT_HAS_ERROR(errors, "routes[0].sticky.cookie: needed when path is set");
  EXPECT_HAS_ERROR(errors, "routes[0].faults[0]: needs a delay or an abort");
  EXPECT_HAS_ERROR(errors, "routes[0].owner: must be at most 32 lowercase letters, digits or '-'");
}

TEST(PolicyModelTest, DocumentsDecodePolicyFields) {
  Config config;
  auto errors = describe(parseDocument(
      "services: [{name: reviews, owner: a8, endpoints: [{address: \"10.0.0.1:80\", version: "
      "v1}]}]\n"
      "routes:\n"
      "  - id: r\n"
      "    owner: a8\n"
      "    match: {path_separated_prefix: /reviews, cookies: {user: jason}, source: reviews_v1}\n"
      "    split: [{service: reviews, version: v1}, {service: reviews, version: v3}]\n"
      "    sticky: {cookie: version}\n"
      "    faults: [{version: v3, abort: {status: drop}}]\n",
      config));
  ASSERT_TRUE(errors.empty()) << joined(errors);
  ASSERT_EQ(config.routes.size(), 1u);
  EXPECT_EQ(config.services[0].owner, "a8");
  EXPECT_EQ(config.routes[0].owner, "a8");
  EXPECT_EQ(config.routes[0].match.source, "reviews_v1");
  EXPECT_EQ(config.routes[0].sticky.cookie, "version");
  ASSERT_EQ(config.routes[0].faults.size(), 1u);
  EXPECT_TRUE(config.routes[0].faults[0].abort->drop);
}

}  // namespace
}  // namespace turnout::config
