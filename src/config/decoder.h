// Document -> model, written once against the node interface of config/node_adapter.h, so YAML
// and JSON are decoded by the same code: types, unknown and duplicate keys and integer ranges
// are checked here, with the field path (and line, when the format has them) of each problem.
// Semantic checks (names, addresses, split targets) are config/checks.h's. Private to the
// config module.
#pragma once

#include <charconv>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "config/checks.h"
#include "config/decode_state.h"
#include "config/model.h"
#include "config/node_adapter.h"
#include "config/paralarva.h"

namespace turnout::config {

template <NodeAdapter A>
class Decoder {
 public:
  using Node = typename A::Node;

  explicit Decoder(DecodeState& state) : state_(state) {}

  // Each entry point returns false when the root cannot hold the object at all (wrong type),
  // in which case the semantic checks would only add noise.

  // A whole document: the native model, or paralarva's config.yaml when the root holds `proxy`
  // (config/paralarva.h translates it). A null root (empty YAML file) is an empty
  // configuration when `null_is_empty`.
  bool document(const Node& root, bool null_is_empty, Document& out) {
    if (!rootIsMap(root, null_is_empty)) return false;
    if (A::isMap(root) && hasKey(root, "proxy")) return paralarvaDocument(root, out);
    Config& native = out.native;
    fields(root, "", {"listeners", "services", "routes", "fallback"},
           [&](std::string_view key, const Node& value, const std::string& field) {
             if (key == "listeners") items(value, field, native.listeners, &Decoder::listener);
             if (key == "services") items(value, field, native.services, &Decoder::service);
             if (key == "routes") items(value, field, native.routes, &Decoder::route);
             if (key == "fallback") string(value, field, out.fallback.emplace());
           });
    return true;
  }

  // paralarva's config.yaml: {proxy: {listen: {address, port}, services: [{name, domain,
  // hosts: [{address, port}]}]}}, and turnout's `fallback` beside it. Native keys are refused
  // there: half of a document in each format is almost certainly a mistake.
  bool paralarvaDocument(const Node& root, Document& out) {
    out.paralarva = true;
    fields(root, "", {"proxy", "fallback", "listeners", "services", "routes"},
           [&](std::string_view key, const Node& value, const std::string& field) {
             if (key == "proxy") paralarvaProxy(value, field, out.proxy);
             if (key == "fallback") string(value, field, out.fallback.emplace());
             if (key == "listeners" || key == "services" || key == "routes") {
               fail(field, "cannot be mixed with proxy (paralarva's format) in one document",
                    value);
             }
           });
    return true;
  }

  // One object on its own: field paths are relative to it ("split[0].weight").
  bool serviceObject(const Node& root, Service& out) {
    if (!rootIsMap(root, false)) return false;
    service(root, "", out);
    return true;
  }

  bool listenerObject(const Node& root, Listener& out) {
    if (!rootIsMap(root, false)) return false;
    listener(root, "", out);
    return true;
  }

  bool routeObject(const Node& root, Route& out) {
    if (!rootIsMap(root, false)) return false;
    route(root, "", out);
    return true;
  }

  // A list of endpoints, or {endpoints: [...]}; paths are "endpoints[2].address" either way.
  bool endpointList(const Node& root, std::vector<Endpoint>& out) {
    if (A::isSeq(root)) {
      items(root, "endpoints", out, &Decoder::endpoint);
      return true;
    }
    if (!rootIsMap(root, false)) return false;
    fields(root, "", {"endpoints"}, [&](std::string_view, const Node& value, const std::string&) {
      items(value, "endpoints", out, &Decoder::endpoint);
    });
    return true;
  }

 private:
  // An object body that is empty (or YAML with only comments, or JSON null) says nothing.
  bool rootIsMap(const Node& root, bool null_is_empty) {
    if (A::isMap(root) || (null_is_empty && A::isNull(root))) return true;
    failRoot(root, A::isNull(root) ? "empty document" : "must be a mapping");
    return false;
  }

  void failRoot(const Node& root, std::string message) {
    state_.fail("", A::line(root), std::move(message));
  }

  // Reports at the line of the field's key (that of `node` if the field has no key).
  void fail(const std::string& field, std::string message, const Node& node) {
    int line = state_.exactLine(field);
    state_.fail(field, line != 0 ? line : A::line(node), std::move(message));
  }

