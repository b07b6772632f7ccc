// Per-route request totals as JSON, for the dashboard (GET /v1/stats). The same shards as
// /metrics, merged by route (over services, versions and workers): the page polls it and turns
// the differences between two answers into requests per second, error rate and p99.
#pragma once

#include <string>
#include <vector>

#include "observe/metrics.h"

namespace turnout::observe {

// Writes {"bounds":[0.0001,...,60],"routes":[{"route","requests","classes":{"1xx".."5xx"},
// "duration_buckets":[one per bound, then +Inf; not cumulative],"targets":[{"service",
// "version","requests"}]}]}, routes sorted by id. Requests that matched no route are the
// route "". Counters only grow, so a reader can subtract two answers.
void renderRouteStatsJson(const std::vector<const WorkerMetrics*>& workers, std::string& out);

}  // namespace turnout::observe
