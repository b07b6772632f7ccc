// The admin API's resource handlers, one function per path shape. Private to the admin module.
#pragma once

#include <string>
#include <string_view>

#include "admin/admin_server.h"
#include "admin/api.h"
#include "control/control_plane.h"

namespace turnout::admin::handlers {

struct Context {
  const AdminRequest& request;
  control::ControlPlane& control;
  const ApiOptions& options;
};

AdminResponse healthz(Context& ctx);
AdminResponse readyz(Context& ctx);
AdminResponse config(Context& ctx);    // /v1/config
AdminResponse changes(Context& ctx);   // /v1/changes?since=REV
AdminResponse services(Context& ctx);  // /v1/services
AdminResponse service(Context& ctx, const std::string& name);
AdminResponse endpoints(Context& ctx, const std::string& name);
AdminResponse routes(Context& ctx);  // /v1/routes
AdminResponse route(Context& ctx, const std::string& id);
AdminResponse a8Admin(Context& ctx);  // /a8-admin (Amalgam8)
AdminResponse status(Context& ctx);   // /v1/status
AdminResponse stats(Context& ctx);    // /v1/stats (the dashboard's live numbers)
AdminResponse metrics(Context& ctx);  // /metrics
// The dashboard page at / and /dashboard. The page holds no data, so reading it needs no token.
bool isDashboardPath(std::string_view path);
bool isPublicRead(const AdminRequest& request);  // GET or HEAD of the page
AdminResponse dashboard(Context& ctx);
// /entries.json and /entries/{host}.json (seed 001); `path` is every decoded segment.
AdminResponse entries(Context& ctx, const std::vector<std::string>& path);

}  // namespace turnout::admin::handlers
