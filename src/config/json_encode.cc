// Model -> compact JSON, written by hand: the model is small and fixed, and appending to one
// string is several times faster than building an nlohmann::json tree to dump it (GET
// /v1/config of 10k routes). Field names are the decoder's (config/decoder.h).
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/load.h"

namespace turnout::config {
namespace {

// Length of the valid UTF-8 sequence starting at text[i], or 0 if it is not one (overlong
// forms, surrogates and code points above U+10FFFF included, as RFC 3629 says).
size_t utf8Length(std::string_view text, size_t i) {
  auto byte = [&](size_t k) { return static_cast<uint8_t>(text[k]); };
  uint8_t lead = byte(i);
  size_t length = lead < 0xC2 ? 0 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : lead < 0xF5 ? 4 : 0;
  if (length == 0 || i + length > text.size()) return 0;
  for (size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  }
  uint8_t second = byte(i + 1);
  if (lead == 0xE0 && second < 0xA0) return 0;  // overlong
  if (lead == 0xED && second > 0x9F) return 0;  // surrogate
  if (lead == 0xF0 && second < 0x90) return 0;  // overlong
  if (lead == 0xF4 && second > 0x8F) return 0;  // above U+10FFFF
  return length;
}

void appendEscaped(std::string& out, char c) {
  static constexpr char kHex[] = "0123456789abcdef";
  switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\r':
      out += "\\r";
      break;
    case '\t':
      out += "\\t";
      break;
    default:
      out += "\\u00";
      out += kHex[(c >> 4) & 0xF];
      out += kHex[c & 0xF];
  }
}

void appendString(std::string& out, std::string_view text) {
  out += '"';
  for (size_t i = 0; i < text.size();) {
    auto c = static_cast<uint8_t>(text[i]);
    if (c >= 0x80) {
      size_t length = utf8Length(text, i);
      out += length == 0 ? std::string_view("\xEF\xBF\xBD") : text.substr(i, length);
      i += length == 0 ? 1 : length;
      continue;
    }
    if (c < 0x20 || c == '"' || c == '\\') {
      appendEscaped(out, static_cast<char>(c));
    } else {
      out += static_cast<char>(c);
    }
    ++i;
  }
  out += '"';
}

// `"key":` preceded by a comma unless it opens the object.
void appendKey(std::string& out, std::string_view key, bool first = false) {
  if (!first) out += ',';
  out += '"';
  out += key;  // model names: no escaping needed
  out += "\":";
}

void appendNumber(std::string& out, std::string_view key, uint64_t value, bool first = false) {
  appendKey(out, key, first);
  out += std::to_string(value);
}

void appendBool(std::string& out, std::string_view key, bool value) {
  appendKey(out, key);
  out += value ? "true" : "false";
}

template <class T, class Append>
void appendList(std::string& out, const std::vector<T>& items, Append append) {
  out += '[';
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ',';
    append(out, items[i]);
  }
  out += ']';
}

void appendStringMap(std::string& out, const std::map<std::string, std::string>& map) {
  out += '{';
  bool first = true;
  for (const auto& [name, value] : map) {
    if (!first) out += ',';
    first = false;
    appendString(out, name);
    out += ':';
    appendString(out, value);
  }
  out += '}';
}

void appendListener(std::string& out, const Listener& listener) {
  appendKey(out += '{', "name", true);
  appendString(out, listener.name);
  appendKey(out, "address");
  appendString(out, listener.address);
  appendKey(out, "protocol");
  appendString(out, listener.protocol);
  if (!listener.error_pages.empty()) {
    appendKey(out, "error_pages");
    std::map<std::string, std::string> by_text;
    for (const auto& [status, file] : listener.error_pages) by_text[std::to_string(status)] = file;
    appendStringMap(out, by_text);
  }
  out += '}';
}

