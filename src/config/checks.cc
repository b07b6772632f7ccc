#include "config/checks.h"

#include <re2/re2.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <unordered_set>

#include "config/address.h"
#include "config/identity.h"
#include "config/load.h"

namespace turnout::config::checks {
namespace {

void add(std::vector<Error>& errors, std::string field, std::string message) {
  errors.push_back(Error{std::move(field), 0, std::move(message)});
}

bool isNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

// RFC 9110 token characters, for header names.
bool isTokenChar(char c) {
  return isNameChar(c) || std::string_view("!#$%&'*+^`|~").find(c) != std::string_view::npos;
}

bool isHostChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '-' || c == '_';
}

// Route hosts: "api.example.com", "*.example.com", "[::1]" (a literal IPv6 Host), one trailing
// dot allowed. A port is refused: matching strips the request's port, so it could never match.
bool validRouteHost(std::string_view host, std::string* why) {
  if (host.empty()) return true;
  if (host.front() == '[') {
    if (host.back() != ']') *why = "an IPv6 host must be written [addr], without a port";
    return host.back() == ']';
  }
  if (host.find(':') != std::string_view::npos) {
    *why = "must not include a port";
    return false;
  }
  std::string_view name = host;
  if (name.starts_with("*.")) name.remove_prefix(2);
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  bool ok = !name.empty() && name.front() != '.';
  for (char c : name) ok = ok && isHostChar(c);
  if (!ok) *why = "must be a host name (\"api.example.com\") or a wildcard (\"*.example.com\")";
  return ok;
}

template <size_t N>
bool isOneOf(std::string_view value, const std::array<std::string_view, N>& allowed) {
  for (std::string_view name : allowed) {
    if (value == name) return true;
  }
  return false;
}

// "must be one of: a, b, c"
template <size_t N>
std::string oneOfRule(const std::array<std::string_view, N>& allowed) {
  std::string rule = "must be one of: ";
  for (size_t i = 0; i < N; ++i) {
    if (i > 0) rule += ", ";
    rule += allowed[i];
  }
  return rule;
}

void checkRange(uint64_t value, int64_t min, int64_t max, const std::string& field,
                std::vector<Error>& errors) {
  if (static_cast<int64_t>(value) < min || static_cast<int64_t>(value) > max) {
    add(errors, field, rangeRule(min, max));
  }
}

constexpr std::array<std::string_view, 6> kBalancers = {"random",    "round_robin", "least_request",
                                                        "ring_hash", "maglev",      "ewma"};

// The balancers that read a service's hash policy.
bool hashesRequests(std::string_view lb) { return lb == "ring_hash" || lb == "maglev"; }

void checkLb(const std::string& lb, const std::string& path, std::vector<Error>& errors) {
  if (!isOneOf(lb, kBalancers)) add(errors, path, oneOfRule(kBalancers));
}

bool isTokenText(std::string_view text) {
  bool token = !text.empty();
  for (char c : text) token = token && isTokenChar(c);
  return token;
}

// What isTokenText accepts, for messages that name the rule.
constexpr const char* kTokenChars = "letters, digits and !#$%&'*+-.^_`|~";

// Goes into a request line or a header verbatim: nothing that would end or split it.
bool isVisibleText(std::string_view text) {
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte >= 0x7F) return false;
  }
  return true;
}

void checkStatusRanges(const std::vector<std::pair<uint16_t, uint16_t>>& ranges,
                       const std::string& path, std::vector<Error>& errors) {
  for (size_t i = 0; i < ranges.size(); ++i) {
    auto [lo, hi] = ranges[i];
    std::string field = path + "[" + std::to_string(i) + "]";
    if (lo < kMinStatus || hi > kMaxStatus) {
      add(errors, field, kStatusItemRule);
    } else if (lo > hi) {
      add(errors, field, "must be a range \"LO-HI\" with LO <= HI");
    }
  }
}