  static std::string indexed(const std::string& path, size_t i) {
    return path + "[" + std::to_string(i) + "]";
  }

  static std::string member(const std::string& path, std::string_view key) {
    std::string field = path;
    if (!field.empty()) field += '.';
    field += key;
    return field;
  }

  static bool contains(const std::vector<std::string_view>& names, std::string_view name) {
    for (std::string_view seen : names) {
      if (seen == name) return true;
    }
    return false;
  }

  // Visits every key of a mapping, in document order. Unknown and repeated keys are errors;
  // `visit` sees only the keys listed in `known`. A null value counts as an empty mapping.
  template <class Visit>
  void fields(const Node& map, const std::string& path,
              std::initializer_list<std::string_view> known, Visit visit) {
    if (A::isNull(map)) return;
    if (!A::isMap(map)) return fail(path, "must be a mapping", map);
    // Objects have a handful of keys: a linear scan over the known ones beats hashing, and a
    // bit per known key finds repeats without allocating (unknown keys fail either way).
    uint32_t seen = 0;
    std::vector<std::string_view> seen_unknown;
    A::forEachEntry(map, [&](const MapKey& key, const Node& value) {
      if (!key.is_string) return state_.fail(path, key.line, "keys must be strings");
      std::string field = member(path, key.text);
      state_.noteLine(field, key.line);
      uint32_t bit = 1;
      for (std::string_view name : known) {
        if (name == key.text) break;
        bit <<= 1;
      }
      bool is_known = bit < (1u << known.size());
      bool repeated = is_known ? (seen & bit) != 0 : contains(seen_unknown, key.text);
      if (repeated) return state_.fail(field, key.line, "duplicate key");
      if (!is_known) {
        seen_unknown.push_back(key.text);
        return state_.fail(field, key.line, "unknown field");
      }
      seen |= bit;
      visit(key.text, value, field);
    });
  }

  // Decodes a sequence into `out`, one element per item; null counts as an empty sequence.
  // A list given replaces the model's default (expected_statuses and retries.on have one)
  // instead of adding to it.
  template <class T>
  void items(const Node& seq, const std::string& path, std::vector<T>& out,
             void (Decoder::*decode)(const Node&, const std::string&, T&)) {
    out.clear();
    if (A::isNull(seq)) return;
    if (!A::isSeq(seq)) return fail(path, "must be a list", seq);
    size_t i = 0;
    A::forEachItem(seq, [&](const Node& item) {
      std::string item_path = indexed(path, i++);
      state_.noteLine(item_path, A::line(item));
      (this->*decode)(item, item_path, out.emplace_back());
    });
  }

  void string(const Node& node, const std::string& field, std::string& out) {
    if (A::isNull(node)) {
      out.clear();
    } else if (!A::readString(node, out)) {
      fail(field, "must be a string", node);
    }
  }

  template <class Int>
  void integer(const Node& node, const std::string& field, int64_t min, int64_t max, Int& out) {
    int64_t value = 0;
    if (!A::readInteger(node, value) || value < min || value > max) {
      return fail(field, checks::rangeRule(min, max), node);
    }
    out = static_cast<Int>(value);
  }

  // Milliseconds: every duration of the model but the route's timeout_ms.
  void milliseconds(const Node& node, const std::string& field, uint32_t min, uint32_t& out) {
    integer(node, field, min, checks::kMaxDurationMs, out);
  }

  // Counters and limits with no upper bound of their own.
  void count(const Node& node, const std::string& field, uint32_t min, uint32_t& out) {
    integer(node, field, min, std::numeric_limits<uint32_t>::max(), out);
  }

  void httpStatus(const Node& node, const std::string& field, uint16_t& out) {
    integer(node, field, checks::kMinStatus, checks::kMaxStatus, out);
  }

  void boolean(const Node& node, const std::string& field, bool& out) {
    if (!A::readBool(node, out)) fail(field, "must be true or false", node);
  }

  static bool hasKey(const Node& map, std::string_view name) {
    bool found = false;
    A::forEachEntry(map, [&](const MapKey& key, const Node&) {
      found = found || (key.is_string && key.text == name);
    });
    return found;
  }

