#include "admin/api.h"

#include <algorithm>
#include <string_view>

#include "admin/api_support.h"
#include "admin/handlers.h"

namespace turnout::admin {
namespace {

// Compares without an early exit, so the time taken says nothing about the token.
bool constantTimeEquals(std::string_view a, std::string_view b) {
  unsigned char diff = static_cast<unsigned char>(a.size() != b.size());
  const size_t n = std::max(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

// "/v1/services/a%2Fb/endpoints" -> {"v1", "services", "a/b", "endpoints"}; false if an escape
// is malformed.
bool splitPath(std::string_view path, std::vector<std::string>& segments) {
  while (!path.empty()) {
    if (path.front() == '/') {
      path.remove_prefix(1);
      continue;
    }
    const size_t slash = path.find('/');
    std::string decoded;
    if (!api::percentDecode(path.substr(0, slash), decoded)) return false;
    segments.push_back(std::move(decoded));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash);
  }
  return true;
}

}  // namespace

AdminApi::AdminApi(control::ControlPlane& control, ApiOptions options)
    : control_(control), options_(std::move(options)) {}

AdminResponse AdminApi::handle(const AdminRequest& request) {
  AdminResponse response = dispatch(request);
  // A refused change counts where it is answered, whichever layer refused it. An
  // unauthenticated caller asked for nothing.
  const bool write = request.method == "POST" || request.method == "PUT" ||
                     request.method == "PATCH" || request.method == "DELETE";
  if (write && response.status >= 400 && response.status < 500 && response.status != 401) {
    control_.countRejected();
  }
  response.headers.emplace_back("ETag", "\"" + std::to_string(control_.revision()) + "\"");
  response.headers.emplace_back("Cache-Control", "no-store");
  return response;
}

AdminResponse AdminApi::dispatch(const AdminRequest& request) {
  if (handlers::isPublicRead(request)) {
    handlers::Context ctx{request, control_, options_};
    return handlers::dashboard(ctx);
  }
  if (!options_.token.empty()) {
    const std::string expected = "Bearer " + options_.token;
    if (!constantTimeEquals(request.header("authorization"), expected)) {
      AdminResponse refusal = api::error(401, "missing or wrong bearer token");
      refusal.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"turnout\"");
      return refusal;
    }
  }
  std::vector<std::string> path;
  if (!splitPath(request.path, path)) return api::error(400, "malformed percent-escape in path");
  handlers::Context ctx{request, control_, options_};
  if (handlers::isDashboardPath(request.path)) return handlers::dashboard(ctx);  // 405s
  if (path.size() == 1 && path[0] == "healthz") return handlers::healthz(ctx);
  if (path.size() == 1 && path[0] == "readyz") return handlers::readyz(ctx);
  if (path.size() == 1 && path[0] == "a8-admin") return handlers::a8Admin(ctx);
  if (path.size() == 1 && path[0] == "metrics") return handlers::metrics(ctx);
  if (!path.empty() && (path[0] == "entries.json" || path[0] == "entries")) {
    return handlers::entries(ctx, path);
  }
  if (path.empty() || path[0] != "v1")
    return api::error(404, "no such admin path: " + request.path);
  if (path.size() == 2 && path[1] == "config") return handlers::config(ctx);
  if (path.size() == 2 && path[1] == "changes") return handlers::changes(ctx);
  if (path.size() == 2 && path[1] == "status") return handlers::status(ctx);
  if (path.size() == 2 && path[1] == "stats") return handlers::stats(ctx);
  if (path.size() == 2 && path[1] == "services") return handlers::services(ctx);
  if (path.size() == 3 && path[1] == "services") return handlers::service(ctx, path[2]);
  if (path.size() == 4 && path[1] == "services" && path[3] == "endpoints") {
    return handlers::endpoints(ctx, path[2]);
  }
  if (path.size() == 2 && path[1] == "routes") return handlers::routes(ctx);
  if (path.size() == 3 && path[1] == "routes") return handlers::route(ctx, path[2]);
  return api::error(404, "no such admin path: " + request.path);
}

}  // namespace turnout::admin