void checkHttpHealthCheck(const HealthCheck& check, const std::string& path,
                          std::vector<Error>& errors) {
  if (!check.path.starts_with('/') || !isVisibleText(check.path)) {
    add(errors, fieldPath(path, "path"),
        "must be a path starting with '/' (visible ASCII, no spaces)");
  }
  if (!isVisibleText(check.host)) {
    add(errors, fieldPath(path, "host"), "must be a Host header value (visible ASCII, no spaces)");
  }
  if (check.expected_statuses.empty()) {
    add(errors, fieldPath(path, "expected_statuses"),
        "must list at least one status or range for an http check");
  }
}

void checkHealthCheck(const HealthCheck& check, const std::string& path,
                      std::vector<Error>& errors) {
  static const HealthCheck kNone;
  if (check == kNone) return;
  // Settings without a type would silently check nothing: most likely a forgotten type.
  static constexpr std::array<std::string_view, 2> kTypes = {"http", "tcp"};
  if (!isOneOf(check.type, kTypes)) add(errors, fieldPath(path, "type"), oneOfRule(kTypes));
  if (check.type == "http") checkHttpHealthCheck(check, path, errors);
  checkStatusRanges(check.expected_statuses, fieldPath(path, "expected_statuses"), errors);
  checkRange(check.interval_ms, kMinHealthIntervalMs, kMaxDurationMs,
             fieldPath(path, "interval_ms"), errors);
  const std::string interval = std::to_string(check.interval_ms);
  if (check.timeout_ms < 1 || check.timeout_ms >= check.interval_ms) {
    add(errors, fieldPath(path, "timeout_ms"),
        "must be at least 1 and below interval_ms (" + interval + ")");
  }
  if (check.jitter_ms > check.interval_ms) {
    add(errors, fieldPath(path, "jitter_ms"), "must not exceed interval_ms (" + interval + ")");
  }
  checkRange(check.healthy, 1, kMaxHealthThreshold, fieldPath(path, "healthy"), errors);
  checkRange(check.unhealthy, 1, kMaxHealthThreshold, fieldPath(path, "unhealthy"), errors);
}

void checkOutlier(const Outlier& outlier, const std::string& path, std::vector<Error>& errors) {
  bool triggered = outlier.consecutive_5xx > 0 || outlier.consecutive_gateway_failure > 0 ||
                   outlier.consecutive_connect_failure > 0;
  std::string base_field = fieldPath(path, "base_ejection_ms");
  checkRange(outlier.base_ejection_ms, 0, kMaxDurationMs, base_field, errors);
  if (triggered && outlier.base_ejection_ms < 1) {
    add(errors, base_field, "must be at least 1 while a consecutive_* trigger is above 0");
  }
  std::string max_field = fieldPath(path, "max_ejection_ms");
  checkRange(outlier.max_ejection_ms, 0, kMaxDurationMs, max_field, errors);
  if (outlier.max_ejection_ms < outlier.base_ejection_ms) {
    add(errors, max_field,
        "must be at least base_ejection_ms (" + std::to_string(outlier.base_ejection_ms) + ")");
  }
  checkRange(outlier.max_ejection_percent, 0, 100, fieldPath(path, "max_ejection_percent"), errors);
}

void checkCircuitBreakers(const CircuitBreakers& breakers, const std::string& path,
                          std::vector<Error>& errors) {
  constexpr int64_t kMax = std::numeric_limits<uint32_t>::max();
  checkRange(breakers.max_connections, 1, kMax, fieldPath(path, "max_connections"), errors);
  checkRange(breakers.max_pending, 1, kMax, fieldPath(path, "max_pending"), errors);
  checkRange(breakers.max_requests, 1, kMax, fieldPath(path, "max_requests"), errors);
  checkRange(breakers.retry_budget_percent, 0, 100, fieldPath(path, "retry_budget_percent"),
             errors);
  checkRange(breakers.min_retry_concurrency, 0, kMax, fieldPath(path, "min_retry_concurrency"),
             errors);
}

