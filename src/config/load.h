// Reading and validating configuration documents into the model, and writing the model back
// as JSON. YAML files, admin API bodies (JSON or YAML) and etcd values share one decoder, so
// field names, types and error messages are the same whatever the format.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config/model.h"

namespace turnout::config {

// kJson goes through nlohmann::json (about 20x yaml-cpp's speed); kYaml accepts JSON too, as
// YAML does, but slowly: bulk loads through the admin API must say kJson.
enum class Format : uint8_t { kYaml, kJson };

// Parses a whole document and validates it as a whole: types, unknown and duplicate keys,
// ranges, address syntax, duplicate names and ids, routes that split to unknown services or
// versions. Returns every error found, each with its field path (and line: always for YAML,
// for JSON syntax errors only); `out` is meaningful only when the result is empty. An empty
// YAML document is an empty configuration; an empty JSON text is an error ("{}" is not).
//
// Two other shapes are accepted and translated into the model. A root holding `proxy` is
// paralarva's config.yaml ({proxy: {listen: {address, port}, services: [{name, domain, hosts:
// [{address, port}]}]}}): one listener "paralarva", and per service a service and a route on
// its domain; errors name paralarva's fields ("proxy.services[1].domain"). A top-level
// `fallback: "IP:PORT"` (in either shape) adds a service and a route named "fallback" at the
// lowest priority, taking every request no other route matches.
std::vector<Error> parseDocument(std::string_view text, Format format, Config& out);

// Same as parseDocument(text, Format::kYaml, out).
std::vector<Error> parseDocument(std::string_view text, Config& out);

// Whether an empty YAML document (blank, comments only, "---", null) is an empty
// configuration (a file) or an error (an API body: replacing everything with nothing by
// accident is too easy; "{}" says it on purpose).
enum class Empty : uint8_t { kAllowedInYaml, kRefused };
std::vector<Error> parseDocument(std::string_view text, Format format, Empty empty, Config& out);

// One object as the admin API receives it (PUT/POST bodies). Field paths are relative to the
// object ("split[0].weight", "endpoints[2].address"). Everything that needs only the object is
// checked (types, unknown keys, ranges, address syntax, regex validity, duplicate endpoint
// addresses, ...); what needs other objects (split targets exist, names unique) is the caller's,
// against the running snapshot (config/checks.h). An empty body is an error ("empty document").
std::vector<Error> parseService(std::string_view text, Format format, Service& out);
std::vector<Error> parseRoute(std::string_view text, Format format, Route& out);
std::vector<Error> parseListener(std::string_view text, Format format, Listener& out);

// JSON this program wrote itself (the store's rows): types and field names are checked, the
// semantic checks are not, so a row stays readable when a later version checks more.
std::vector<Error> decodeStored(std::string_view json, Listener& out);
std::vector<Error> decodeStored(std::string_view json, Service& out);
std::vector<Error> decodeStored(std::string_view json, Route& out);

// A list of endpoints, or an object {"endpoints": [...]}; field paths are
// "endpoints[2].address" in both forms.
std::vector<Error> parseEndpoints(std::string_view text, Format format, std::vector<Endpoint>& out);

// Reads `path` and parses it as YAML; an unreadable file is one error with field "" and line 0.
std::vector<Error> loadFile(const std::string& path, Config& out);

// Validation on its own, for models built in code (quick mode, admin API).
std::vector<Error> validate(const Config& config);

// "file:12: routes[0].split[0].weight: must be an integer between 0 and 10000"
std::string formatError(std::string_view source, const Error& error);

// Compact JSON with every field of the model under its model name, which the parsers above
// read back to an equal object. Strings that are not valid UTF-8 (possible only in models
// built in code) have each bad byte replaced by U+FFFD, so the output is always valid JSON.
std::string toJson(const Config& config);  // {"listeners":[...],"services":[...],"routes":[...]}
std::string toJson(const Listener& listener);
std::string toJson(const Service& service);
std::string toJson(const Route& route);
std::string toJson(const Endpoint& endpoint);

}  // namespace turnout::config
