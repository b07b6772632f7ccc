// The compat APIs of the seeds, on the admin listener: Amalgam8's /a8-admin. They answer in
// their originals' formats (plain-text errors, empty 200s), not the /v1 JSON envelope, so
// existing scripts keep working.
#include "admin/api_support.h"
#include "admin/handlers.h"
#include "compat/amalgam8.h"

namespace turnout::admin::handlers {
namespace {

AdminResponse text(int status, std::string body) {
  AdminResponse response;
  response.status = status;
  response.content_type = "text/plain; charset=utf-8";
  response.body = std::move(body);
  if (!response.body.empty() && response.body.back() != '\n') response.body += '\n';
  return response;
}

std::string firstError(const control::ApplyResult& result) {
  if (result.errors.empty()) return "status " + std::to_string(result.status);
  const config::Error& error = result.errors.front();
  return error.field.empty() ? error.message : error.field + ": " + error.message;
}

}  // namespace

// POST/PUT replace every a8-owned object at once (the original flushed its state, then loaded
// the payload: a full snapshot, not a delta); GET shows them. The original's 500 for invalid
// content was a bug (the client sent it): here it is a 400 and nothing changes.
AdminResponse a8Admin(Context& ctx) {
  const AdminRequest& request = ctx.request;
  const std::string owner(compat::kA8Owner);
  if (request.method == "GET" || request.method == "HEAD") {
    return api::json(200, compat::renderA8State(ctx.control.ownedBy(owner)));
  }
  if (request.method != "POST" && request.method != "PUT") {
    AdminResponse refusal = text(400, "method not allowed: use GET, POST or PUT");
    refusal.headers.emplace_back("Allow", "GET, HEAD, POST, PUT");
    return refusal;
  }
  compat::A8Objects objects;
  std::string error;
  switch (compat::translateA8(request.body, ctx.control.identity(), objects, error)) {
    case compat::A8Parse::kBadJson:
      return text(400, "error decoding input json: " + error);
    case compat::A8Parse::kInvalid:
      return text(400, "error updating internal state: " + error);
    case compat::A8Parse::kOk:
      break;
  }
  control::ApplyResult result = ctx.control.replaceOwned(owner, std::move(objects.services),
                                                         std::move(objects.routes), "a8-admin");
  if (result.status != 200) {
    return text(result.status, "error updating internal state: " + firstError(result));
  }
  return text(200, "");
}

}  // namespace turnout::admin::handlers
