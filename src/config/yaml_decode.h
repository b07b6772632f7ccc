// YAML -> model, with types, unknown keys and integer ranges checked here and the line of
// every field remembered, so that the semantic checks (config/checks.h), which know nothing of
// YAML, can still report lines. Private to the config module.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "config/model.h"

namespace turnout::config {

class YamlDecoder {
 public:
  // Decodes `text` into `out`, collecting errors instead of stopping at the first one.
  void decode(std::string_view text, Config& out);

  const std::vector<Error>& errors() const { return errors_; }

  // The 1-based line of `field`, or of its nearest ancestor the document spells out; 0 if none.
  int lineOf(std::string_view field) const;

  // True when decoding already reported a problem at `field` or at one of its ancestors, so a
  // semantic error there would only repeat it (a map given as a name is also an empty name).
  bool alreadyReported(std::string_view field) const;

 private:
  std::vector<Error> errors_;
  std::unordered_map<std::string, int> lines_;
  std::vector<std::string> failed_fields_;
};

}  // namespace turnout::config
