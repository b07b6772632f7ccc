#include "ctl/render.h"

#include <gtest/gtest.h>

#include <sstream>

#include "ctl/table.h"

namespace turnout::ctl {
namespace {

using nlohmann::json;

TEST(CtlTable, AlignsColumnsAndTrimsTrailingSpaces) {
  std::ostringstream out;
  writeTable(out, {"NAME", "LB"}, {{"a", "round_robin"}, {"longer-name", "x"}});
  EXPECT_EQ(out.str(),
            "NAME          LB\n"
            "a             round_robin\n"
            "longer-name   x\n");
}

TEST(CtlTable, ShortRowsAndNonAsciiWidths) {
  std::ostringstream out;
  writeTable(out, {"A", "B", "C"}, {{"é"}, {"xy", "1", "2"}});
  EXPECT_EQ(out.str(),
            "A    B   C\n"
            "é\n"
            "xy   1   2\n");
}

TEST(CtlRender, EmptyListGivesOnlyTheHeader) {
  std::ostringstream out;
  writeServicesTable(out, json::array());
  EXPECT_EQ(out.str(), "NAME   LB   ENDPOINTS   VERSIONS\n");
}

TEST(CtlRender, ServiceRow) {
  json s = json::parse(R"({"name":"web","lb":"round_robin","endpoints":[
      {"address":"127.0.0.1:1","version":"v1"},{"address":"127.0.0.1:2","version":"v2"},
      {"address":"127.0.0.1:3","version":"v1"}]})");
  EXPECT_EQ(serviceRow(s), (Row{"web", "round_robin", "3", "v1,v2"}));
  EXPECT_EQ(serviceRow(json::parse(R"({"name":"x","endpoints":[{"address":"a:1"}]})")),
            (Row{"x", "-", "1", "-"}));
  EXPECT_EQ(serviceRow(json("junk")), (Row{"-", "-", "0", "-"}));
}

TEST(CtlRender, RouteRow) {
  json r = json::parse(R"({"id":"hello","priority":10,
      "match":{"host":"*.example.com","path_prefix":"/api"},
      "split":[{"service":"web","version":"v1","weight":90},
               {"service":"web","version":"v2","weight":10}]})");
  EXPECT_EQ(routeRow(r), (Row{"hello", "10", "*.example.com", "/api", "web:v1=90,web:v2=10"}));
  EXPECT_EQ(routeRow(json::parse(R"({"id":"all","split":[{"service":"web"}]})")),
            (Row{"all", "0", "*", "*", "web"}));
}

TEST(CtlRender, RoutesTable) {
  std::ostringstream out;
  writeRoutesTable(out, json::parse(R"([{"id":"a","priority":1,"match":{"path_prefix":"/"},
                                         "split":[{"service":"s"}]}])"));
  EXPECT_EQ(out.str(),
            "ID   PRIORITY   HOST   PATH   SPLIT\n"
            "a    1          *      /      s\n");
}

TEST(CtlRender, ChangeRowAndTime) {
  json c = json::parse(R"({"revision":7,"time_ms":1700000000123,"kind":"upsert_route",
                           "name":"hello","source":"api","object":null})");
  EXPECT_EQ(changeRow(c), (Row{"7", "2023-11-14T22:13:20.123Z", "upsert_route", "hello", "api"}));
  json all = json::parse(R"({"revision":1,"kind":"replace_all","source":"config-file"})");
  EXPECT_EQ(changeRow(all), (Row{"1", "-", "replace_all", "-", "config-file"}));
  EXPECT_EQ(formatTimeMs(0), "1970-01-01T00:00:00.000Z");
}

}  // namespace
}  // namespace turnout::ctl
