// Who this proxy stands for: the caller identity of a sidecar (--identity NAME:VERSION,
// A8_SERVICE, TURNOUT_IDENTITY). Routes, version selectors and faults can be scoped to a source;
// the compiler keeps only those that name this identity.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/model.h"

namespace turnout::config {

struct Identity {
  std::string name;     // "" = no identity: only unscoped objects apply
  std::string version;  // "v1", or Amalgam8's tag list "v1,canary"; may be ""

  // "reviews:v2" -> {reviews, v2}; "reviews" -> {reviews, ""}. Amalgam8's early "source_v1"
  // stays a name: the underscore form is matched by matches(), not split here.
  static Identity parse(std::string_view text);

  // Whether a `source` condition names this identity: "" (no condition), "NAME" (any version),
  // "NAME:VERSION" or "NAME_VERSION" (Amalgam8's early form). A VERSION of several
  // comma-separated tags needs each of them among the identity's tags; "version=v2" and "v2"
  // are the same tag.
  bool matches(std::string_view source) const;

  std::string text() const { return version.empty() ? name : name + ":" + version; }
  bool operator==(const Identity&) const = default;
};

// Syntax errors of an identity or a `source` ("NAME" or "NAME:VERSION"); empty when valid.
std::vector<Error> checkIdentity(std::string_view text);

}  // namespace turnout::config