  // paralarva's fields are all required: each is decoded into an optional, so that the checks
  // (config/paralarva.cc) can tell a missing field from an empty one.
  void paralarvaProxy(const Node& node, const std::string& path, ParalarvaProxy& out) {
    fields(node, path, {"listen", "services"},
           [&](std::string_view key, const Node& value, const std::string& field) {
             if (key == "listen") paralarvaAddress(value, field, out.listen.emplace());
             if (key == "services") {
               items(value, field, out.services.emplace(), &Decoder::paralarvaService);
             }
           });
  }

  void paralarvaService(const Node& node, const std::string& path, ParalarvaService& out) {
    fields(node, path, {"name", "domain", "hosts"},
           [&](std::string_view key, const Node& value, const std::string& field) {
             if (key == "name") string(value, field, out.name.emplace());
             if (key == "domain") string(value, field, out.domain.emplace());
             if (key == "hosts") {
               items(value, field, out.hosts.emplace(), &Decoder::paralarvaAddress);
             }
           });
  }

  // paralarva wants an int port: a quoted "8080" is refused, in YAML as in JSON.
  void paralarvaAddress(const Node& node, const std::string& path, ParalarvaAddress& out) {
    fields(node, path, {"address", "port"},
           [&](std::string_view key, const Node& value, const std::string& field) {
             if (key == "address") string(value, field, out.address.emplace());
             if (key == "port") integer(value, field, 1, 65535, out.port.emplace());
           });
  }

  void listener(const Node& node, const std::string& path, Listener& out) {
    fields(node, path, {"name", "address", "protocol", "error_pages"},
           [&](std::string_view key, const Node& value, const std::string& field) {
             if (key == "name") string(value, field, out.name);
             if (key == "address") string(value, field, out.address);
             if (key == "protocol") string(value, field, out.protocol);
             if (key == "error_pages") errorPages(value, field, out.error_pages);
           });
  }

  // {404: "/etc/turnout/404.html"}: YAML and JSON keys are text, read as status numbers.
  void errorPages(const Node& node, const std::string& path, std::map<uint32_t, std::string>& out) {
    std::map<std::string, std::string> by_text;
    stringMap(node, path, "status", by_text);
    for (const auto& [key, file] : by_text) {
      uint32_t status = 0;
      bool digits = !key.empty() && key.size() <= 3;
      for (char c : key) {
        digits = digits && c >= '0' && c <= '9';
        status = status * 10 + static_cast<uint32_t>(c - '0');
      }
      if (!digits || !checks::isOwnErrorStatus(status)) {
        fail(path + "." + key, "must be one of 400, 404, 413, 414, 431, 502, 503, 504", node);
        continue;
      }
      out[status] = file;
    }
  }

  void service(const Node& node, const std::string& path, Service& out) {
    fields(node, path,
           {"name", "lb", "endpoints", "health_check", "outlier", "circuit_breakers", "hash",
            "panic_threshold_percent", "slow_start_ms", "owner"},
           [&](std::string_view key, const Node& value, const std::string& field) {
             if (key == "name") string(value, field, out.name);
             if (key == "owner") string(value, field, out.owner);
             if (key == "lb") string(value, field, out.lb);
             if (key == "endpoints") items(value, field, out.endpoints, &Decoder::endpoint);
             if (key == "health_check") healthCheck(value, field, out.health_check);
             if (key == "outlier") outlier(value, field, out.outlier);
             if (key == "circuit_breakers") circuitBreakers(value, field, out.circuit_breakers);
             if (key == "hash") hashPolicy(value, field, out.hash);
             if (key == "panic_threshold_percent") {
               integer(value, field, 0, 100, out.panic_threshold_percent);
             }
             if (key == "slow_start_ms") milliseconds(value, field, 0, out.slow_start_ms);
           });
  }

  void healthCheck(const Node& node, const std::string& path, HealthCheck& out) {
    fields(node, path,
           {"type", "path", "host", "expected_statuses", "interval_ms", "timeout_ms", "jitter_ms",
            "healthy", "unhealthy"},
           [&](std::string_view key, const Node& value, const std::string& field) {
             if (key == "type") string(value, field, out.type);
             if (key == "path") string(value, field, out.path);
             if (key == "host") string(value, field, out.host);
             if (key == "expected_statuses") {
               items(value, field, out.expected_statuses, &Decoder::statusRange);
             }
             if (key == "interval_ms") {
               milliseconds(value, field, checks::kMinHealthIntervalMs, out.interval_ms);
             }
             if (key == "timeout_ms") milliseconds(value, field, 1, out.timeout_ms);
             if (key == "jitter_ms") milliseconds(value, field, 0, out.jitter_ms);
             if (key == "healthy")
               integer(value, field, 1, checks::kMaxHealthThreshold, out.healthy);
             if (key == "unhealthy") {
               integer(value, field, 1, checks::kMaxHealthThreshold, out.unhealthy);
             }
           });
  }

