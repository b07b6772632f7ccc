// JSON and per-object parsing (config/load.h): round trips through toJson, every error class
// with its field path, and a malformed-input corpus that must give errors, never crashes.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "config/load.h"

namespace turnout::config {
namespace {

using nlohmann::json;

Config fullConfig() {
  Config config;
  config.listeners.push_back({"public", "127.0.0.1:8080", "http"});
  config.listeners.push_back({"admin", "[::1]:0", "http"});
  Service service;
  service.name = "helloworld";
  service.lb = "least_request";
  service.endpoints.push_back({"127.0.0.1:9091", "v1", 1});
  service.endpoints.push_back({"[::1]:9092", "v2", 0});
  service.endpoints.push_back({"10.0.0.3:80", "", 10000});
  config.services.push_back(service);
  config.services.push_back(Service{"empty", "random", {}});
  Route route;
  route.id = "hello";
  route.priority = -7;
  route.match.host = "*.example.com";
  route.match.path_prefix = "/helloworld/";
  route.match.headers = {{"X-User", "^qa-\"\\\t"}, {"X-Other", "é+ü"}};
  route.strip_prefix = true;
  route.split = {{"helloworld", "v1", 90}, {"helloworld", "v2", 10}};
  route.timeout_ms = 3600000;
  config.routes.push_back(route);
  Route exact;
  exact.id = "exact \"quoted\" \x01 id";
  exact.match.path = "/x";
  exact.split = {{"empty", "", 1}};
  config.routes.push_back(exact);
  return config;
}

// "field: message" of each error, for exact comparisons.
std::vector<std::string> describe(const std::vector<Error>& errors) {
  std::vector<std::string> out;
  for (const Error& e : errors) out.push_back(e.field + ": " + e.message);
  return out;
}

std::vector<std::string> documentErrors(const std::string& text) {
  Config config;
  return describe(parseDocument(text, Format::kJson, config));
}

std::vector<std::string> serviceErrors(const std::string& text, Format format = Format::kJson) {
  Service service;
  return describe(parseService(text, format, service));
}

std::vector<std::string> routeErrors(const std::string& text, Format format = Format::kJson) {
  Route route;
  return describe(parseRoute(text, format, route));
}

std::vector<std::string> endpointErrors(const std::string& text, Format format = Format::kJson) {
  std::vector<Endpoint> endpoints;
  return describe(parseEndpoints(text, format, endpoints));
}

bool hasField(const std::vector<Error>& errors, const std::string& field) {
  for (const Error& e : errors) {
    if (e.field == field) return true;
  }
  return false;
}

// --- round trips ---------------------------------------------------------------------------

TEST(JsonRoundTripTest, WholeConfigThroughJsonAndYaml) {
  Config source = fullConfig();
  std::string text = toJson(source);
  for (Format format : {Format::kJson, Format::kYaml}) {
    Config decoded;
    auto errors = parseDocument(text, format, decoded);
    ASSERT_TRUE(errors.empty()) << describe(errors).front() << "\n" << text;
    EXPECT_EQ(decoded, source);
  }
  EXPECT_EQ(toJson(Config{}), R"({"listeners":[],"services":[],"routes":[]})");
}

TEST(JsonRoundTripTest, EncodingIsCompactWithEveryField) {
  EXPECT_EQ(toJson(Endpoint{"10.0.0.1:80", "v1", 3}),
            R"({"address":"10.0.0.1:80","version":"v1","weight":3})");
  Route route;
  route.id = "r";
  route.split = {{"s", "", 1}};
  EXPECT_EQ(toJson(route),
            R"({"id":"r","priority":0,"match":{"host":"","path":"","path_prefix":"","headers":{}},)"
            R"("rewrite":{"strip_prefix":false},"split":[{"service":"s","version":"","weight":1}],)"
            R"("timeout_ms":15000})");
}

TEST(JsonRoundTripTest, Objects) {
  Config source = fullConfig();
  for (Format format : {Format::kJson, Format::kYaml}) {
    Service service;
    EXPECT_TRUE(parseService(toJson(source.services[0]), format, service).empty());
    EXPECT_EQ(service, source.services[0]);
    for (const Route& route : source.routes) {
      Route decoded;
      EXPECT_TRUE(parseRoute(toJson(route), format, decoded).empty()) << toJson(route);
      EXPECT_EQ(decoded, route);
    }
    std::vector<Endpoint> endpoints;
    std::string list = "[";
    for (const Endpoint& e : source.services[0].endpoints) list += toJson(e) + ",";
    list.back() = ']';
    EXPECT_TRUE(parseEndpoints(list, format, endpoints).empty()) << list;
    EXPECT_EQ(endpoints, source.services[0].endpoints);
    EXPECT_TRUE(parseEndpoints("{\"endpoints\":" + list + "}", format, endpoints).empty());
    EXPECT_EQ(endpoints, source.services[0].endpoints);
  }
}

TEST(JsonRoundTripTest, InvalidUtf8InAModelStillEncodesValidJson) {
  Route route;
  route.id = "bad\xff\xc3(\xed\xa0\x80ok\xf0\x9f\x98\x80";
  route.split = {{"s", "", 1}};
  std::string text = toJson(route);
  EXPECT_TRUE(json::accept(text)) << text;
  Route decoded;
  ASSERT_TRUE(parseRoute(text, Format::kJson, decoded).empty());
  EXPECT_EQ(decoded.id,
            "bad\xEF\xBF\xBD\xEF\xBF\xBD(\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBDok\xf0\x9f\x98\x80");
}

// --- documents -----------------------------------------------------------------------------

TEST(JsonDocumentTest, SemanticChecksAndDefaults) {
  Config config;
  EXPECT_TRUE(parseDocument("{}", Format::kJson, config).empty());
  EXPECT_TRUE(
      parseDocument(R"({"listeners":null,"services":[],"routes":[]})", Format::kJson, config)
          .empty());
  EXPECT_EQ(documentErrors(R"({"services":[{"name":"a","endpoints":[{"address":"10.0.0.1:80"}]}],
      "routes":[{"id":"r","split":[{"service":"b"}]},{"id":"r","split":[{"service":"a"}]}]})"),
            (std::vector<std::string>{"routes[0].split[0].service: unknown service 'b'",
                                      "routes[1].id: duplicate route id 'r'"}));
}

TEST(JsonDocumentTest, SameTypeErrorsAsYaml) {
  EXPECT_EQ(documentErrors(R"({"services":[{"name":{"a":"b"},"endpoints":{"address":"x"}}],
      "routes":[{"id":"r","priority":"high","rewrite":{"strip_prefix":"yes"},
                 "split":[{"service":["svc"],"weight":"5"}],"timeout_ms":1.5}],"colour":"blue"})"),
            (std::vector<std::string>{
                "services[0].name: must be a string", "services[0].endpoints: must be a list",
                "routes[0].priority: must be an integer between -2147483648 and 2147483647",
                "routes[0].rewrite.strip_prefix: must be true or false",
                "routes[0].split[0].service: must be a string",
                "routes[0].split[0].weight: must be an integer between 0 and 10000",
                "routes[0].timeout_ms: must be an integer between 1 and 3600000",
                "colour: unknown field"}));
}

