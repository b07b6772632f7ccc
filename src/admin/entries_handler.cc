// Seed 001's REST API (robinmonjo/ngx_http_l, reference seed-behaviours.md §2.2) on the admin
// listener: host -> backend entries, kept as native services and routes owned by "entries".
//
//   GET    /entries.json          [{"host":"a.com","backend":"10.0.0.1:80"}, ...] sorted by host
//   POST   /entries.json          {"host":"a.com","backend":"10.0.0.1:80"}: upsert, echoed back
//   DELETE /entries/{host}.json   {"status":"ok"}, also when the host has no entry
//
// Answers keep the original's shapes so its scripts keep working; errors use the /v1 JSON
// envelope. Unlike the original, a refused body (422) changes nothing.
#include <algorithm>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "admin/api_support.h"
#include "admin/handlers.h"
#include "config/address.h"

namespace turnout::admin::handlers {
namespace {

using nlohmann::json;

constexpr std::string_view kOwner = "entries";
constexpr std::string_view kSource = "entries-api";
constexpr std::string_view kSuffix = ".json";
constexpr size_t kMaxHostLength = 253;  // RFC 1035 name length, dots included

// host -> backend; std::map keeps GET's answer sorted by host.
using Entries = std::map<std::string, std::string>;

// Read-modify-write of the whole entry set: two writers interleaving would drop one's entry,
// and the admin listener serves connections concurrently.
std::mutex& writeMutex() {
  static std::mutex mutex;
  return mutex;
}

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lowerCopy(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = lower(c);
  return out;
}

// The entries as stored: each one is a service named after its host whose first endpoint is
// the backend (the route only points at it).
Entries currentEntries(const control::ControlPlane& control) {
  Entries entries;
  for (const config::Service& service : control.ownedBy(std::string(kOwner)).services) {
    entries[service.name] = service.endpoints.empty() ? "" : service.endpoints.front().address;
  }
  return entries;
}

config::Service entryService(const std::string& host, const std::string& backend) {
  config::Service service;
  service.name = host;
  service.lb = "round_robin";
  service.endpoints.push_back(config::Endpoint{backend, "", 1});
  service.owner = std::string(kOwner);
  return service;
}

// Every path on the host goes to the entry's backend, as nginx's `location /` did.
config::Route entryRoute(const std::string& host) {
  config::Route route;
  route.id = host;
  route.match.host = host;
  route.split.push_back(config::SplitTarget{host, "", 1, {}});
  route.owner = std::string(kOwner);
  return route;
}

// Replaces every entries-owned object with `entries`, in one atomic, persisted change.
control::ApplyResult store(control::ControlPlane& control, const Entries& entries) {
  std::vector<config::Service> services;
  std::vector<config::Route> routes;
  for (const auto& [host, backend] : entries) {
    services.push_back(entryService(host, backend));
    routes.push_back(entryRoute(host));
  }
  return control.replaceOwned(std::string(kOwner), std::move(services), std::move(routes), kSource);
}

// Keys in the original's order (its Go struct wrote host, then backend).
nlohmann::ordered_json entryJson(const std::string& host, const std::string& backend) {
  return {{"host", host}, {"backend", backend}};
}

AdminResponse list(const control::ControlPlane& control) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const auto& [host, backend] : currentEntries(control))
    out.push_back(entryJson(host, backend));
  return api::json(200, out.dump());
}

// A host name as a Host header carries it: dot-separated labels of letters, digits and '-'
// (not at either end of a label). No port (matching ignores the request's port, so it could
// never match) and no wildcard (an entry is one host).
bool validHost(std::string_view host, std::string& why) {
  if (host.empty() || host.size() > kMaxHostLength) {
    why = "must be a host name of 1 to 253 characters";
    return false;
  }
  if (host.find(':') != std::string_view::npos) {
    why = "must not include a port";
    return false;
  }
  if (host.find('*') != std::string_view::npos) {
    why = "must be one host: wildcards are not supported here";
    return false;
  }
  if (config::isDnsName(host, /*trailing_dot=*/false)) return true;
  why =
      "must be a host name such as \"some.host.com\": labels of 1 to 63 letters, digits "
      "or '-', separated by dots";
  return false;
}

// IP:PORT, [IPv6]:PORT or NAME:PORT (DNS names are resolved at run time); a bare host or IP
// ("www.apple.com", the original's own example) means port 80, as nginx's proxy_pass read it.
// `backend` comes back with its port.
bool validBackend(std::string& backend, std::string& why) {
  backend = config::withDefaultPort(backend, 80);
  if (config::checkEndpointAddress(backend, &why)) return true;
  why = "must be IP:PORT, [IPv6]:PORT or NAME:PORT: " + why;
  return false;
}

