#include "ctl/yaml_out.h"

#include <gtest/gtest.h>

#include <sstream>

#include "ctl/document.h"

namespace turnout::ctl {
namespace {

using nlohmann::json;

std::string yaml(const json& v) {
  std::ostringstream out;
  writeYaml(out, v);
  return out.str();
}

TEST(CtlYamlOut, BlockStyle) {
  json service = json::parse(R"({"name":"web","lb":"round_robin","endpoints":[
      {"address":"127.0.0.1:9091","version":"v1","weight":1}],"health_check":{},"tags":[]})");
  EXPECT_EQ(yaml(service),
            "endpoints:\n"
            "- address: 127.0.0.1:9091\n"
            "  version: v1\n"
            "  weight: 1\n"
            "health_check: {}\n"
            "lb: round_robin\n"
            "name: web\n"
            "tags: []\n");
}

TEST(CtlYamlOut, QuotesWhatYamlWouldMisread) {
  EXPECT_EQ(yaml(json{{"v", "1"}}), "v: \"1\"\n");
  EXPECT_EQ(yaml(json{{"v", "true"}}), "v: \"true\"\n");
  EXPECT_EQ(yaml(json{{"v", "null"}}), "v: \"null\"\n");
  EXPECT_EQ(yaml(json{{"v", ""}}), "v: \"\"\n");
  EXPECT_EQ(yaml(json{{"v", "*.example.com"}}), "v: \"*.example.com\"\n");
  EXPECT_EQ(yaml(json{{"v", "^qa-"}}), "v: ^qa-\n");
  EXPECT_EQ(yaml(json{{"v", "a: b"}}), "v: \"a: b\"\n");
  EXPECT_EQ(yaml(json{{"v", "line\nbreak"}}), "v: \"line\\nbreak\"\n");
  EXPECT_EQ(yaml(json{{"v", nullptr}}), "v: null\n");
  EXPECT_EQ(yaml(json{{"v", 2.5}}), "v: 2.5\n");
}

TEST(CtlYamlOut, NestedLists) {
  EXPECT_EQ(yaml(json::parse(R"({"a":[[1,2],[]]})")), "a:\n-\n  - 1\n  - 2\n- []\n");
  EXPECT_EQ(yaml(json::array()), "[]\n");
  EXPECT_EQ(yaml(json("x")), "x\n");
}

TEST(CtlYamlOut, RoundTripsThroughApplyParsing) {
  json route = json::parse(R"({"id":"hello","priority":10,
      "match":{"host":"*.example.com","path_prefix":"/api/","headers":{"X-User":"^qa-","N":"5"}},
      "split":[{"service":"web","version":"1","weight":90},{"service":"web","version":"v2","weight":10}],
      "faults":[{"delay":{"seconds":3.5,"percent":100}},{"abort":{"status":"drop"}}],
      "sticky":null,"rewrite":{"strip_prefix":true}})");
  std::vector<json> docs;
  std::string error;
  ASSERT_TRUE(parseDocuments(yaml(route), docs, error)) << error << "\n" << yaml(route);
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_EQ(docs[0], route) << yaml(route);
}

}  // namespace
}  // namespace turnout::ctl
