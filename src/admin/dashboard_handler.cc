// GET / and /dashboard: the dashboard page. It is a shell with no data in it: its script reads
// /v1/config, /v1/status, /v1/stats and /v1/changes with the token the user gives it, so the
// page itself is served to anyone who can reach the admin listener.
#include <string_view>

#include "admin/api_support.h"
#include "admin/dashboard_page.h"
#include "admin/handlers.h"

namespace turnout::admin::handlers {
namespace {

// The page loads nothing from anywhere: its script and style are inline, and it talks only to
// the admin listener that served it.
constexpr std::string_view kContentSecurityPolicy =
    "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'unsafe-inline'; "
    "connect-src 'self'; img-src data:";

}  // namespace

bool isDashboardPath(std::string_view path) { return path == "/" || path == "/dashboard"; }

bool isPublicRead(const AdminRequest& request) {
  return isDashboardPath(request.path) && (request.method == "GET" || request.method == "HEAD");
}

AdminResponse dashboard(Context& ctx) {
  if (!isPublicRead(ctx.request)) return api::methodNotAllowed("GET, HEAD");
  AdminResponse response;
  response.content_type = "text/html; charset=utf-8";
  response.body.assign(dashboardPage());
  response.headers.emplace_back("Content-Security-Policy", std::string(kContentSecurityPolicy));
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  response.headers.emplace_back("X-Frame-Options", "DENY");
  response.headers.emplace_back("Referrer-Policy", "no-referrer");
  return response;
}

}  // namespace turnout::admin::handlers
