// GET /v1/stats: the dashboard's live numbers. Totals since start per route (requests by status
// class, request-duration buckets, requests per split target), stamped with the server's clock
// so the page can divide the difference of two answers by the time between them.
#include <chrono>
#include <string>

#include "admin/api_support.h"
#include "admin/handlers.h"
#include "observe/route_stats.h"

namespace turnout::admin::handlers {

AdminResponse stats(Context& ctx) {
  if (ctx.request.method != "GET" && ctx.request.method != "HEAD") {
    return api::methodNotAllowed("GET, HEAD");
  }
  const auto now = std::chrono::system_clock::now();
  const auto now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const double uptime_s = std::chrono::duration<double>(now - ctx.options.started_at).count();
  std::string routes;
  observe::renderRouteStatsJson(ctx.options.worker_metrics, routes);
  // The route stats are one JSON object: open it, then splice its members in after ours.
  std::string body = "{\"now_ms\":" + std::to_string(now_ms) +
                     ",\"revision\":" + std::to_string(ctx.control.revision()) +
                     ",\"uptime_s\":" + std::to_string(uptime_s) + ",";
  body.append(routes, 1);
  return api::json(200, std::move(body));
}

}  // namespace turnout::admin::handlers
