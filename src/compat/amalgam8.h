// Amalgam8's sidecar admin API (seed 000; DESIGN §1 `/a8-admin`): its payloads translated into
// native services and routes owned by "a8", and the native objects rendered back as its state.
//
// Two payload shapes are accepted on the same endpoint:
//   - the 2016 one: {"upstreams":{"svc_v1":{"servers":[{host,port}]}}, "services":{"svc":
//     {"default":"v1","selectors":"{v2={weight=0.5}}"}}, "faults":[...]};
//   - the later one: {"instances":[...], "rules":[...]} (reference §1.6).
// Each a8 service becomes a service (its endpoints tagged with their version) and a route on
// /<service> (path_separated_prefix, prefix stripped); selectors become split targets; faults
// become route faults scoped to their source, so that only this proxy's identity gets them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/identity.h"
#include "config/model.h"

namespace turnout::compat {

inline constexpr std::string_view kA8Owner = "a8";

struct A8Objects {
  std::vector<config::Service> services;
  std::vector<config::Route> routes;
};

enum class A8Parse : uint8_t { kOk, kBadJson, kInvalid };

// Translates a /a8-admin body. kBadJson: `error` is the JSON parser's message; kInvalid:
// `error` names the field ("services.helloworld.default: missing"). `identity` is this proxy's:
// the later shape drops its own service's instances, as the original did.
A8Parse translateA8(std::string_view body, const config::Identity& identity, A8Objects& out,
                    std::string& error);

// GET /a8-admin: the a8-owned objects in the 2016 shape
// ({"services":{...},"upstreams":{...},"faults":[...]}).
std::string renderA8State(const config::Config& owned);

}  // namespace turnout::compat
