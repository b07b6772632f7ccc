#include "config/load.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

namespace turnout::config {
namespace {

// DESIGN §1's example without what this version refuses (cookies, source matchers).
constexpr const char* kFullExample =
    R"(listeners: [{name: public, address: "127.0.0.1:8080", protocol: http}]
services:
  - name: helloworld
    lb: round_robin
    endpoints:
      - {address: "127.0.0.1:9091", version: v1, weight: 1}
      - {address: "[::1]:9092", version: v2}
routes:
  - id: hello
    priority: 0
    match: {host: "*.example.com", path_prefix: /helloworld/, headers: {X-User: "^qa-"}}
    rewrite: {strip_prefix: true}
    split: [{service: helloworld, version: v1, weight: 90}, {service: helloworld, version: v2, weight: 10}]
    timeout_ms: 15000
)";

// Parses `text`, expecting errors; returns them as "line: field: message" for easy matching.
std::vector<std::string> errorsOf(const std::string& text) {
  Config config;
  std::vector<std::string> out;
  for (const Error& e : parseDocument(text, config)) out.push_back(formatError("", e).substr(1));
  return out;
}

// A document with one service `svc` (versions v1, v2) and `routes_yaml` appended.
std::string withService(const std::string& routes_yaml) {
  return "services:\n"
         "  - name: svc\n"
         "    endpoints:\n"
         "      - {address: \"10.0.0.1:80\", version: v1}\n"
         "      - {address: \"10.0.0.2:80\", version: v2}\n" +
         routes_yaml;
}

TEST(LoadTest, FullExampleParses) {
  Config config;
  auto errors = parseDocument(kFullExample, config);
  ASSERT_TRUE(errors.empty()) << formatError("doc", errors.front());
  ASSERT_EQ(config.listeners.size(), 1u);
  EXPECT_EQ(config.listeners[0].name, "public");
  EXPECT_EQ(config.listeners[0].address, "127.0.0.1:8080");
  ASSERT_EQ(config.services.size(), 1u);
  const Service& service = config.services[0];
  EXPECT_EQ(service.lb, "round_robin");
  ASSERT_EQ(service.endpoints.size(), 2u);
  EXPECT_EQ(service.endpoints[1].address, "[::1]:9092");
  EXPECT_EQ(service.endpoints[1].weight, 1u);  // default
  ASSERT_EQ(config.routes.size(), 1u);
  const Route& route = config.routes[0];
  EXPECT_EQ(route.id, "hello");
  EXPECT_EQ(route.match.host, "*.example.com");
  EXPECT_EQ(route.match.path_prefix, "/helloworld/");
  EXPECT_EQ(route.match.headers.at("X-User"), "^qa-");
  EXPECT_TRUE(route.strip_prefix);
  ASSERT_EQ(route.split.size(), 2u);
  EXPECT_EQ(route.split[0].weight, 90u);
  EXPECT_EQ(route.split[1].version, "v2");
  EXPECT_EQ(route.timeout_ms, 15000u);
}

TEST(LoadTest, JsonIsAccepted) {
  Config config;
  auto errors = parseDocument(
      R"({"services": [{"name": "a", "endpoints": [{"address": "10.0.0.1:80"}]}],
          "routes": [{"id": "r", "split": [{"service": "a"}]}]})",
      config);
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(config.routes.at(0).split.at(0).weight, 1u);
}

TEST(LoadTest, EmptyAndCommentOnlyDocumentsAreEmptyConfigs) {
  for (const char* text : {"", "\n\n", "# nothing yet\n# really\n"}) {
    Config config;
    config.routes.resize(1);  // proves `out` is reset
    EXPECT_TRUE(parseDocument(text, config).empty()) << text;
    EXPECT_TRUE(config.routes.empty());
  }
}

TEST(LoadTest, DocumentMustBeAMapping) {
  EXPECT_EQ(errorsOf("- a\n- b\n"), std::vector<std::string>{"1: must be a mapping"});
}