TEST(JsonDocumentTest, TopLevelMustBeAnObject) {
  for (const char* text : {"[]", "\"x\"", "1", "true"}) {
    EXPECT_EQ(documentErrors(text), std::vector<std::string>{": must be a mapping"}) << text;
  }
  EXPECT_EQ(documentErrors("null"), std::vector<std::string>{": empty document"});
}

TEST(JsonDocumentTest, EmptyTextIsAnErrorForJsonOnly) {
  EXPECT_EQ(documentErrors(""), std::vector<std::string>{": empty document"});
  EXPECT_EQ(documentErrors(" \n\t"), std::vector<std::string>{": empty document"});
  Config config;
  EXPECT_TRUE(parseDocument("", Format::kYaml, config).empty());
}

// --- syntax --------------------------------------------------------------------------------

TEST(JsonSyntaxTest, ErrorHasByteOffsetLineAndReason) {
  Config config;
  auto errors = parseDocument("{\n  \"routes\": [,]\n}", Format::kJson, config);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].field, "");
  EXPECT_EQ(errors[0].line, 2);
  EXPECT_TRUE(errors[0].message.starts_with("invalid JSON at byte 15: syntax error"))
      << errors[0].message;
}

TEST(JsonSyntaxTest, TrailingGarbage) {
  auto errors = documentErrors("{} x");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_TRUE(errors[0].starts_with(": invalid JSON at byte 3: ")) << errors[0];
  EXPECT_EQ(serviceErrors(R"({"name":"a"}{"name":"b"})").size(), 1u);
}