  // 204, or "200-299": a range is a string, as status ranges are usually written. Whether
  // LO <= HI is the checks' (models built in code need it too).
  void statusRange(const Node& node, const std::string& field, std::pair<uint16_t, uint16_t>& out) {
    int64_t status = 0;
    std::string text;
    if (A::readInteger(node, status)) {
      if (isStatus(status)) {
        out = {static_cast<uint16_t>(status), static_cast<uint16_t>(status)};
        return;
      }
    } else if (A::readString(node, text) && parseStatusRange(text, out)) {
      return;
    }
    fail(field, checks::kStatusItemRule, node);
  }

  static bool isStatus(int64_t value) {
    return value >= checks::kMinStatus && value <= checks::kMaxStatus;
  }

  // "LO-HI", both statuses, nothing else (no spaces, no sign).
  static bool parseStatusRange(std::string_view text, std::pair<uint16_t, uint16_t>& out) {
    size_t dash = text.find('-');
    if (dash == std::string_view::npos) return false;
    auto whole = [](std::string_view digits, uint16_t& value) {
      auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
      return !digits.empty() && ec == std::errc() && end == digits.data() + digits.size() &&
             isStatus(value);
    };
    return whole(text.substr(0, dash), out.first) && whole(text.substr(dash + 1), out.second);
  }

  void outlier(const Node& node, const std::string& path, Outlier& out) {
    fields(node, path,
           {"consecutive_5xx", "consecutive_gateway_failure", "consecutive_connect_failure",
            "base_ejection_ms", "max_ejection_ms", "max_ejection_percent"},
           [&](std::string_view key, const Node& value, const std::string& field) {
             if (key == "consecutive_5xx") count(value, field, 0, out.consecutive_5xx);
             if (key == "consecutive_gateway_failure") {
               count(value, field, 0, out.consecutive_gateway_failure);
             }
             if (key == "consecutive_connect_failure") {
               count(value, field, 0, out.consecutive_connect_failure);
             }
             if (key == "base_ejection_ms") milliseconds(value, field, 0, out.base_ejection_ms);
             if (key == "max_ejection_ms") milliseconds(value, field, 0, out.max_ejection_ms);
             if (key == "max_ejection_percent") {
               integer(value, field, 0, 100, out.max_ejection_percent);
             }
           });
  }

  void circuitBreakers(const Node& node, const std::string& path, CircuitBreakers& out) {
    fields(node, path,
           {"max_connections", "max_pending", "max_requests", "retry_budget_percent",
            "min_retry_concurrency"},
           [&](std::string_view key, const Node& value, const std::string& field) {
             if (key == "max_connections") count(value, field, 1, out.max_connections);
             if (key == "max_pending") count(value, field, 1, out.max_pending);
             if (key == "max_requests") count(value, field, 1, out.max_requests);
             if (key == "retry_budget_percent") {
               integer(value, field, 0, 100, out.retry_budget_percent);
             }
             if (key == "min_retry_concurrency") count(value, field, 0, out.min_retry_concurrency);
           });
  }

  void hashPolicy(const Node& node, const std::string& path, HashPolicy& out) {
    fields(node, path, {"header", "cookie", "source_ip"},
           [&](std::string_view key, const Node& value, const std::string& field) {
             if (key == "header") string(value, field, out.header);
             if (key == "cookie") string(value, field, out.cookie);
             if (key == "source_ip") boolean(value, field, out.source_ip);
           });
  }

  void endpoint(const Node& node, const std::string& path, Endpoint& out) {
    fields(node, path, {"address", "version", "weight"},
           [&](std::string_view key, const Node& value, const std::string& field) {
             if (key == "address") string(value, field, out.address);
             if (key == "version") string(value, field, out.version);
             if (key == "weight") integer(value, field, 0, checks::kMaxWeight, out.weight);
           });
  }

