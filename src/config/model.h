// The configuration model: plain data mirroring the YAML / JSON / etcd documents of DESIGN §1.
// No behaviour here; validation lives in config/load.h, compilation in route/snapshot.h.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace turnout::config {

struct Listener {
  std::string name;
  std::string address;  // "HOST:PORT"
  std::string protocol = "http";
  // Pages of our own answers on this listener, by status (400, 404, 413, 414, 431, 502, 503,
  // 504): HTML files, `{{status}}`, `{{reason}}` and `{{request_id}}` filled in.
  std::map<uint32_t, std::string> error_pages;

  bool operator==(const Listener&) const = default;
};

struct Endpoint {
  std::string address;  // "IP:PORT" ("[v6]:PORT" for IPv6)
  std::string version;  // "" when the service is not versioned
  uint32_t weight = 1;

  bool operator==(const Endpoint&) const = default;
};

// Active health checking of a service's endpoints (App Mesh: healthy 2 / unhealthy 3).
struct HealthCheck {
  std::string type;               // "" = no active check; "http" | "tcp"
  std::string path = "/healthz";  // http: the request target
  std::string host;               // http: the Host header ("" = the endpoint's address)
  // http: the statuses that mean healthy, as inclusive ranges ([[200, 399]] by default).
  std::vector<std::pair<uint16_t, uint16_t>> expected_statuses = {{200, 399}};
  uint32_t interval_ms = 2000;
  uint32_t timeout_ms = 1000;
  uint32_t jitter_ms = 0;  // each interval is lengthened by a random 0..jitter_ms
  uint32_t healthy = 2;    // consecutive successes before a failed endpoint is healthy again
  uint32_t unhealthy = 3;  // consecutive failures before a healthy endpoint is failed

  bool enabled() const { return !type.empty(); }
  bool operator==(const HealthCheck&) const = default;
};

// Passive outlier detection (Envoy's defaults). 0 disables a trigger.
struct Outlier {
  uint32_t consecutive_5xx = 5;
  uint32_t consecutive_gateway_failure = 0;  // 502, 503, 504 and connect failures
  uint32_t consecutive_connect_failure = 0;  // connect refused, reset, timed out
  uint32_t base_ejection_ms = 30000;         // ejected for base x times ejected ...
  uint32_t max_ejection_ms = 300000;         // ... at most this long
  uint32_t max_ejection_percent = 10;        // of the service's endpoints (at least one may be)

  bool operator==(const Outlier&) const = default;
};

// Per-service limits (Envoy's circuit breakers); past one, a 503 that names it.
struct CircuitBreakers {
  uint32_t max_connections = 1024;  // upstream connections open, pooled included
  uint32_t max_pending = 1024;      // requests waiting for a connection
  uint32_t max_requests = 1024;     // requests in flight
  // The retry budget (Envoy's): retries in flight may be this share of the requests in flight
  // to the service, and at least min_retry_concurrency whatever the share.
  uint32_t retry_budget_percent = 20;
  uint32_t min_retry_concurrency = 3;

  bool operator==(const CircuitBreakers&) const = default;
};

// What ring_hash and maglev hash: one of header, cookie or the client address.
struct HashPolicy {
  std::string header;      // a request header's value
  std::string cookie;      // a cookie's value
  bool source_ip = false;  // the client's address

  bool empty() const { return header.empty() && cookie.empty() && !source_ip; }
  bool operator==(const HashPolicy&) const = default;
};

struct Service {
  std::string name;
  // random | round_robin | least_request | ring_hash | maglev | ewma (peak EWMA of latency)
  std::string lb = "round_robin";
  std::vector<Endpoint> endpoints;
  HealthCheck health_check;
  Outlier outlier;
  CircuitBreakers circuit_breakers;
  HashPolicy hash;  // ring_hash and maglev; without one they hash the client address
  // Below this share of healthy endpoints, traffic spreads over all of them (Envoy's panic).
  uint32_t panic_threshold_percent = 50;
  uint32_t slow_start_ms = 0;  // a new endpoint's weight ramps up over this window (0 = off)
  // Who manages the object: "" for the native API and files, "a8" for /a8-admin. A compat API
  // replaces the objects it owns and never touches the others.
  std::string owner;

  bool operator==(const Service&) const = default;
};

// Conditions on one request, for version selectors and faults; every listed one must hold.
struct RequestMatch {
  std::map<std::string, std::string> headers;  // header name -> RE2 pattern (unanchored search)
  std::map<std::string, std::string> cookies;  // cookie name -> exact value
  std::string source;                          // as RouteMatch::source
  std::vector<RequestMatch> none;              // and none of these holds

  bool empty() const {
    return headers.empty() && cookies.empty() && source.empty() && none.empty();
  }
  bool operator==(const RequestMatch&) const = default;
};