// The value of `key` if it is a string; a 422 in `refusal` otherwise.
bool stringField(const json& body, const char* key, std::string& out, AdminResponse& refusal) {
  auto it = body.find(key);
  if (it == body.end()) {
    refusal = api::error(422, "missing: the body needs both host and backend", key);
    return false;
  }
  if (!it->is_string()) {
    refusal = api::error(422, "must be a string", key);
    return false;
  }
  out = it->get<std::string>();
  return true;
}

// "[json.exception.parse_error.101] parse error at line 1, ..." -> "parse error at line 1, ...".
std::string parseReason(const json::exception& error) {
  std::string_view what = error.what();
  if (const size_t close = what.find("] "); what.starts_with("[") && close != what.npos) {
    what.remove_prefix(close + 2);
  }
  return std::string(what);
}

// Decodes {"host": ..., "backend": ...} with nothing else in it. False with a 422 in `refusal`.
bool decodeEntry(std::string_view text, std::string& host, std::string& backend,
                 AdminResponse& refusal) {
  json body;
  try {
    body = json::parse(text);
  } catch (const json::exception& e) {
    refusal = api::error(422, "the body is not valid JSON: " + parseReason(e));
    return false;
  }
  if (!body.is_object()) {
    refusal = api::error(422, "the body must be an object {\"host\": ..., \"backend\": ...}");
    return false;
  }
  for (const auto& [key, value] : body.items()) {
    if (key != "host" && key != "backend") {
      refusal = api::error(422, "unknown field: only host and backend are allowed", key);
      return false;
    }
  }
  return stringField(body, "host", host, refusal) && stringField(body, "backend", backend, refusal);
}

// Decodes and checks an entry; the host comes back lowercased, as matching compares hosts.
// False with a 422 in `refusal`.
bool parseEntry(std::string_view text, std::string& host, std::string& backend,
                AdminResponse& refusal) {
  if (!decodeEntry(text, host, backend, refusal)) return false;
  std::string why;
  if (!validHost(host, why)) {
    refusal = api::error(422, why, "host");
    return false;
  }
  if (!validBackend(backend, why)) {
    refusal = api::error(422, why, "backend");
    return false;
  }
  host = lowerCopy(host);
  return true;
}

// The body is read as JSON whatever its Content-Type: the original's README posts with
// `curl -d`, which says application/x-www-form-urlencoded.
AdminResponse upsert(Context& ctx) {
  std::string host, backend;
  AdminResponse refusal;
  if (!parseEntry(ctx.request.body, host, backend, refusal)) return refusal;
  std::lock_guard<std::mutex> lock(writeMutex());
  Entries entries = currentEntries(ctx.control);
  entries[host] = backend;
  control::ApplyResult result = store(ctx.control, entries);
  if (result.status >= 400) return api::errors(result.status, result.errors);
  return api::json(200, entryJson(host, backend).dump());
}

// An absent host is a 200 too, as in the original: the caller wanted it gone, and it is.
AdminResponse remove(Context& ctx, const std::string& host) {
  std::lock_guard<std::mutex> lock(writeMutex());
  Entries entries = currentEntries(ctx.control);
  if (entries.erase(host) > 0) {
    control::ApplyResult result = store(ctx.control, entries);
    if (result.status >= 400) return api::errors(result.status, result.errors);
  }
  return api::json(200, "{\"status\":\"ok\"}");
}

AdminResponse collection(Context& ctx) {
  const std::string& method = ctx.request.method;
  if (method == "GET" || method == "HEAD") return list(ctx.control);
  if (method == "POST") return upsert(ctx);
  return api::methodNotAllowed("GET, HEAD, POST");
}

// `file` is "{host}.json", already percent-decoded by the dispatcher: exactly once, so it is
// not decoded again here.
AdminResponse member(Context& ctx, const std::string& file) {
  if (file.size() <= kSuffix.size() || !file.ends_with(kSuffix)) {
    return api::error(404, "no such admin path: " + ctx.request.path);
  }
  if (ctx.request.method != "DELETE") return api::methodNotAllowed("DELETE");
  return remove(ctx, lowerCopy(std::string_view(file).substr(0, file.size() - kSuffix.size())));
}

}  // namespace

AdminResponse entries(Context& ctx, const std::vector<std::string>& path) {
  if (path.size() == 1 && path[0] == "entries.json") return collection(ctx);
  if (path.size() == 2 && path[0] == "entries") return member(ctx, path[1]);
  return api::error(404, "no such admin path: " + ctx.request.path);
}

}  // namespace turnout::admin::handlers