void checkHash(const Service& service, const std::string& path, std::vector<Error>& errors) {
  const HashPolicy& hash = service.hash;
  if (hash.empty()) return;
  int keys = int{!hash.header.empty()} + int{!hash.cookie.empty()} + int{hash.source_ip};
  if (keys > 1) add(errors, path, "set only one of header, cookie or source_ip");
  if (!hash.header.empty() && !isTokenText(hash.header)) {
    add(errors, fieldPath(path, "header"), std::string("must be a header name: ") + kTokenChars);
  }
  if (!hash.cookie.empty() && !isTokenText(hash.cookie)) {
    add(errors, fieldPath(path, "cookie"), std::string("must be a cookie name: ") + kTokenChars);
  }
  if (!hashesRequests(service.lb)) {
    add(errors, path,
        "is read by lb ring_hash or maglev only (lb is '" + service.lb +
            "'): set one of them or remove hash");
  }
}

// What retries.on names, and the statuses retriable-status retries.
void checkRetryConditions(const RetryPolicy& retries, const std::string& path,
                          std::vector<Error>& errors) {
  static constexpr std::array<std::string_view, 6> kConditions = {
      "connect-failure", "refused-stream", "reset", "gateway-error", "5xx", "retriable-status"};
  std::string on_field = fieldPath(path, "on");
  for (size_t i = 0; i < retries.on.size(); ++i) {
    if (!isOneOf(retries.on[i], kConditions)) {
      add(errors, on_field + "[" + std::to_string(i) + "]", oneOfRule(kConditions));
    }
  }
  if (retries.enabled() && retries.on.empty()) {
    add(errors, on_field, "must name at least one condition while attempts is above 0");
  }
  std::string statuses_field = fieldPath(path, "statuses");
  for (size_t i = 0; i < retries.statuses.size(); ++i) {
    checkRange(retries.statuses[i], kMinStatus, kMaxStatus,
               statuses_field + "[" + std::to_string(i) + "]", errors);
  }
  bool by_status =
      std::find(retries.on.begin(), retries.on.end(), "retriable-status") != retries.on.end();
  if (by_status && retries.statuses.empty()) {
    add(errors, statuses_field, "must list at least one status when on has retriable-status");
  }
}

void checkRetryTimes(const RetryPolicy& retries, uint32_t route_timeout_ms, const std::string& path,
                     std::vector<Error>& errors) {
  if (retries.per_try_timeout_ms > route_timeout_ms) {
    add(errors, fieldPath(path, "per_try_timeout_ms"),
        "must not exceed the route's timeout_ms (" + std::to_string(route_timeout_ms) +
            "); 0 means the route's");
  }
  checkRange(retries.backoff_base_ms, 1, kMaxDurationMs, fieldPath(path, "backoff_base_ms"),
             errors);
  std::string max_field = fieldPath(path, "backoff_max_ms");
  checkRange(retries.backoff_max_ms, 1, kMaxDurationMs, max_field, errors);
  if (retries.backoff_max_ms < retries.backoff_base_ms) {
    add(errors, max_field,
        "must be at least backoff_base_ms (" + std::to_string(retries.backoff_base_ms) + ")");
  }
}

void checkRetries(const Route& route, const std::string& path, std::vector<Error>& errors) {
  checkRange(route.retries.attempts, 0, kMaxRetryAttempts, fieldPath(path, "attempts"), errors);
  checkRetryConditions(route.retries, path, errors);
  checkRetryTimes(route.retries, route.timeout_ms, path, errors);
}

void checkHeaderPatterns(const std::map<std::string, std::string>& headers, const std::string& path,
                         std::vector<Error>& errors) {
  RE2::Options options;
  options.set_log_errors(false);
  for (const auto& [name, pattern] : headers) {
    std::string field = path + "." + name;
    if (!isTokenText(name)) {
      add(errors, field, "invalid header name");
      continue;
    }
    RE2 re(pattern, options);
    if (!re.ok()) add(errors, field, "invalid regular expression: " + re.error());
  }
}

