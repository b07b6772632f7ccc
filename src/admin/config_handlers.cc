// /healthz, /readyz, /v1/config and /v1/changes.
#include <charconv>

#include "admin/api_support.h"
#include "admin/handlers.h"
#include "config/load.h"

namespace turnout::admin::handlers {
namespace {

constexpr size_t kMaxChangesPerPage = 1000;

}  // namespace

AdminResponse healthz(Context& ctx) {
  if (ctx.request.method != "GET" && ctx.request.method != "HEAD")
    return api::methodNotAllowed("GET, HEAD");
  return api::json(200, "{\"status\":\"ok\"}");
}

AdminResponse readyz(Context& ctx) {
  if (ctx.request.method != "GET" && ctx.request.method != "HEAD")
    return api::methodNotAllowed("GET, HEAD");
  const std::string revision = std::to_string(ctx.control.revision());
  if (ctx.options.draining && ctx.options.draining()) {
    return api::json(503, "{\"status\":\"draining\",\"revision\":" + revision + "}");
  }
  if (!ctx.options.ready || !ctx.options.ready()) {
    return api::json(503, "{\"status\":\"starting\"}");
  }
  if (!ctx.control.lastPublishPropagated()) {
    return api::json(503, "{\"status\":\"a worker has not taken revision " + revision +
                              " within 1 s\",\"revision\":" + revision + "}");
  }
  return api::json(200, "{\"status\":\"ready\",\"revision\":" + revision + "}");
}

AdminResponse config(Context& ctx) {
  const AdminRequest& request = ctx.request;
  if (request.method == "GET" || request.method == "HEAD") {
    // {"revision":N, ...the stored document's fields}: without "revision" the answer is a
    // document PUT takes back; the command line's catch-all routes are not part of it.
    const std::string body = config::toJson(ctx.control.storedConfig());
    std::string answer = "{\"revision\":" + std::to_string(ctx.control.revision());
    if (body.size() > 2)
      answer += "," + body.substr(1);
    else
      answer += "}";
    return api::json(200, std::move(answer));
  }
  if (request.method != "PUT") return api::methodNotAllowed("GET, HEAD, PUT");
  config::Format format;
  AdminResponse refusal;
  std::optional<uint64_t> if_match;
  if (!api::bodyFormat(request, format, refusal) || !api::ifMatch(request, if_match, refusal)) {
    return refusal;
  }
  route::Change change;
  change.kind = route::Change::Kind::kReplaceAll;
  const auto found =
      config::parseDocument(request.body, format, config::Empty::kRefused, change.all);
  if (!found.empty()) return api::errors(400, found);
  return api::applied(ctx.control.apply(std::move(change), if_match, "api"), 200, "", "");
}

AdminResponse changes(Context& ctx) {
  if (ctx.request.method != "GET") return api::methodNotAllowed("GET");
  bool has_since = false;
  const std::string since_text = api::queryParam(ctx.request.query, "since", &has_since);
  uint64_t since = 0;
  if (has_since) {
    auto [end, ec] =
        std::from_chars(since_text.data(), since_text.data() + since_text.size(), since);
    if (ec != std::errc() || end != since_text.data() + since_text.size() || since_text.empty()) {
      return api::error(400, "since must be a revision number", "since");
    }
  }
  std::vector<store::ChangeRecord> records;
  bool truncated = false;
  std::string error;
  if (!ctx.control.changesSince(since, kMaxChangesPerPage, records, &truncated, error)) {
    return api::error(500, "cannot read the change log: " + error);
  }
  std::string body = "{\"revision\":" + std::to_string(ctx.control.revision()) +
                     ",\"truncated\":" + (truncated ? "true" : "false") + ",\"changes\":[";
  for (size_t i = 0; i < records.size(); ++i) {
    const auto& r = records[i];
    if (i > 0) body += ',';
    body += "{\"revision\":" + std::to_string(r.revision) +
            ",\"time_ms\":" + std::to_string(r.time_ms) + ",\"kind\":" + api::quote(r.kind) +
            ",\"name\":" + api::quote(r.name) + ",\"source\":" + api::quote(r.source) +
            ",\"object\":" + (r.object_json.empty() ? "null" : r.object_json) + "}";
  }
  body += "]";
  if (records.size() == kMaxChangesPerPage) {
    body += ",\"next_since\":" + std::to_string(records.back().revision);
  }
  body += "}";
  return api::json(200, std::move(body));
}

}  // namespace turnout::admin::handlers