TEST(JsonSyntaxTest, InvalidUtf8InsideAString) {
  for (std::string bad : {"\xff", "\xc3", "\xed\xa0\x80", "\xc0\xaf", "\xf4\x90\x80\x80"}) {
    auto errors = serviceErrors("{\"name\":\"a" + bad + "b\"}");
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_TRUE(errors[0].starts_with(": invalid JSON at byte 1")) << errors[0];
    EXPECT_NE(errors[0].find("ill-formed UTF-8 byte"), std::string::npos) << errors[0];
    EXPECT_TRUE(json::accept(json(errors[0]).dump())) << "the message itself is clean";
  }
}

TEST(JsonSyntaxTest, ByteOrderMarkIsSkipped) {
  Service service;
  EXPECT_TRUE(parseService("\xEF\xBB\xBF{\"name\":\"a\"}", Format::kJson, service).empty());
  EXPECT_EQ(service.name, "a");
}

TEST(JsonSyntaxTest, DeepNestingIsRefusedWithoutRecursing) {
  std::string deep(10000, '[');
  auto errors = documentErrors(deep + std::string(10000, ']'));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("nesting deeper than 64 levels"), std::string::npos);
  // Inside an ignored field, where the decoder itself would not look.
  std::string nested = R"({"id":"r","split":[{"service":"s"}],"faults":[)" +
                       std::string(10000, '[') + std::string(10000, ']') + "]}";
  errors = routeErrors(nested);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_TRUE(errors[0].starts_with("faults[0]")) << errors[0];
  // 64 levels are fine (then refused by the decoder as a value of the wrong shape).
  std::string ok = R"({"id":"r","split":[{"service":"s"}],"sticky":)" + std::string(63, '[') +
                   std::string(63, ']') + "}";
  EXPECT_EQ(routeErrors(ok), std::vector<std::string>{"sticky: must be a mapping"});
}

TEST(JsonSyntaxTest, DeepYamlNeverCrashes) {
  std::string deep(10000, '[');
  Service service;
  EXPECT_FALSE(parseService(deep + std::string(10000, ']'), Format::kYaml, service).empty());
  EXPECT_FALSE(parseService("name: " + deep, Format::kYaml, service).empty());
}

// --- keys ----------------------------------------------------------------------------------

TEST(JsonKeysTest, DuplicateKeysAtEveryLevel) {
  EXPECT_EQ(documentErrors(R"({"routes":[],"routes":[]})"),
            std::vector<std::string>{"routes: duplicate key"});
  EXPECT_EQ(documentErrors(R"({"services":[{"name":"a","name":"b"}]})"),
            std::vector<std::string>{"services[0].name: duplicate key"});
  EXPECT_EQ(routeErrors(R"({"id":"r","split":[{"service":"s","weight":1,"weight":2}],
                            "match":{"headers":{"X-A":"a","X-A":"b"}}})"),
            (std::vector<std::string>{"split[0].weight: duplicate key",
                                      "match.headers.X-A: duplicate key"}));
}

TEST(JsonKeysTest, UnknownKeysWithRelativePaths) {
  EXPECT_EQ(routeErrors(R"({"id":"r","split":[{"service":"s","wieght":2}],"matc":{}})"),
            (std::vector<std::string>{"split[0].wieght: unknown field", "matc: unknown field"}));
  EXPECT_EQ(endpointErrors(R"({"endpoints":[],"colour":1})"),
            std::vector<std::string>{"colour: unknown field"});
}