void appendEndpoint(std::string& out, const Endpoint& endpoint) {
  appendKey(out += '{', "address", true);
  appendString(out, endpoint.address);
  appendKey(out, "version");
  appendString(out, endpoint.version);
  appendKey(out, "weight");
  out += std::to_string(endpoint.weight);
  out += '}';
}

// Fields added after the first model are written only when set, so documents that do not use
// them stay as they were (and as small).
void appendOwner(std::string& out, const std::string& owner) {
  if (owner.empty()) return;
  appendKey(out, "owner");
  appendString(out, owner);
}

void appendRequestMatch(std::string& out, const RequestMatch& match) {  // NOLINT(misc-no-recursion)
  out += '{';
  bool first = true;
  auto key = [&](std::string_view name) {
    appendKey(out, name, first);
    first = false;
  };
  if (!match.headers.empty()) {
    key("headers");
    appendStringMap(out, match.headers);
  }
  if (!match.cookies.empty()) {
    key("cookies");
    appendStringMap(out, match.cookies);
  }
  if (!match.source.empty()) {
    key("source");
    appendString(out, match.source);
  }
  if (!match.none.empty()) {
    key("none");
    appendList(out, match.none, appendRequestMatch);
  }
  out += '}';
}

// Milliseconds as seconds: 3000 -> 3, 250 -> 0.25, 1 -> 0.001.
void appendSeconds(std::string& out, uint32_t ms) {
  out += std::to_string(ms / 1000);
  uint32_t fraction = ms % 1000;
  if (fraction == 0) return;
  std::string digits = std::to_string(1000 + fraction).substr(1);
  while (digits.back() == '0') digits.pop_back();
  out += '.';
  out += digits;
}

void appendPercent(std::string& out, double percent) {
  char text[32];
  std::snprintf(text, sizeof text, "%.15g", percent);
  out += text;
}

void appendFault(std::string& out, const Fault& fault) {
  out += '{';
  bool first = true;
  auto key = [&](std::string_view name) {
    appendKey(out, name, first);
    first = false;
  };
  if (!fault.match.empty()) {
    key("match");
    appendRequestMatch(out, fault.match);
  }
  if (!fault.version.empty()) {
    key("version");
    appendString(out, fault.version);
  }
  if (fault.delay) {
    key("delay");
    if (fault.delay->from_header) {
      out += "{\"from_header\":true";
    } else {
      out += "{\"seconds\":";
      appendSeconds(out, fault.delay->ms);
    }
    appendKey(out, "percent");
    appendPercent(out, fault.delay->percent);
    out += '}';
  }
  if (fault.abort) {
    key("abort");
    if (fault.abort->from_header) {
      out += "{\"from_header\":true";
    } else if (fault.abort->drop) {
      out += "{\"status\":\"drop\"";
    } else {
      out += "{\"status\":" + std::to_string(fault.abort->status);
    }
    appendKey(out, "percent");
    appendPercent(out, fault.abort->percent);
    out += '}';
  }
  out += '}';
}

// 204, or "200-299": the forms the decoder reads.
void appendStatusRange(std::string& out, const std::pair<uint16_t, uint16_t>& range) {
  if (range.first == range.second) {
    out += std::to_string(range.first);
    return;
  }
  out += '"' + std::to_string(range.first) + '-' + std::to_string(range.second) + '"';
}

void appendStatus(std::string& out, uint16_t status) { out += std::to_string(status); }

// The resilience blocks are written whole (every setting in force is visible in a GET) but
// only when they differ from the model's default, like the other later fields.
void appendHealthCheck(std::string& out, const HealthCheck& check) {
  appendKey(out += '{', "type", true);
  appendString(out, check.type);
  appendKey(out, "path");
  appendString(out, check.path);
  appendKey(out, "host");
  appendString(out, check.host);
  appendKey(out, "expected_statuses");
  appendList(out, check.expected_statuses, appendStatusRange);
  appendNumber(out, "interval_ms", check.interval_ms);
  appendNumber(out, "timeout_ms", check.timeout_ms);
  appendNumber(out, "jitter_ms", check.jitter_ms);
  appendNumber(out, "healthy", check.healthy);
  appendNumber(out, "unhealthy", check.unhealthy);
  out += '}';
}

