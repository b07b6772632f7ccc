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

  bool operator==(const Listener&) const = default;
};

struct Endpoint {
  std::string address;  // "IP:PORT" ("[v6]:PORT" for IPv6)
  std::string version;  // "" when the service is not versioned
  uint32_t weight = 1;

  bool operator==(const Endpoint&) const = default;
};

struct Service {
  std::string name;
  std::string lb = "round_robin";  // random | round_robin | least_request (more in later issues)
  std::vector<Endpoint> endpoints;

  bool operator==(const Service&) const = default;
};

struct RouteMatch {
  std::string host;         // exact ("api.example.com") or wildcard ("*.example.com"); "" = any
  std::string path;         // exact path; "" = not set
  std::string path_prefix;  // prefix; "" = not set (and "/" matches everything)
  std::map<std::string, std::string> headers;  // header name -> RE2 pattern (unanchored search)

  bool operator==(const RouteMatch&) const = default;
};

struct SplitTarget {
  std::string service;
  std::string version;  // "" = every endpoint of the service
  uint32_t weight = 1;

  bool operator==(const SplitTarget&) const = default;
};

struct Route {
  std::string id;
  int32_t priority = 0;
  RouteMatch match;
  bool strip_prefix = false;
  std::vector<SplitTarget> split;
  uint32_t timeout_ms = 15000;

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