// --- numbers and scalar types ----------------------------------------------------------------

TEST(JsonNumbersTest, OnlyIntegersInRange) {
  const std::string weight_error = "split[0].weight: must be an integer between 0 and 10000";
  for (const char* weight :
       {"-1", "10001", "1.0", "2.5", "1e2", "\"5\"", "true", "[]", "{}", "99999999999999999999",
        "18446744073709551615", "-9223372036854775809"}) {
    std::string text = R"({"id":"r","split":[{"service":"s","weight":)" + std::string(weight) +
                       "},{\"service\":\"s\"}]}";
    EXPECT_EQ(routeErrors(text), std::vector<std::string>{weight_error}) << weight;
  }
  Route route;
  EXPECT_TRUE(parseRoute(R"({"id":"r","priority":-2147483648,"split":[{"service":"s"}]})",
                         Format::kJson, route)
                  .empty());
  EXPECT_EQ(route.priority, -2147483648);
}

TEST(JsonNumbersTest, NonFiniteNumberNamesItsField) {
  Route route;
  auto errors =
      parseRoute(R"({"id":"r","split":[{"service":"s","weight":1e400}]})", Format::kJson, route);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].field, "split[0].weight");
  EXPECT_TRUE(errors[0].message.starts_with("invalid JSON at byte ")) << errors[0].message;
  EXPECT_NE(errors[0].message.find("1e400"), std::string::npos);
}

TEST(JsonNumbersTest, StringsAreNotBooleansOrNumbers) {
  EXPECT_EQ(serviceErrors(R"({"name":true})"), std::vector<std::string>{"name: must be a string"});
  EXPECT_EQ(serviceErrors(R"({"name":5})"), std::vector<std::string>{"name: must be a string"});
  EXPECT_EQ(routeErrors(R"({"id":"r","split":[{"service":"s"}],"rewrite":{"strip_prefix":1}})"),
            std::vector<std::string>{"rewrite.strip_prefix: must be true or false"});
  // null is "not set", as in YAML: an empty name, then refused by the semantic check.
  EXPECT_EQ(serviceErrors(R"({"name":null})"), std::vector<std::string>{"name: must not be empty"});
}

// Every field of a route and a service given a value of each wrong type: the decoder names
// exactly that field.
TEST(JsonNumbersTest, WrongTypeAtEveryField) {
  enum Type { kString, kInteger, kBool, kList, kMap };
  const std::vector<std::pair<json, Type>> bad = {{json("s"), kString},   {json(7), kInteger},
                                                  {json(true), kBool},    {json::array(), kList},
                                                  {json::object(), kMap}, {json(1.5), kMap}};
  struct Field {
    const char* pointer;  // JSON pointer into the object
    const char* path;     // field path expected in the error
    Type type;
  };
  const std::vector<Field> route_fields = {{"/id", "id", kString},
                                           {"/priority", "priority", kInteger},
                                           {"/match", "match", kMap},
                                           {"/match/host", "match.host", kString},
                                           {"/match/path_prefix", "match.path_prefix", kString},
                                           {"/match/headers", "match.headers", kMap},
                                           {"/match/headers/X-A", "match.headers.X-A", kString},
                                           {"/rewrite", "rewrite", kMap},
                                           {"/rewrite/strip_prefix", "rewrite.strip_prefix", kBool},
                                           {"/split", "split", kList},
                                           {"/split/0", "split[0]", kMap},
                                           {"/split/0/service", "split[0].service", kString},
                                           {"/split/0/version", "split[0].version", kString},
                                           {"/split/0/weight", "split[0].weight", kInteger},
                                           {"/timeout_ms", "timeout_ms", kInteger}};
  const json route = json::parse(
      R"({"id":"r","priority":1,"match":{"host":"a.com","path_prefix":"/","headers":{"X-A":"x"}},
          "rewrite":{"strip_prefix":true},"split":[{"service":"s","version":"v","weight":1}],
          "timeout_ms":5})");
  ASSERT_TRUE(routeErrors(route.dump()).empty());
  for (const Field& field : route_fields) {
    for (const auto& [value, type] : bad) {
      if (type == field.type) continue;
      json doc = route;
      doc[json::json_pointer(field.pointer)] = value;
      Route out;
      auto errors = parseRoute(doc.dump(), Format::kJson, out);
      EXPECT_TRUE(hasField(errors, field.path)) << doc.dump();
    }
  }
  const json service = json::parse(
      R"({"name":"s","lb":"random","endpoints":[{"address":"10.0.0.1:1","version":"v","weight":2}]})");
  const std::vector<Field> service_fields = {
      {"/name", "name", kString},
      {"/lb", "lb", kString},
      {"/endpoints", "endpoints", kList},
      {"/endpoints/0", "endpoints[0]", kMap},
      {"/endpoints/0/address", "endpoints[0].address", kString},
      {"/endpoints/0/version", "endpoints[0].version", kString},
      {"/endpoints/0/weight", "endpoints[0].weight", kInteger}};
  ASSERT_TRUE(serviceErrors(service.dump()).empty());
  for (const Field& field : service_fields) {
    for (const auto& [value, type] : bad) {
      if (type == field.type) continue;
      json doc = service;
      doc[json::json_pointer(field.pointer)] = value;
      Service out;
      EXPECT_TRUE(hasField(parseService(doc.dump(), Format::kJson, out), field.path)) << doc.dump();
    }
  }
}