// Cookie values are compared exactly, so they must be something a Cookie header can carry
// (RFC 6265 cookie-octets, no quotes).
void checkCookies(const std::map<std::string, std::string>& cookies, const std::string& path,
                  std::vector<Error>& errors) {
  for (const auto& [name, value] : cookies) {
    std::string field = path + "." + name;
    if (!isTokenText(name)) {
      add(errors, field, "invalid cookie name");
      continue;
    }
    for (char c : value) {
      auto byte = static_cast<unsigned char>(c);
      if (byte <= 0x20 || byte >= 0x7F || c == '"' || c == ',' || c == ';' || c == '\\') {
        add(errors, field, "a cookie value cannot hold spaces, quotes, ',', ';' or '\\'");
        break;
      }
    }
  }
}

void checkSource(const std::string& source, const std::string& path, std::vector<Error>& errors) {
  if (source.empty()) return;
  for (Error& error : checkIdentity(source)) add(errors, path, std::move(error.message));
}

void checkRequestMatch(const RequestMatch& match, const std::string& path,
                       std::vector<Error>& errors);

void checkNoneClauses(const std::vector<RequestMatch>& none, const std::string& path,
                      std::vector<Error>& errors) {
  for (size_t i = 0; i < none.size(); ++i) {
    std::string clause = fieldPath(path, "none[" + std::to_string(i) + "]");
    if (none[i].empty()) add(errors, clause, "an empty clause always holds");
    checkRequestMatch(none[i], clause, errors);
  }
}

void checkRequestMatch(const RequestMatch& match, const std::string& path,
                       std::vector<Error>& errors) {
  checkHeaderPatterns(match.headers, fieldPath(path, "headers"), errors);
  checkCookies(match.cookies, fieldPath(path, "cookies"), errors);
  checkSource(match.source, fieldPath(path, "source"), errors);
  checkNoneClauses(match.none, path, errors);
}

void checkMatch(const RouteMatch& match, const std::string& path, std::vector<Error>& errors) {
  std::string why;
  if (!validRouteHost(match.host, &why)) add(errors, fieldPath(path, "host"), why);
  if (!match.path.empty() && match.path.front() != '/') {
    add(errors, fieldPath(path, "path"), "must start with '/'");
  }
  if (!match.path_prefix.empty() && match.path_prefix.front() != '/') {
    add(errors, fieldPath(path, "path_prefix"), "must start with '/'");
  }
  if (!match.path.empty() && !match.path_prefix.empty()) {
    add(errors, fieldPath(path, "path_prefix"), "path and path_prefix cannot both be set");
  }
  const std::string& separated = match.path_separated_prefix;
  std::string separated_field = fieldPath(path, "path_separated_prefix");
  if (!separated.empty()) {
    if (separated.front() != '/' || separated.size() < 2 || separated.back() == '/') {
      add(errors, separated_field, "must start with '/' and not end with '/' (\"/api\")");
    }
    if (!match.path.empty() || !match.path_prefix.empty()) {
      add(errors, separated_field, "cannot be set with path or path_prefix");
    }
  }
  checkHeaderPatterns(match.headers, fieldPath(path, "headers"), errors);
  checkCookies(match.cookies, fieldPath(path, "cookies"), errors);
  checkSource(match.source, fieldPath(path, "source"), errors);
  checkNoneClauses(match.none, path, errors);
}