  void route(const Node& node, const std::string& path, Route& out) {
    fields(node, path,
           {"id", "priority", "match", "rewrite", "split", "timeout_ms", "sticky", "retries",
            "faults", "owner", "direct_response"},
           [&](std::string_view key, const Node& value, const std::string& field) {
             if (key == "id") string(value, field, out.id);
             if (key == "priority") {
               integer(value, field, std::numeric_limits<int32_t>::min(),
                       std::numeric_limits<int32_t>::max(), out.priority);
             }
             if (key == "match") match(value, field, out.match);
             if (key == "rewrite") rewrite(value, field, out);
             if (key == "split") items(value, field, out.split, &Decoder::target);
             if (key == "timeout_ms") {
               integer(value, field, checks::kMinTimeoutMs, checks::kMaxTimeoutMs, out.timeout_ms);
             }
             if (key == "sticky") sticky(value, field, out.sticky);
             if (key == "faults") items(value, field, out.faults, &Decoder::fault);
             if (key == "owner") string(value, field, out.owner);
             if (key == "direct_response") directResponse(value, field, out.direct_response);
             if (key == "retries") retryPolicy(value, field, out.retries);
           });
  }

  void retryPolicy(const Node& node, const std::string& path, RetryPolicy& out) {
    fields(node, path,
           {"attempts", "on", "statuses", "per_try_timeout_ms", "backoff_base_ms", "backoff_max_ms",
            "non_idempotent"},
           [&](std::string_view key, const Node& value, const std::string& field) {
             if (key == "attempts")
               integer(value, field, 0, checks::kMaxRetryAttempts, out.attempts);
             if (key == "on") items(value, field, out.on, &Decoder::string);
             if (key == "statuses") items(value, field, out.statuses, &Decoder::httpStatus);
             if (key == "per_try_timeout_ms") {
               integer(value, field, 0, checks::kMaxTimeoutMs, out.per_try_timeout_ms);
             }
             if (key == "backoff_base_ms") milliseconds(value, field, 1, out.backoff_base_ms);
             if (key == "backoff_max_ms") milliseconds(value, field, 1, out.backoff_max_ms);
             if (key == "non_idempotent") boolean(value, field, out.non_idempotent);
           });
  }

  void match(const Node& node, const std::string& path, RouteMatch& out) {
    fields(node, path,
           {"host", "path", "path_prefix", "path_separated_prefix", "headers", "cookies", "source",
            "none"},
           [&](std::string_view key, const Node& value, const std::string& field) {
             if (key == "host") string(value, field, out.host);
             if (key == "path") string(value, field, out.path);
             if (key == "path_prefix") string(value, field, out.path_prefix);
             if (key == "path_separated_prefix") string(value, field, out.path_separated_prefix);
             if (key == "headers") stringMap(value, field, "header", out.headers);
             if (key == "cookies") stringMap(value, field, "cookie", out.cookies);
             if (key == "source") string(value, field, out.source);
             if (key == "none") items(value, field, out.none, &Decoder::requestMatch);
           });
  }

  void requestMatch(const Node& node, const std::string& path, RequestMatch& out) {
    fields(node, path, {"headers", "cookies", "source", "none"},
           [&](std::string_view key, const Node& value, const std::string& field) {
             if (key == "headers") stringMap(value, field, "header", out.headers);
             if (key == "cookies") stringMap(value, field, "cookie", out.cookies);
             if (key == "source") string(value, field, out.source);
             if (key == "none") items(value, field, out.none, &Decoder::requestMatch);
           });
  }

  // {name: value} with string keys, for header patterns and cookie values.
  void stringMap(const Node& node, const std::string& path, std::string_view what,
                 std::map<std::string, std::string>& out) {
    if (A::isNull(node)) return;
    if (!A::isMap(node)) {
      return fail(path, "must be a mapping of " + std::string(what) + " name to value", node);
    }
    A::forEachEntry(node, [&](const MapKey& key, const Node& value) {
      if (!key.is_string) {
        return state_.fail(path, key.line, std::string(what) + " names must be strings");
      }
      std::string field = path + "." + std::string(key.text);
      state_.noteLine(field, key.line);
      auto [it, inserted] = out.try_emplace(std::string(key.text));
      if (!inserted) return state_.fail(field, key.line, "duplicate key");
      string(value, field, it->second);
    });
  }