struct RouteMatch {
  std::string host;         // exact ("api.example.com") or wildcard ("*.example.com"); "" = any
  std::string path;         // exact path; "" = not set
  std::string path_prefix;  // prefix; "" = not set (and "/" matches everything)
  // Envoy's path_separated_prefix: "/api" matches "/api" and "/api/..." but not "/apix".
  std::string path_separated_prefix;
  std::map<std::string, std::string> headers;  // header name -> RE2 pattern (unanchored search)
  std::map<std::string, std::string> cookies;  // cookie name -> exact value
  // The caller this proxy stands for (--identity): "reviews" (any version), "reviews:v2" or
  // Amalgam8's "reviews_v2". A route whose source is not this proxy's identity never matches.
  std::string source;
  // The route matches only when none of these holds (Amalgam8's `none` clauses).
  std::vector<RequestMatch> none;

  bool operator==(const RouteMatch&) const = default;
};

struct SplitTarget {
  std::string service;
  std::string version;  // "" = every endpoint of the service
  uint32_t weight = 1;
  // A selector: a target with a match takes the requests that match it (the first such target
  // in order wins) and is never drawn by weight. Amalgam8's {v2={header="Foo:bar"}}.
  RequestMatch match;

  bool operator==(const SplitTarget&) const = default;
};

// The version picked for a client sticks in a cookie while that version is still in the split.
struct Sticky {
  std::string cookie;  // "" = not sticky
  std::string path;    // Path attribute; "" = the route's path prefix ("/" without one)

  bool operator==(const Sticky&) const = default;
};

struct FaultDelay {
  uint32_t ms = 0;           // fixed delay (the model's `seconds`, kept at ms precision)
  double percent = 100;      // of the requests the fault applies to
  bool from_header = false;  // delay from x-envoy-fault-delay-request (ms) instead of `ms`

  bool operator==(const FaultDelay&) const = default;
};

struct FaultAbort {
  uint32_t status = 0;  // 200-599; 0 with `drop` or `from_header`
  bool drop = false;    // close the client connection with no response (status "drop")
  double percent = 100;
  bool from_header = false;  // status from x-envoy-fault-abort-request

  bool operator==(const FaultAbort&) const = default;
};

// Envoy / Istio fault injection with Amalgam8's triggers. A fault applies when its match holds
// and, with `version`, when version selection picked that version; then the delay (if any)
// happens, then the abort (if any), each with its own percentage.
struct Fault {
  RequestMatch match;
  std::string version;  // "" = whatever version was picked
  std::optional<FaultDelay> delay;
  std::optional<FaultAbort> abort;

  bool operator==(const Fault&) const = default;
};

// A route that answers by itself instead of going upstream (Envoy's direct_response), e.g.
// Amalgam8's 412 when a destination has rules and none matches.
struct DirectResponse {
  uint32_t status = 0;  // 200-599; 0 = not set
  std::string body;     // the reason shown on the page; "" = the status's reason phrase

  bool operator==(const DirectResponse&) const = default;
};

// Retries of one route (Envoy's retry policy, Istio's defaults when on).
struct RetryPolicy {
  uint32_t attempts = 0;  // retries after the first try; 0 = off
  // connect-failure, refused-stream, reset, gateway-error (502/503/504), 5xx, retriable-status
  std::vector<std::string> on = {"connect-failure", "refused-stream", "reset"};
  std::vector<uint16_t> statuses = {502, 503, 504};  // for retriable-status
  uint32_t per_try_timeout_ms = 0;                   // 0 = the route's timeout
  uint32_t backoff_base_ms = 25;  // full jitter: each wait is random in [0, base x 2^n], ...
  uint32_t backoff_max_ms = 250;  // ... capped here
  // Non-idempotent methods are retried only when this is set and the body fits the 64 KiB
  // replay buffer.
  bool non_idempotent = false;

  bool enabled() const { return attempts > 0; }
  bool operator==(const RetryPolicy&) const = default;
};

struct Route {
  std::string id;
  int32_t priority = 0;
  RouteMatch match;
  bool strip_prefix = false;  // remove the matched path_prefix / path_separated_prefix
  // A DNS-named backend gets its own name as Host unless this keeps the client's.
  bool keep_host = false;
  std::vector<SplitTarget> split;
  Sticky sticky;
  std::vector<Fault> faults;
  DirectResponse direct_response;  // set: split must be empty
  uint32_t timeout_ms = 15000;
  RetryPolicy retries;
  std::string owner;  // as Service::owner

  bool operator==(const Route&) const = default;
};

struct Config {
  std::vector<Listener> listeners;
  std::vector<Service> services;
  std::vector<Route> routes;

  bool operator==(const Config&) const = default;
};

// One problem found in a document: where (field path and line) and what.
struct Error {
  std::string field;  // "routes[0].split[1].weight"
  int line = 0;       // 1-based line in the source document, 0 when unknown
  std::string message;

  bool operator==(const Error&) const = default;
};

}  // namespace turnout::config