void checkSplit(const Route& route, const std::string& path, const TargetLookup& lookup,
                std::vector<Error>& errors) {
  if (route.direct_response.status != 0) {
    if (!route.split.empty()) add(errors, path, "must be empty with direct_response");

    return;
  }
  if (route.split.empty()) return add(errors, path, "must not be empty");
  bool any_positive = false;
  for (size_t j = 0; j < route.split.size(); ++j) {
    const SplitTarget& target = route.split[j];
    std::string base = path + "[" + std::to_string(j) + "]";
    bool selector = !target.match.empty();
    any_positive = any_positive || (!selector && target.weight > 0);
    if (selector) checkRequestMatch(target.match, base + ".match", errors);
    checkRange(target.weight, 0, kMaxWeight, base + ".weight", errors);
    if (target.service.empty()) {
      add(errors, base + ".service", "must not be empty");
      continue;
    }
    switch (lookup(target.service, target.version)) {
      case TargetStatus::kOk:
        break;
      case TargetStatus::kUnknownService:
        add(errors, base + ".service", "unknown service '" + target.service + "'");
        break;
      case TargetStatus::kUnknownVersion:
        // A compat API's routes keep their original's meaning: a version with no endpoint
        // left answers 503 instead of refusing the change.
        if (!route.owner.empty()) break;
        add(errors, base + ".version",
            "service '" + target.service + "' has no endpoint with version '" + target.version +
                "'");
        break;
    }
  }
  if (!any_positive) {
    add(errors, path, "at least one target without a match must have a positive weight");
  }
}

bool splitHasVersion(const Route& route, const std::string& version) {
  for (const SplitTarget& target : route.split) {
    if (target.version == version) return true;
  }
  return false;
}

void checkSticky(const Route& route, const std::string& path, std::vector<Error>& errors) {
  const Sticky& sticky = route.sticky;
  if (sticky.cookie.empty()) {
    if (!sticky.path.empty()) add(errors, fieldPath(path, "cookie"), "needed when path is set");
    return;
  }
  if (!isTokenText(sticky.cookie)) add(errors, fieldPath(path, "cookie"), "invalid cookie name");
  bool path_ok = sticky.path.empty() || sticky.path.front() == '/';
  for (char c : sticky.path) path_ok = path_ok && c > 0x20 && c < 0x7F && c != ';';
  if (!path_ok) add(errors, fieldPath(path, "path"), "must be a path starting with '/'");
}

void checkFault(const Route& route, const Fault& fault, const std::string& path,
                std::vector<Error>& errors) {
  checkRequestMatch(fault.match, fieldPath(path, "match"), errors);
  // A compat API may keep a fault for a version its split does not name (it never fires).
  if (!fault.version.empty() && route.owner.empty() && !splitHasVersion(route, fault.version)) {
    add(errors, fieldPath(path, "version"),
        "version '" + fault.version + "' is not a target of this route's split");
  }
  if (!fault.delay && !fault.abort) add(errors, path, "needs a delay or an abort");
  if (fault.delay) {
    bool fixed = fault.delay->ms > 0;
    if (fixed == fault.delay->from_header) {
      add(errors, fieldPath(path, "delay"),
          "needs exactly one of seconds (above 0) or from_header");
    }
  }
  if (fault.abort) {
    bool fixed = fault.abort->status != 0 || fault.abort->drop;
    if (fixed == fault.abort->from_header) {
      add(errors, fieldPath(path, "abort"), "needs exactly one of status or from_header");
    }
  }
}

// Who owns an object: "" or a short lowercase word ("a8").
void checkOwner(const std::string& owner, const std::string& path, std::vector<Error>& errors) {
  bool ok = owner.size() <= 32;
  for (char c : owner) ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-');
  if (!ok) add(errors, path, "must be at most 32 lowercase letters, digits or '-'");
}

// Versions by service name, for checking the routes of a whole document.
TargetLookup documentLookup(const Config& config,
                            std::map<std::string, std::set<std::string>, std::less<>>& versions) {
  for (const Service& service : config.services) {
    auto& set = versions[service.name];
    for (const Endpoint& endpoint : service.endpoints) set.insert(endpoint.version);
  }
  return [&versions](std::string_view service, std::string_view version) {
    auto it = versions.find(service);
    if (it == versions.end()) return TargetStatus::kUnknownService;
    if (!version.empty() && !it->second.contains(std::string(version))) {
      return TargetStatus::kUnknownVersion;
    }
    return TargetStatus::kOk;
  };
}

}  // namespace

std::string rangeRule(int64_t min, int64_t max) {
  return "must be an integer between " + std::to_string(min) + " and " + std::to_string(max);
}