void appendOutlier(std::string& out, const Outlier& outlier) {
  appendNumber(out += '{', "consecutive_5xx", outlier.consecutive_5xx, true);
  appendNumber(out, "consecutive_gateway_failure", outlier.consecutive_gateway_failure);
  appendNumber(out, "consecutive_connect_failure", outlier.consecutive_connect_failure);
  appendNumber(out, "base_ejection_ms", outlier.base_ejection_ms);
  appendNumber(out, "max_ejection_ms", outlier.max_ejection_ms);
  appendNumber(out, "max_ejection_percent", outlier.max_ejection_percent);
  out += '}';
}

void appendCircuitBreakers(std::string& out, const CircuitBreakers& breakers) {
  appendNumber(out += '{', "max_connections", breakers.max_connections, true);
  appendNumber(out, "max_pending", breakers.max_pending);
  appendNumber(out, "max_requests", breakers.max_requests);
  appendNumber(out, "retry_budget_percent", breakers.retry_budget_percent);
  appendNumber(out, "min_retry_concurrency", breakers.min_retry_concurrency);
  out += '}';
}

// Only what is set: one key for a valid policy.
void appendHash(std::string& out, const HashPolicy& hash) {
  out += '{';
  bool first = true;
  auto key = [&](std::string_view name) {
    appendKey(out, name, first);
    first = false;
  };
  if (!hash.header.empty()) {
    key("header");
    appendString(out, hash.header);
  }
  if (!hash.cookie.empty()) {
    key("cookie");
    appendString(out, hash.cookie);
  }
  if (hash.source_ip) {
    key("source_ip");
    out += "true";
  }
  out += '}';
}

void appendRetries(std::string& out, const RetryPolicy& retries) {
  appendNumber(out += '{', "attempts", retries.attempts, true);
  appendKey(out, "on");
  appendList(out, retries.on, appendString);
  appendKey(out, "statuses");
  appendList(out, retries.statuses, appendStatus);
  appendNumber(out, "per_try_timeout_ms", retries.per_try_timeout_ms);
  appendNumber(out, "backoff_base_ms", retries.backoff_base_ms);
  appendNumber(out, "backoff_max_ms", retries.backoff_max_ms);
  appendBool(out, "non_idempotent", retries.non_idempotent);
  out += '}';
}

// Statics: a default HealthCheck allocates, and GET /v1/config encodes thousands of services.
const Service& defaultService() {
  static const Service kDefault;
  return kDefault;
}

void appendResilience(std::string& out, const Service& service) {
  const Service& defaults = defaultService();
  if (service.health_check != defaults.health_check) {
    appendKey(out, "health_check");
    appendHealthCheck(out, service.health_check);
  }
  if (service.outlier != defaults.outlier) {
    appendKey(out, "outlier");
    appendOutlier(out, service.outlier);
  }
  if (service.circuit_breakers != defaults.circuit_breakers) {
    appendKey(out, "circuit_breakers");
    appendCircuitBreakers(out, service.circuit_breakers);
  }
  if (!service.hash.empty()) {
    appendKey(out, "hash");
    appendHash(out, service.hash);
  }
  if (service.panic_threshold_percent != defaults.panic_threshold_percent) {
    appendNumber(out, "panic_threshold_percent", service.panic_threshold_percent);
  }
  if (service.slow_start_ms != defaults.slow_start_ms) {
    appendNumber(out, "slow_start_ms", service.slow_start_ms);
  }
}

void appendService(std::string& out, const Service& service) {
  appendKey(out += '{', "name", true);
  appendString(out, service.name);
  appendKey(out, "lb");
  appendString(out, service.lb);
  appendKey(out, "endpoints");
  appendList(out, service.endpoints, appendEndpoint);
  appendResilience(out, service);
  appendOwner(out, service.owner);
  out += '}';
}