  void rewrite(const Node& node, const std::string& path, Route& out) {
    fields(node, path, {"strip_prefix", "keep_host"},
           [&](std::string_view key, const Node& value, const std::string& field) {
             boolean(value, field, key == "strip_prefix" ? out.strip_prefix : out.keep_host);
           });
  }

  void target(const Node& node, const std::string& path, SplitTarget& out) {
    fields(node, path, {"service", "version", "weight", "match"},
           [&](std::string_view key, const Node& value, const std::string& field) {
             if (key == "service") string(value, field, out.service);
             if (key == "version") string(value, field, out.version);
             if (key == "weight") integer(value, field, 0, checks::kMaxWeight, out.weight);
             if (key == "match") requestMatch(value, field, out.match);
           });
  }

  void directResponse(const Node& node, const std::string& path, DirectResponse& out) {
    fields(node, path, {"status", "body"},
           [&](std::string_view key, const Node& value, const std::string& field) {
             if (key == "status") integer(value, field, 200, 599, out.status);
             if (key == "body") string(value, field, out.body);
           });
  }

  void sticky(const Node& node, const std::string& path, Sticky& out) {
    fields(node, path, {"cookie", "path"},
           [&](std::string_view key, const Node& value, const std::string& field) {
             if (key == "cookie") string(value, field, out.cookie);
             if (key == "path") string(value, field, out.path);
           });
  }

  void fault(const Node& node, const std::string& path, Fault& out) {
    fields(node, path, {"match", "version", "delay", "abort"},
           [&](std::string_view key, const Node& value, const std::string& field) {
             if (key == "match") requestMatch(value, field, out.match);
             if (key == "version") string(value, field, out.version);
             if (key == "delay") faultDelay(value, field, out.delay.emplace());
             if (key == "abort") faultAbort(value, field, out.abort.emplace());
           });
  }

  void faultDelay(const Node& node, const std::string& path, FaultDelay& out) {
    fields(node, path, {"seconds", "percent", "from_header"},
           [&](std::string_view key, const Node& value, const std::string& field) {
             if (key == "seconds") seconds(value, field, out.ms);
             if (key == "percent") percent(value, field, out.percent);
             if (key == "from_header") boolean(value, field, out.from_header);
           });
  }

  void faultAbort(const Node& node, const std::string& path, FaultAbort& out) {
    fields(node, path, {"status", "percent", "from_header"},
           [&](std::string_view key, const Node& value, const std::string& field) {
             if (key == "status") abortStatus(value, field, out);
             if (key == "percent") percent(value, field, out.percent);
             if (key == "from_header") boolean(value, field, out.from_header);
           });
  }

  // An HTTP status, or "drop" to close the connection without answering.
  void abortStatus(const Node& node, const std::string& field, FaultAbort& out) {
    std::string text;
    int64_t status = 0;
    if (A::readInteger(node, status) && status >= 200 && status <= 599) {
      out.status = static_cast<uint32_t>(status);
    } else if (A::readString(node, text) && text == "drop") {
      out.drop = true;
    } else {
      fail(field, "must be an HTTP status between 200 and 599, or \"drop\"", node);
    }
  }

  // Seconds with millisecond precision, up to an hour; a positive value below 1 ms is 1 ms.
  void seconds(const Node& node, const std::string& field, uint32_t& out_ms) {
    double value = 0;
    if (!A::readNumber(node, value) || value < 0 || value > 3600) {
      return fail(field, "must be a number of seconds between 0 and 3600", node);
    }
    double ms = value * 1000.0;
    out_ms = ms > 0 && ms < 1 ? 1 : static_cast<uint32_t>(ms + 0.5);
  }

  void percent(const Node& node, const std::string& field, double& out) {
    double value = 0;
    if (!A::readNumber(node, value) || value < 0 || value > 100) {
      return fail(field, "must be a number between 0 and 100", node);
    }
    // Kept at parts-per-million of requests, the precision the data path draws with, so the
    // value survives a round trip through any encoding unchanged.
    out = std::round(value * 10000.0) / 10000.0;
  }

  DecodeState& state_;
};

}  // namespace turnout::config