std::string fieldPath(std::string_view base, std::string_view field) {
  if (base.empty()) return std::string(field);
  std::string out(base);
  out += '.';
  out += field;
  return out;
}

bool isValidName(std::string_view name) {
  for (char c : name) {
    if (!isNameChar(c)) return false;
  }
  return true;
}

bool checkHostName(std::string_view host, std::string* why) {
  if (!host.starts_with('[') && host.find(':') != std::string_view::npos) {
    *why = "must not include a port";
    return false;
  }
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);  // the root's label
  bool ok = host.size() <= 253;
  for (size_t start = 0; ok;) {
    size_t dot = host.find('.', start);
    std::string_view label = host.substr(start, dot == std::string_view::npos ? dot : dot - start);
    ok = !label.empty() && label.size() <= 63;
    for (char c : label) ok = ok && isHostChar(c);
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (!ok) *why = "must be a host name (\"api.example.com\")";
  return ok;
}

bool isOwnErrorStatus(uint32_t status) {
  for (uint32_t own : {400u, 404u, 413u, 414u, 431u, 502u, 503u, 504u}) {
    if (status == own) return true;
  }
  return false;
}

bool readErrorPage(const std::string& file, std::string& out, std::string* why) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    *why = "cannot read '" + file + "'";
    return false;
  }
  out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  if (in.bad()) {
    *why = "cannot read '" + file + "'";
    return false;
  }
  if (out.size() > kMaxErrorPageBytes) {
    *why = "'" + file + "' is larger than 64 KiB";
    return false;
  }
  return true;
}

void checkListener(const Listener& listener, const std::string& path, std::vector<Error>& errors) {
  for (const auto& [status, file] : listener.error_pages) {
    std::string page, why;
    std::string field = fieldPath(path, "error_pages." + std::to_string(status));
    if (file.empty()) {
      add(errors, field, "must be a file path");
    } else if (!readErrorPage(file, page, &why)) {
      add(errors, field, why);
    }
  }
  if (listener.name.empty()) add(errors, fieldPath(path, "name"), "must not be empty");
  std::string why;
  if (listener.address.empty()) {
    add(errors, fieldPath(path, "address"), "must not be empty");
  } else if (!checkListenAddress(listener.address, &why)) {
    add(errors, fieldPath(path, "address"), why);
  }
  if (listener.protocol == "h2c" || listener.protocol == "https") {
    add(errors, fieldPath(path, "protocol"),
        "protocol '" + listener.protocol + "' is not supported yet");
  } else if (listener.protocol != "http") {
    add(errors, fieldPath(path, "protocol"), "must be one of: http, h2c, https");
  }
}

void checkService(const Service& service, const std::string& path, std::vector<Error>& errors) {
  std::string name_field = fieldPath(path, "name");
  if (service.name.empty()) {
    add(errors, name_field, "must not be empty");
  } else if (!isValidName(service.name)) {
    add(errors, name_field, kNameRule);
  }
  checkLb(service.lb, fieldPath(path, "lb"), errors);
  checkOwner(service.owner, fieldPath(path, "owner"), errors);
  checkEndpoints(service.endpoints, fieldPath(path, "endpoints"), errors);
  checkHealthCheck(service.health_check, fieldPath(path, "health_check"), errors);
  checkOutlier(service.outlier, fieldPath(path, "outlier"), errors);
  checkCircuitBreakers(service.circuit_breakers, fieldPath(path, "circuit_breakers"), errors);
  checkHash(service, fieldPath(path, "hash"), errors);
  checkRange(service.panic_threshold_percent, 0, 100, fieldPath(path, "panic_threshold_percent"),
             errors);
  checkRange(service.slow_start_ms, 0, kMaxDurationMs, fieldPath(path, "slow_start_ms"), errors);
}