// --- objects -------------------------------------------------------------------------------

TEST(JsonObjectTest, EmptyBodies) {
  for (const char* text : {"", "  \n", "null"}) {
    EXPECT_EQ(serviceErrors(text), std::vector<std::string>{": empty document"}) << text;
    EXPECT_EQ(routeErrors(text), std::vector<std::string>{": empty document"}) << text;
    EXPECT_EQ(endpointErrors(text), std::vector<std::string>{": empty document"}) << text;
  }
  EXPECT_EQ(serviceErrors("# nothing\n", Format::kYaml),
            std::vector<std::string>{": empty document"});
  EXPECT_EQ(serviceErrors("[]"), std::vector<std::string>{": must be a mapping"});
  EXPECT_EQ(endpointErrors("\"x\""), std::vector<std::string>{": must be a mapping"});
}

TEST(JsonObjectTest, ServiceLocalChecks) {
  EXPECT_EQ(serviceErrors(R"({"name":"bad name","lb":"fastest","endpoints":[
      {"address":"10.0.0.1:80"},{"address":"10.0.0.1:80"},{"address":"backend:0"}]})"),
            (std::vector<std::string>{
                "name: must contain only letters, digits, '.', '_' and '-'",
                "lb: must be one of: random, round_robin, least_request, ring_hash, maglev, ewma",
                "endpoints[1].address: duplicate endpoint address '10.0.0.1:80'",
                "endpoints[2].address: the port must be a number between 1 and 65535"}));
  Service service;
  ASSERT_TRUE(parseService(R"({"name":"s"})", Format::kJson, service).empty());
  EXPECT_EQ(service.lb, "round_robin");  // defaults are the model's
}

TEST(JsonObjectTest, RouteLocalChecksOnly) {
  // Split targets are not looked up (the caller checks them against the snapshot)...
  Route route;
  EXPECT_TRUE(parseRoute(R"({"id":"r","split":[{"service":"nowhere","version":"v9"}]})",
                         Format::kJson, route)
                  .empty());
  // ...but everything local is checked.
  EXPECT_EQ(routeErrors(R"({"id":"","match":{"host":"a:1","headers":{"X-A":"(","bad name":"x"}},
                            "split":[{"service":"s","weight":0}],"timeout_ms":0})"),
            (std::vector<std::string>{
                "timeout_ms: must be an integer between 1 and 3600000", "id: must not be empty",
                "match.host: must not include a port",
                "match.headers.X-A: invalid regular expression: missing ): (",
                "match.headers.bad name: invalid header name",
                "split: at least one target without a match must have a positive weight"}));
  EXPECT_EQ(routeErrors(R"({"id":"r"})"), std::vector<std::string>{"split: must not be empty"});
}