TEST(LoadTest, SyntaxErrorHasALine) {
  auto errors = errorsOf("routes:\n  - id: [unclosed\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].substr(0, 2), "3:") << errors[0];
}

TEST(LoadTest, UnknownFieldsAnywhere) {
  auto errors =
      errorsOf(withService("routes:\n"
                           "  - {id: a, split: [{service: svc}]}\n"
                           "  - {id: b, split: [{service: svc}]}\n"
                           "  - id: c\n"
                           "    matc: {host: x}\n"
                           "    split: [{service: svc, wieght: 2}]\n"
                           "colour: blue\n"));
  EXPECT_EQ(errors, (std::vector<std::string>{"10: routes[2].matc: unknown field",
                                              "11: routes[2].split[0].wieght: unknown field",
                                              "12: colour: unknown field"}));
}

TEST(LoadTest, DuplicateKey) {
  auto errors = errorsOf("services:\n  - name: a\n    name: b\n");
  EXPECT_EQ(errors, std::vector<std::string>{"3: services[0].name: duplicate key"});
}

TEST(LoadTest, TypeErrors) {
  auto errors = errorsOf(
      "services:\n"
      "  - name: {a: b}\n"             // 2
      "    endpoints: {address: x}\n"  // 3
      "routes:\n"
      "  - id: r\n"
      "    priority: high\n"                            // 6
      "    rewrite: {strip_prefix: \"yes\"}\n"          // 7
      "    split: [{service: [svc], weight: \"5\"}]\n"  // 8
      "    timeout_ms: 1.5\n");                         // 9
  EXPECT_EQ(errors,
            (std::vector<std::string>{
                "2: services[0].name: must be a string", "3: services[0].endpoints: must be a list",
                "6: routes[0].priority: must be an integer between -2147483648 and 2147483647",
                "7: routes[0].rewrite.strip_prefix: must be true or false",
                "8: routes[0].split[0].service: must be a string",
                "8: routes[0].split[0].weight: must be an integer between 0 and 10000",
                "9: routes[0].timeout_ms: must be an integer between 1 and 3600000"}));
}

TEST(LoadTest, IntegerRanges) {
  auto errors = errorsOf(
      withService("routes:\n"
                  "  - id: r\n"
                  "    split: [{service: svc, weight: 10001}, {service: svc, weight: -1}]\n"
                  "    timeout_ms: 0\n"
                  "  - id: s\n"
                  "    priority: 2147483648\n"
                  "    split: [{service: svc}]\n"
                  "    timeout_ms: 3600001\n"));
  EXPECT_EQ(errors,
            (std::vector<std::string>{
                "8: routes[0].split[0].weight: must be an integer between 0 and 10000",
                "8: routes[0].split[1].weight: must be an integer between 0 and 10000",
                "9: routes[0].timeout_ms: must be an integer between 1 and 3600000",
                "11: routes[1].priority: must be an integer between -2147483648 and 2147483647",
                "13: routes[1].timeout_ms: must be an integer between 1 and 3600000"}));
}

TEST(LoadTest, ListenerErrors) {
  auto errors = errorsOf(
      "listeners:\n"
      "  - {name: a, address: \"127.0.0.1:8080\", protocol: h2c}\n"
      "  - {name: b, address: \"127.0.0.1\", protocol: https}\n"
      "  - {name: a, address: \"localhost:0\", protocol: gopher}\n");
  EXPECT_EQ(errors, (std::vector<std::string>{
                        "2: listeners[0].protocol: protocol 'h2c' is not supported yet",
                        "3: listeners[1].address: must end with :PORT",
                        "3: listeners[1].protocol: protocol 'https' is not supported yet",
                        "4: listeners[2].protocol: must be one of: http, h2c, https",
                        "4: listeners[2].name: duplicate listener name 'a'"}));
}

TEST(LoadTest, ServiceErrors) {
  auto errors = errorsOf(
      "services:\n"
      "  - name: \"bad name\"\n"  // 2
      "    lb: ring_hash\n"       // 3
      "  - name: ok\n"
      "    lb: fastest\n"  // 5
      "    endpoints:\n"
      "      - address: \"-bad-.local:80\"\n"     // 7
      "      - address: \"10.0.0.1:0\"\n"        // 8
      "      - address: \"::1:80\"\n"            // 9
      "      - address: \"10.0.0.2:80\"\n"
      "      - address: \"10.0.0.2:80\"\n"  // 11
      "      - {version: v1}\n"             // 12
      "  - name: ok\n"                      // 13
      "  - name: \"\"\n");                  // 14
  EXPECT_EQ(errors,
            (std::vector<std::string>{
                "2: services[0].name: must contain only letters, digits, '.', '_' and '-'",
                "3: services[0].lb: lb 'ring_hash' is not supported yet",
                "5: services[1].lb: must be one of: random, round_robin, least_request",
                "7: services[1].endpoints[0].address: must be IP:PORT, [IPv6]:PORT or a DNS "
                "name:PORT",
                "8: services[1].endpoints[1].address: the port must be a number between 1 and "
                "65535",
                "9: services[1].endpoints[2].address: an IPv6 address needs brackets: [::1]:PORT",
                "11: services[1].endpoints[4].address: duplicate endpoint address '10.0.0.2:80'",
                "12: services[1].endpoints[5].address: must not be empty",
                "13: services[2].name: duplicate service name 'ok'",
                "14: services[3].name: must not be empty"}));
}

TEST(LoadTest, RouteMatchErrors) {
  auto errors =
      errorsOf(withService("routes:\n"
                           "  - id: r\n"  // 7
                           "    match:\n"
                           "      host: \"api.example.com:8080\"\n"  // 9
                           "      path: api\n"                       // 10
                           "      path_prefix: /api\n"               // 11
                           "      headers:\n"
                           "        X-User: \"(unclosed\"\n"      // 13
                           "      cookies: {\"bad name\": jason}\n"  // 14
                           "    rewrite: {strip_prefix: true}\n"  // 15
                           "    split: [{service: svc}]\n"
                           "  - id: r\n"                                     // 17
                           "    match: {host: \"*.\", path_prefix: nope}\n"  // 18
                           "    split: [{service: svc}]\n"));
  EXPECT_EQ(errors,
            (std::vector<std::string>{
                "9: routes[0].match.host: must not include a port",
                "10: routes[0].match.path: must start with '/'",
                "11: routes[0].match.path_prefix: path and path_prefix cannot both be set",
                "13: routes[0].match.headers.X-User: invalid regular expression: missing ): "
                "(unclosed",
                "14: routes[0].match.cookies.bad name: invalid cookie name",
                "17: routes[1].id: duplicate route id 'r'",
                "18: routes[1].match.host: must be a host name (\"api.example.com\") or a "
                "wildcard (\"*.example.com\")",
                "18: routes[1].match.path_prefix: must start with '/'"}));
}

TEST(LoadTest, StripPrefixNeedsPathPrefix) {
  auto errors =
      errorsOf(withService("routes:\n"
                           "  - id: r\n"
                           "    match: {path: /x}\n"
                           "    rewrite: {strip_prefix: true}\n"
                           "    split: [{service: svc}]\n"));
  EXPECT_EQ(errors,
            std::vector<std::string>{"9: routes[0].rewrite.strip_prefix: needs match.path_prefix or match.path_separated_prefix"});
}

TEST(LoadTest, SplitErrors) {
  auto errors =
      errorsOf(withService("routes:\n"
                           "  - id: a\n"
                           "    split:\n"
                           "      - {service: nope}\n"              // 9
                           "      - {service: svc, version: v3}\n"  // 10
                           "      - {version: v1}\n"                // 11
                           "  - id: b\n"
                           "    split: []\n"  // 13
                           "  - id: c\n"
                           "    split: [{service: svc, weight: 0}]\n"  // 15
                           "  - id: d\n"));                            // 16
  EXPECT_EQ(errors,
            (std::vector<std::string>{
                "9: routes[0].split[0].service: unknown service 'nope'",
                "10: routes[0].split[1].version: service 'svc' has no endpoint with version 'v3'",
                "11: routes[0].split[2].service: must not be empty",
                "13: routes[1].split: must not be empty",
                "15: routes[2].split: at least one target without a match must have a positive weight",
                "16: routes[3].split: must not be empty"}));
}

TEST(LoadTest, ReportsEveryErrorAtOnce) {
  auto errors = errorsOf(
      "listeners: [{name: l, address: \"x\"}]\n"
      "services: [{name: s, lb: maglev}]\n"
      "routes: [{id: r, split: [{service: t}], timeout_ms: 0}]\n"
      "extra: 1\n");
  EXPECT_EQ(errors,
            (std::vector<std::string>{
                "1: listeners[0].address: must end with :PORT",
                "2: services[0].lb: lb 'maglev' is not supported yet",
                "3: routes[0].timeout_ms: must be an integer between 1 and 3600000",
                "3: routes[0].split[0].service: unknown service 't'", "4: extra: unknown field"}));
}

// The DESIGN model names fields whose features have not landed yet. Accepting them would
// store nothing and let a user believe a retry or a health check is on: they are refused.
TEST(LoadTest, FieldsOfFeaturesNotBuiltYetAreRefused) {
  auto errors = errorsOf(
      "services:\n"
      "  - name: svc\n"
      "    endpoints: [{address: \"10.0.0.1:80\"}]\n"
      "    health_check: {type: http, path: /healthz}\n"
      "    outlier: {consecutive_5xx: 5}\n"
      "routes:\n"
      "  - id: r\n"
      "    split: [{service: svc}]\n"
      "    retries: {attempts: 2}\n");
  // TEMPORARY (wip-health): health_check and outlier are decoded; wip-resilience-config owns it.
  EXPECT_EQ(errors, (std::vector<std::string>{"9: routes[0].retries: not supported yet"}));
}

TEST(LoadTest, FormatError) {
  EXPECT_EQ(formatError("file", {"routes[0].split[0].weight", 12, "bad"}),
            "file:12: routes[0].split[0].weight: bad");
  EXPECT_EQ(formatError("file", {"routes", 0, "bad"}), "file: routes: bad");
  EXPECT_EQ(formatError("file", {"", 3, "bad"}), "file:3: bad");
  EXPECT_EQ(formatError("file", {"", 0, "bad"}), "file: bad");
}

TEST(LoadTest, LoadFile) {
  std::string path = ::testing::TempDir() + "/turnout_load_test.yaml";
  {
    std::ofstream out(path);
    out << "routes:\n  - {id: r, split: [{service: none}]}\n";
  }
  Config config;
  auto errors = loadFile(path, config);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(formatError(path, errors[0]),
            path + ":2: routes[0].split[0].service: unknown service 'none'");
  std::remove(path.c_str());

  errors = loadFile(path, config);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(formatError("x", errors[0]), "x: cannot read " + path);
  EXPECT_EQ(loadFile(::testing::TempDir(), config).size(), 1u);  // a directory
}

}  // namespace
}  // namespace turnout::config