void appendMatch(std::string& out, const RouteMatch& match) {
  appendKey(out += '{', "host", true);
  appendString(out, match.host);
  appendKey(out, "path");
  appendString(out, match.path);
  appendKey(out, "path_prefix");
  appendString(out, match.path_prefix);
  if (!match.path_separated_prefix.empty()) {
    appendKey(out, "path_separated_prefix");
    appendString(out, match.path_separated_prefix);
  }
  appendKey(out, "headers");
  appendStringMap(out, match.headers);
  if (!match.cookies.empty()) {
    appendKey(out, "cookies");
    appendStringMap(out, match.cookies);
  }
  if (!match.source.empty()) {
    appendKey(out, "source");
    appendString(out, match.source);
  }
  if (!match.none.empty()) {
    appendKey(out, "none");
    appendList(out, match.none, appendRequestMatch);
  }
  out += '}';
}

void appendTarget(std::string& out, const SplitTarget& target) {
  appendKey(out += '{', "service", true);
  appendString(out, target.service);
  appendKey(out, "version");
  appendString(out, target.version);
  appendKey(out, "weight");
  out += std::to_string(target.weight);
  if (!target.match.empty()) {
    appendKey(out, "match");
    appendRequestMatch(out, target.match);
  }
  out += '}';
}

void appendRoute(std::string& out, const Route& route) {
  appendKey(out += '{', "id", true);
  appendString(out, route.id);
  appendKey(out, "priority");
  out += std::to_string(route.priority);
  appendKey(out, "match");
  appendMatch(out, route.match);
  appendKey(out, "rewrite");
  out += route.strip_prefix ? "{\"strip_prefix\":true" : "{\"strip_prefix\":false";
  if (route.keep_host) out += ",\"keep_host\":true";
  out += '}';
  appendKey(out, "split");
  appendList(out, route.split, appendTarget);
  if (!route.sticky.cookie.empty()) {
    appendKey(out, "sticky");
    appendKey(out += '{', "cookie", true);
    appendString(out, route.sticky.cookie);
    if (!route.sticky.path.empty()) {
      appendKey(out, "path");
      appendString(out, route.sticky.path);
    }
    out += '}';
  }
  if (!route.faults.empty()) {
    appendKey(out, "faults");
    appendList(out, route.faults, appendFault);
  }
  if (route.direct_response.status != 0) {
    appendKey(out, "direct_response");
    appendKey(out += '{', "status", true);
    out += std::to_string(route.direct_response.status);
    appendKey(out, "body");
    appendString(out, route.direct_response.body);
    out += '}';
  }
  appendKey(out, "timeout_ms");
  out += std::to_string(route.timeout_ms);
  static const RetryPolicy kNoRetries;
  if (route.retries != kNoRetries) {
    appendKey(out, "retries");
    appendRetries(out, route.retries);
  }
  appendOwner(out, route.owner);
  out += '}';
}

}  // namespace

std::string toJson(const Config& config) {
  std::string out;
  // About 200 bytes per route or service: one allocation for typical documents.
  out.reserve(64 + 200 * (config.listeners.size() + config.services.size() + config.routes.size()));
  appendKey(out += '{', "listeners", true);
  appendList(out, config.listeners, appendListener);
  appendKey(out, "services");
  appendList(out, config.services, appendService);
  appendKey(out, "routes");
  appendList(out, config.routes, appendRoute);
  out += '}';
  return out;
}

std::string toJson(const Listener& listener) {
  std::string out;
  appendListener(out, listener);
  return out;
}

std::string toJson(const Service& service) {
  std::string out;
  appendService(out, service);
  return out;
}

std::string toJson(const Route& route) {
  std::string out;
  appendRoute(out, route);
  return out;
}

std::string toJson(const Endpoint& endpoint) {
  std::string out;
  appendEndpoint(out, endpoint);
  return out;
}

}  // namespace turnout::config