void checkEndpoints(const std::vector<Endpoint>& endpoints, const std::string& path,
                    std::vector<Error>& errors) {
  std::unordered_set<std::string_view> seen;
  for (size_t j = 0; j < endpoints.size(); ++j) {
    const Endpoint& endpoint = endpoints[j];
    std::string base = path + "[" + std::to_string(j) + "]";
    std::string why;
    if (endpoint.address.empty()) {
      add(errors, base + ".address", "must not be empty");
    } else if (!checkEndpointAddress(endpoint.address, &why)) {
      add(errors, base + ".address", why);
    } else if (!seen.insert(endpoint.address).second) {
      add(errors, base + ".address", "duplicate endpoint address '" + endpoint.address + "'");
    }
    checkRange(endpoint.weight, 0, kMaxWeight, base + ".weight", errors);
  }
}

void checkRoute(const Route& route, const std::string& path, const TargetLookup& lookup,
                std::vector<Error>& errors) {
  if (route.id.empty()) add(errors, fieldPath(path, "id"), "must not be empty");
  checkMatch(route.match, fieldPath(path, "match"), errors);
  if (route.strip_prefix && route.match.path_prefix.empty() &&
      route.match.path_separated_prefix.empty()) {
    add(errors, fieldPath(path, "rewrite.strip_prefix"),
        "needs match.path_prefix or match.path_separated_prefix");
  }
  checkSplit(route, fieldPath(path, "split"), lookup, errors);
  checkSticky(route, fieldPath(path, "sticky"), errors);

  for (size_t i = 0; i < route.faults.size(); ++i) {
    checkFault(route, route.faults[i], fieldPath(path, "faults[" + std::to_string(i) + "]"),
               errors);
  }
  checkOwner(route.owner, fieldPath(path, "owner"), errors);
  checkRange(route.timeout_ms, kMinTimeoutMs, kMaxTimeoutMs, fieldPath(path, "timeout_ms"), errors);
  checkRetries(route, fieldPath(path, "retries"), errors);
}

}  // namespace turnout::config::checks

namespace turnout::config {

std::vector<Error> validate(const Config& config) {
  std::vector<Error> errors;
  std::unordered_set<std::string_view> listener_names, service_names, route_ids;
  for (size_t i = 0; i < config.listeners.size(); ++i) {
    std::string path = "listeners[" + std::to_string(i) + "]";
    const Listener& listener = config.listeners[i];
    checks::checkListener(listener, path, errors);
    if (!listener.name.empty() && !listener_names.insert(listener.name).second) {
      errors.push_back({path + ".name", 0, "duplicate listener name '" + listener.name + "'"});
    }
  }
  for (size_t i = 0; i < config.services.size(); ++i) {
    std::string path = "services[" + std::to_string(i) + "]";
    const Service& service = config.services[i];
    checks::checkService(service, path, errors);
    if (!service.name.empty() && !service_names.insert(service.name).second) {
      errors.push_back({path + ".name", 0, "duplicate service name '" + service.name + "'"});
    }
  }
  std::map<std::string, std::set<std::string>, std::less<>> versions;
  checks::TargetLookup lookup = checks::documentLookup(config, versions);
  for (size_t i = 0; i < config.routes.size(); ++i) {
    std::string path = "routes[" + std::to_string(i) + "]";
    const Route& route = config.routes[i];
    checks::checkRoute(route, path, lookup, errors);
    if (!route.id.empty() && !route_ids.insert(route.id).second) {
      errors.push_back({path + ".id", 0, "duplicate route id '" + route.id + "'"});
    }
  }
  return errors;
}

}  // namespace turnout::config

namespace turnout::config {

std::vector<Error> checkIdentity(std::string_view text) {
  size_t colon = text.find(':');
  std::string_view name = text.substr(0, colon);
  std::string_view version = colon == std::string_view::npos ? "-" : text.substr(colon + 1);
  bool ok = !name.empty() && !version.empty();
  for (char c : name) ok = ok && checks::isNameChar(c);
  for (char c : version) ok = ok && (checks::isNameChar(c) || c == ',' || c == '=');
  if (ok) return {};
  return {Error{"", 0, "must be NAME or NAME:VERSION (letters, digits, '.', '_', '-')"}};
}

}  // namespace turnout::config
