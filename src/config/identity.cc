#include "config/identity.h"

#include <vector>

namespace turnout::config {
namespace {

std::vector<std::string_view> splitTags(std::string_view list) {
  std::vector<std::string_view> tags;
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view tag = list.substr(0, comma);
    if (!tag.empty()) tags.push_back(tag);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return tags;
}

std::string_view bareTag(std::string_view tag) {
  if (tag.starts_with("version=")) tag.remove_prefix(8);
  return tag;
}

bool hasTag(const std::vector<std::string_view>& tags, std::string_view wanted) {
  for (std::string_view tag : tags) {
    if (bareTag(tag) == bareTag(wanted)) return true;
  }
  return false;
}

}  // namespace

Identity Identity::parse(std::string_view text) {
  Identity identity;
  size_t colon = text.find(':');
  identity.name = std::string(text.substr(0, colon));
  if (colon != std::string_view::npos) identity.version = std::string(text.substr(colon + 1));
  return identity;
}

bool Identity::matches(std::string_view source) const {
  if (source.empty()) return true;
  if (name.empty()) return false;
  size_t colon = source.find(':');
  if (colon == std::string_view::npos) {
    // "NAME", or the early Amalgam8 "NAME_VERSION".
    if (source == name) return true;
    return !version.empty() && source.size() == name.size() + 1 + version.size() &&
           source.starts_with(name) && source[name.size()] == '_' && source.ends_with(version);
  }
  if (source.substr(0, colon) != name) return false;
  std::vector<std::string_view> mine = splitTags(version);
  for (std::string_view wanted : splitTags(source.substr(colon + 1))) {
    if (!hasTag(mine, wanted)) return false;
  }
  return true;
}

}  // namespace turnout::config
