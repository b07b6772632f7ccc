// What one compiled route and service answer on the request path.
#include <re2/re2.h>

#include "route/snapshot.h"

namespace turnout::route {
namespace {

bool headerMatches(const std::string& name, const re2::RE2& pattern,
                   const std::vector<http::HeaderField>& headers) {
  // A header sent several times matches if any of its values does.
  for (const http::HeaderField& field : headers) {
    if (http::equalsIgnoreCase(field.name, name) &&
        RE2::PartialMatch(re2::StringPiece(field.value.data(), field.value.size()), pattern)) {
      return true;
    }
  }
  return false;
}

}  // namespace

const EndpointSet* CompiledService::forVersion(std::string_view version) const {
  if (version.empty()) return all.get();
  for (const auto& [name, set] : by_version) {
    if (name == version) return set.get();
  }
  return nullptr;
}

CompiledRoute::~CompiledRoute() = default;

// The host was matched by the index; this checks the rest. A path prefix is a plain string
// prefix, so "/api" also matches "/apix" (Envoy does the same): write "/api/" to mean a segment.
bool CompiledRoute::matchesRequest(std::string_view path,
                                   const std::vector<http::HeaderField>& request_headers) const {
  const config::RouteMatch& match = source.match;
  if (!match.path.empty() && path != match.path) return false;
  if (!match.path_prefix.empty() && !path.starts_with(match.path_prefix)) return false;
  for (const auto& [name, pattern] : headers) {
    if (!headerMatches(name, *pattern, request_headers)) return false;
  }
  return true;
}

const CompiledTarget* CompiledRoute::pickTarget(std::mt19937_64& rng) const {
  if (total_weight == 0) return nullptr;
  uint64_t r = rng() % total_weight;
  // `cumulative` includes the target's own weight, so a weight 0 target is never the first
  // one above r.
  for (const CompiledTarget& target : targets) {
    if (r < target.cumulative) return &target;
  }
  return &targets.back();
}

std::string CompiledRoute::upstreamPath(std::string_view path) const {
  const std::string& prefix = source.match.path_prefix;
  if (!source.strip_prefix || prefix.empty() || !path.starts_with(prefix)) {
    return std::string(path);
  }
  std::string_view rest = path.substr(prefix.size());
  if (rest.starts_with('/')) return std::string(rest);
  std::string out = "/";
  out += rest;
  return out;
}

}  // namespace turnout::route