TEST(JsonObjectTest, EndpointsInBothForms) {
  const std::string list = R"([{"address":"10.0.0.1:80"},{"address":"10.0.0.2:80","weight":-1},
                               {"address":"10.0.0.1:80"}])";
  const std::vector<std::string> expected = {
      "endpoints[1].weight: must be an integer between 0 and 10000",
      "endpoints[2].address: duplicate endpoint address '10.0.0.1:80'"};
  EXPECT_EQ(endpointErrors(list), expected);
  EXPECT_EQ(endpointErrors("{\"endpoints\":" + list + "}"), expected);
  std::vector<Endpoint> endpoints;
  EXPECT_TRUE(parseEndpoints("[]", Format::kJson, endpoints).empty());
  EXPECT_TRUE(parseEndpoints("{}", Format::kJson, endpoints).empty());
}

TEST(JsonObjectTest, YamlObjectsHaveLines) {
  Service service;
  auto errors = parseService(
      "name: s\nendpoints:\n  - address: 10.0.0.1:80\n  - address: nope\n    wieght: 1\n",
      Format::kYaml, service);
  EXPECT_EQ(describe(errors), (std::vector<std::string>{"endpoints[1].address: must end with :PORT",
                                                        "endpoints[1].wieght: unknown field"}));
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].line, 4);
  EXPECT_EQ(errors[1].line, 5);
  std::vector<Endpoint> endpoints;
  EXPECT_TRUE(
      parseEndpoints("- {address: \"10.0.0.1:80\", version: v1}\n", Format::kYaml, endpoints)
          .empty());
  EXPECT_EQ(endpoints.at(0).version, "v1");
}

// --- malformed corpus ----------------------------------------------------------------------

TEST(JsonCorpusTest, EveryTruncationIsAnError) {
  const std::string text = toJson(fullConfig());
  ASSERT_LT(text.size(), 2000u);  // bounds the loop
  for (size_t length = 0; length < text.size(); ++length) {
    Config config;
    EXPECT_FALSE(parseDocument(text.substr(0, length), Format::kJson, config).empty()) << length;
    Service service;
    EXPECT_FALSE(parseService(text.substr(0, length), Format::kJson, service).empty());
    parseDocument(text.substr(0, length), Format::kYaml, config);  // must not crash
  }
  const std::string route = toJson(fullConfig().routes[0]);
  for (size_t length = 0; length < route.size(); ++length) {
    Route out;
    EXPECT_FALSE(parseRoute(route.substr(0, length), Format::kJson, out).empty()) << length;
  }
}

TEST(JsonCorpusTest, OddInputsGiveErrorsNotCrashes) {
  const std::vector<std::string> corpus = {
      "{",
      "}",
      "[",
      "{\"a\"",
      "{\"a\":",
      "{\"a\":}",
      "{,}",
      "{\"routes\":[}",
      "\"\\u12\"",
      "{\"id\":\"\\ud800\"}",
      "nul",
      "tru",
      "-",
      "0x10",
      "01",
      "{'a':1}",
      "{\"a\":1,}",
      "[1,]",
      std::string("{\"id\":\"a\0b\"}", 12),
      "{\"id\":\"a\nb\"}",
      "/* c */ {}",
      "\xEF\xBB",
      "\xEF\xBB\xBF",
      "{\"routes\":[{\"id\":\"r\",\"split\":[{\"weight\":-0.0}]}]}"};
  for (const std::string& text : corpus) {
    Config config;
    EXPECT_FALSE(parseDocument(text, Format::kJson, config).empty()) << text;
    Route route;
    EXPECT_FALSE(parseRoute(text, Format::kJson, route).empty()) << text;
    std::vector<Endpoint> endpoints;
    EXPECT_FALSE(parseEndpoints(text, Format::kJson, endpoints).empty()) << text;
    parseRoute(text, Format::kYaml, route);  // must not crash
  }
}

}  // namespace
}  // namespace turnout::config
