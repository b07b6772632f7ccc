// Semantic checks of one configuration object, shared by validate() (whole documents) and
// route::Compiler::apply() (one changed object checked against the running snapshot).
// Private to the config and route modules.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "config/model.h"

namespace turnout::config::checks {

// Whether a split target exists where the route is checked.
enum class TargetStatus { kOk, kUnknownService, kUnknownVersion };
using TargetLookup =
    std::function<TargetStatus(std::string_view service, std::string_view version)>;

// "routes[0]" + "match" -> "routes[0].match"; an empty base gives the field alone (objects
// checked on their own, as in the admin API, have paths relative to themselves).
std::string fieldPath(std::string_view base, std::string_view field);

// Each appends its findings to `errors`, with fields under `path`; lines are left at 0.
void checkListener(const Listener& listener, const std::string& path, std::vector<Error>& errors);
void checkService(const Service& service, const std::string& path, std::vector<Error>& errors);
// Endpoints of one service: addresses (IP:PORT, no duplicates) and weights; fields are
// `path`[i].address, `path`[i].weight.
void checkEndpoints(const std::vector<Endpoint>& endpoints, const std::string& path,
                    std::vector<Error>& errors);
void checkRoute(const Route& route, const std::string& path, const TargetLookup& lookup,
                std::vector<Error>& errors);

// Names of listeners and services: letters, digits, '.', '_' and '-' (kNameRule when not).
bool isValidName(std::string_view name);
inline constexpr const char* kNameRule = "must contain only letters, digits, '.', '_' and '-'";

// An exact host name ("api.example.com", one trailing dot allowed): dot-separated labels of
// 1-63 letters, digits, '-' or '_', 253 characters at most; no port, wildcard or brackets.
// False with the reason in `why`.
bool checkHostName(std::string_view host, std::string* why);

// The statuses turnout answers itself with a page, which error_pages can replace.
bool isOwnErrorStatus(uint32_t status);
// The largest error page file.
inline constexpr size_t kMaxErrorPageBytes = 64 * 1024;
// Reads an error page file; false with `why` when it is missing, unreadable or too big.
bool readErrorPage(const std::string& file, std::string& out, std::string* why);

// Limits shared with the decoder (config/decoder.h), which reports out-of-range integers itself.
inline constexpr uint32_t kMaxWeight = 10000;
inline constexpr uint32_t kMinTimeoutMs = 1;
inline constexpr uint32_t kMaxTimeoutMs = 3600000;
// Every other duration of the model (health checks, ejections, slow start, retry backoff).
inline constexpr uint32_t kMaxDurationMs = 3600000;
inline constexpr uint32_t kMinHealthIntervalMs = 100;
inline constexpr uint32_t kMaxHealthThreshold = 100;  // healthy / unhealthy
inline constexpr uint32_t kMaxRetryAttempts = 10;
inline constexpr uint32_t kMinStatus = 100;
inline constexpr uint32_t kMaxStatus = 599;

// "must be an integer between MIN and MAX", the message of every out-of-range integer.
std::string rangeRule(int64_t min, int64_t max);

// An item of health_check.expected_statuses: a status, or a range "LO-HI".
inline constexpr const char* kStatusItemRule =
    "must be a status between 100 and 599, or a range \"LO-HI\" such as \"200-299\"";

}  // namespace turnout::config::checks
