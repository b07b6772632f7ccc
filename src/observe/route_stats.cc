#include "observe/route_stats.h"

#include <array>
#include <map>
#include <nlohmann/json.hpp>
#include <utility>

namespace turnout::observe {
namespace {

using nlohmann::ordered_json;

constexpr std::array<const char*, 5> kClasses = {"1xx", "2xx", "3xx", "4xx", "5xx"};

struct RouteTotals {
  uint64_t requests = 0;
  std::array<uint64_t, kClasses.size()> classes{};
  std::array<uint64_t, kLatencyBuckets.size() + 1> buckets{};
  std::map<std::pair<std::string, std::string>, uint64_t> targets;  // (service, version)

  void add(const RouteSeries& series) {
    uint64_t answered = 0;
    for (size_t slot = 0; slot < kCodeSlots; ++slot) {
      const uint64_t n = series.codes[slot].get();
      if (n == 0) continue;
      classes[static_cast<size_t>(codeClass(slot)[0] - '1')] += n;
      answered += n;
    }
    requests += answered;
    targets[{series.key.service, series.key.version}] += answered;
    for (size_t i = 0; i < buckets.size(); ++i) buckets[i] += series.request.bucket(i);
  }
};

ordered_json toJson(const std::string& route, const RouteTotals& totals) {
  ordered_json classes = ordered_json::object();
  for (size_t i = 0; i < kClasses.size(); ++i) classes[kClasses[i]] = totals.classes[i];
  ordered_json targets = ordered_json::array();
  for (const auto& [target, requests] : totals.targets) {
    targets.push_back(
        {{"service", target.first}, {"version", target.second}, {"requests", requests}});
  }
  return {{"route", route},
          {"requests", totals.requests},
          {"classes", std::move(classes)},
          {"duration_buckets", totals.buckets},
          {"targets", std::move(targets)}};
}

}  // namespace

void renderRouteStatsJson(const std::vector<const WorkerMetrics*>& workers, std::string& out) {
  std::map<std::string, RouteTotals> by_route;  // sorted by id, "" (no route) first
  for (const WorkerMetrics* worker : workers) {
    worker->forEachSeries(
        [&](const RouteSeries& series) { by_route[series.key.route].add(series); });
  }
  ordered_json routes = ordered_json::array();
  for (const auto& [route, totals] : by_route) routes.push_back(toJson(route, totals));
  const ordered_json body{{"bounds", kLatencyBuckets}, {"routes", std::move(routes)}};
  // Names come from validated configuration; replacing bad UTF-8 keeps the answer valid JSON
  // whatever a future source lets through.
  out += body.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
}

}  // namespace turnout::observe
