#include "ctl/document.h"

#include <gtest/gtest.h>

#include "ctl/yaml_json.h"

namespace turnout::ctl {
namespace {

using nlohmann::json;

json one(std::string_view text) {
  std::vector<json> docs;
  std::string error;
  EXPECT_TRUE(parseDocuments(text, docs, error)) << error;
  EXPECT_EQ(docs.size(), 1u);
  return docs.empty() ? json() : docs[0];
}

TEST(CtlDocument, DetectKind) {
  EXPECT_EQ(detectKind(json::parse(R"({"services":[]})")), ObjectKind::kConfig);
  EXPECT_EQ(detectKind(json::parse(R"({"routes":[]})")), ObjectKind::kConfig);
  EXPECT_EQ(detectKind(json::parse(R"({"listeners":[]})")), ObjectKind::kConfig);
  EXPECT_EQ(detectKind(json::parse(R"({"id":"r","split":[]})")), ObjectKind::kRoute);
  EXPECT_EQ(detectKind(json::parse(R"({"id":"r","match":{}})")), ObjectKind::kRoute);
  EXPECT_EQ(detectKind(json::parse(R"({"name":"s","endpoints":[]})")), ObjectKind::kService);
  EXPECT_EQ(detectKind(json::parse(R"({"name":"s","lb":"random"})")), ObjectKind::kService);
  EXPECT_EQ(detectKind(json::parse(R"({"name":"s"})")), ObjectKind::kService);
  EXPECT_EQ(detectKind(json::parse(R"({"id":"r"})")), ObjectKind::kRoute);
  EXPECT_EQ(detectKind(json::parse(R"({"other":1})")), ObjectKind::kUnknown);
  EXPECT_EQ(detectKind(json::parse(R"([1])")), ObjectKind::kUnknown);
  EXPECT_EQ(detectKind(json("text")), ObjectKind::kUnknown);
}

TEST(CtlDocument, JsonStaysExact) {
  json doc = one(R"({"name":"s","endpoints":[{"address":"a:1","version":"1","weight":2}]})");
  EXPECT_EQ(doc["endpoints"][0]["version"], "1");
  EXPECT_EQ(doc["endpoints"][0]["weight"], 2);
}

TEST(CtlDocument, YamlScalarsAreTypedLikeTheServerReadsThem) {
  json doc = one(R"(
name: web
lb: round_robin
endpoints:
  - {address: "127.0.0.1:9091", version: 1, weight: 5}
  - {address: host:80, version: v2, weight: "5"}
health_check: {type: http, path: /healthz, interval_ms: 2000, enabled: true}
)");
  const json& e0 = doc["endpoints"][0];
  EXPECT_EQ(e0["address"], "127.0.0.1:9091");
  EXPECT_EQ(e0["version"], "1");  // a text field stays text
  EXPECT_EQ(e0["weight"], 5);
  EXPECT_EQ(doc["endpoints"][1]["weight"], "5");  // quoted: text, as in JSON
  EXPECT_EQ(doc["health_check"]["interval_ms"], 2000);
  EXPECT_EQ(doc["health_check"]["enabled"], true);
  EXPECT_EQ(doc["health_check"]["path"], "/healthz");
}

TEST(CtlDocument, YamlRouteFields) {
  json doc = one(R"(
id: 7
priority: -3
match: {headers: {X-Id: 123, X-Flag: true}, cookies: {user: null}}
split: [{service: 1, weight: 90}]
retries: {attempts: 2, on: [5xx, connect-failure]}
faults:
  - {delay: {seconds: 3.5, percent: 100}}
  - {abort: {status: drop}}
  - {abort: {status: 503}}
empty:
)");
  EXPECT_EQ(doc["id"], "7");
  EXPECT_EQ(doc["priority"], -3);
  EXPECT_EQ(doc["match"]["headers"]["X-Id"], "123");
  EXPECT_EQ(doc["match"]["headers"]["X-Flag"], "true");
  EXPECT_EQ(doc["split"][0]["service"], "1");
  EXPECT_EQ(doc["retries"]["on"][0], "5xx");
  EXPECT_DOUBLE_EQ(doc["faults"][0]["delay"]["seconds"].get<double>(), 3.5);
  EXPECT_EQ(doc["faults"][1]["abort"]["status"], "drop");
  EXPECT_EQ(doc["faults"][2]["abort"]["status"], 503);
  EXPECT_TRUE(doc["empty"].is_null());
}

TEST(CtlDocument, HugeIntegersAndOddFloatsStayText) {
  json doc = one("a: 99999999999999999999\nb: .inf\nc: 1e3\nd: 0x10\n");
  EXPECT_EQ(doc["a"], "99999999999999999999");
  EXPECT_EQ(doc["b"], ".inf");
  EXPECT_DOUBLE_EQ(doc["c"].get<double>(), 1000.0);
  EXPECT_EQ(doc["d"], "0x10");
}

TEST(CtlDocument, YamlFlowMapThatIsNotJson) {
  json doc = one("{name: web, lb: random}");
  EXPECT_EQ(doc["name"], "web");
}

TEST(CtlDocument, SeveralYamlDocuments) {
  std::vector<json> docs;
  std::string error;
  ASSERT_TRUE(parseDocuments("name: a\nlb: random\n---\n---\nid: r\nsplit: []\n", docs, error));
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs[1]["id"], "r");
}

TEST(CtlDocument, SyntaxErrorNamesTheLine) {
  std::vector<json> docs;
  std::string error;
  EXPECT_FALSE(parseDocuments("name: a\nendpoints: [\n  {address: x\n", docs, error));
  EXPECT_NE(error.find("line "), std::string::npos) << error;
  EXPECT_FALSE(parseDocuments("{\"name\": ", docs, error));
  EXPECT_FALSE(error.empty());
}

TEST(CtlDocument, NonScalarKeyIsAnError) {
  std::vector<json> docs;
  std::string error;
  EXPECT_FALSE(parseDocuments("? [a, b]\n: 1\n", docs, error));
  EXPECT_NE(error.find("key"), std::string::npos) << error;
}

TEST(CtlDocument, ConfigItemsServicesFirst) {
  json config = json::parse(R"({"routes":[{"id":"r1","split":[{"service":"b"}]}],
      "services":[{"name":"a","endpoints":[]},{"name":"b","endpoints":[]}],
      "listeners":[]})");
  json route = json::parse(R"({"id":"r0","split":[{"service":"a"}]})");
  json service = json::parse(R"({"name":"c","endpoints":[]})");
  std::vector<ApplyItem> items;
  std::string error;
  ASSERT_TRUE(collectItems({route, config, service}, items, error)) << error;
  std::vector<std::string> names;
  for (const ApplyItem& item : items) names.push_back(item.name);
  EXPECT_EQ(names, (std::vector<std::string>{"a", "b", "c", "r0", "r1"}));
  EXPECT_EQ(items[0].kind, ObjectKind::kService);
  EXPECT_EQ(items[4].kind, ObjectKind::kRoute);
  EXPECT_EQ(items[4].body, config["routes"][0]);
}

TEST(CtlDocument, ListOfObjects) {
  std::vector<ApplyItem> items;
  std::string error;
  ASSERT_TRUE(collectItems({json::parse(R"([{"id":"r","split":[]},{"name":"s","lb":"random"}])")},
                           items, error))
      << error;
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].name, "s");
}

TEST(CtlDocument, ItemErrors) {
  std::vector<ApplyItem> items;
  std::string error;
  EXPECT_FALSE(collectItems({json::parse(R"({"endpoints":[]})")}, items, error));
  EXPECT_NE(error.find("\"name\""), std::string::npos) << error;
  EXPECT_FALSE(collectItems({json::parse(R"({"split":[],"id":5})")}, items, error));
  EXPECT_FALSE(collectItems({json::parse(R"({"services":[{"lb":"random"}]})")}, items, error));
  EXPECT_NE(error.find("services[0]"), std::string::npos) << error;
  EXPECT_FALSE(collectItems({json::parse(R"({"routes":{"id":"r"}})")}, items, error));
  EXPECT_FALSE(collectItems({json::parse(R"({"colour":"red"})")}, items, error));
  EXPECT_NE(error.find("cannot tell"), std::string::npos);
}

}  // namespace
}  // namespace turnout::ctl
