// The dashboard's per-route totals: shards merged by route over services, versions and workers.
#include "observe/route_stats.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <numeric>
#include <string>

namespace turnout::observe {
namespace {

using nlohmann::json;

json render(const std::vector<const WorkerMetrics*>& workers) {
  std::string out;
  renderRouteStatsJson(workers, out);
  return json::parse(out);
}

TEST(RouteStatsTest, NoSeriesGivesBoundsAndNoRoutes) {
  WorkerMetrics idle;
  const json stats = render({&idle});
  ASSERT_EQ(stats["bounds"].size(), kLatencyBuckets.size());
  EXPECT_DOUBLE_EQ(stats["bounds"][0].get<double>(), 0.0001);
  EXPECT_DOUBLE_EQ(stats["bounds"].back().get<double>(), 60.0);
  EXPECT_EQ(stats["routes"], json::array());
}

TEST(RouteStatsTest, MergesWorkersServicesAndVersionsByRoute) {
  WorkerMetrics one, two;
  RouteSeries* web_v1 = one.series("web", "app", "v1");
  RouteSeries* web_v2 = two.series("web", "app", "v2");
  RouteSeries* web_v1_again = two.series("web", "app", "v1");
  RouteSeries* api = one.series("api", "backend", "");
  web_v1->codes[codeSlot(200)].add(3);
  web_v1_again->codes[codeSlot(204)].add(1);
  web_v1_again->codes[codeSlot(418)].add(1);  // an untracked code still counts in its class
  web_v2->codes[codeSlot(503)].add(2);
  web_v1->request.observe(80);    // first bucket (<= 100 us)
  web_v2->request.observe(3000);  // 3 ms: the "<= 5 ms" bucket
  web_v1_again->request.observe(3000);
  web_v1->request.observe(90'000'000);  // over 60 s: +Inf
  web_v1->upstream.observe(3000);       // not a request duration: not in the buckets
  api->codes[codeSlot(200)].add(1);

  const json stats = render({&one, &two});
  ASSERT_EQ(stats["routes"].size(), 2u);
  EXPECT_EQ(stats["routes"][0]["route"], "api");  // sorted by id
  const json& web = stats["routes"][1];
  EXPECT_EQ(web["route"], "web");
  EXPECT_EQ(web["requests"], 7);
  EXPECT_EQ(web["classes"], (json{{"1xx", 0}, {"2xx", 4}, {"3xx", 0}, {"4xx", 1}, {"5xx", 2}}));
  const auto buckets = web["duration_buckets"].get<std::vector<uint64_t>>();
  ASSERT_EQ(buckets.size(), kLatencyBuckets.size() + 1);
  EXPECT_EQ(buckets[0], 1u);
  EXPECT_EQ(buckets[5], 2u);  // le 0.005
  EXPECT_EQ(buckets.back(), 1u);
  EXPECT_EQ(std::accumulate(buckets.begin(), buckets.end(), uint64_t{0}), 4u);
  EXPECT_EQ(web["targets"],
            (json::array({{{"service", "app"}, {"version", "v1"}, {"requests", 5}},
                          {{"service", "app"}, {"version", "v2"}, {"requests", 2}}})));
}

TEST(RouteStatsTest, RequestsThatMatchedNoRouteAreTheEmptyRoute) {
  WorkerMetrics worker;
  worker.series("", "", "")->codes[codeSlot(404)].add(4);
  worker.series("web", "app", "v1")->codes[codeSlot(200)].add(1);
  const json stats = render({&worker});
  ASSERT_EQ(stats["routes"].size(), 2u);
  EXPECT_EQ(stats["routes"][0]["route"], "");
  EXPECT_EQ(stats["routes"][0]["requests"], 4);
  EXPECT_EQ(stats["routes"][0]["classes"]["4xx"], 4);
}

TEST(RouteStatsTest, NamesAreEscaped) {
  WorkerMetrics worker;
  worker.series("a\"b\\c\n", "s", "v")->codes[codeSlot(200)].add(1);
  const json stats = render({&worker});
  EXPECT_EQ(stats["routes"][0]["route"], "a\"b\\c\n");
}

}  // namespace
}  // namespace turnout::observe
