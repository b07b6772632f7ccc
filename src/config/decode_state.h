// What decoding one document leaves behind besides the model: the errors it found, the line of
// every field (so the semantic checks of config/checks.h, which know nothing of the source
// format, can still report lines), and which fields already failed (so a semantic error there
// would only repeat it). Private to the config module.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "config/model.h"

namespace turnout::config {

class DecodeState {
 public:
  // Records a problem at `field`, found at `line` (0 when unknown).
  void fail(const std::string& field, int line, std::string message);

  // Remembers where `field` is spelt out; the first mention wins, line 0 is not kept.
  void noteLine(const std::string& field, int line) {
    if (line > 0) lines_.emplace(field, line);
  }

  // The line remembered for exactly `field`, 0 if none.
  int exactLine(const std::string& field) const;

  // The 1-based line of `field`, or of its nearest ancestor the document spells out; 0 if none.
  int lineOf(std::string_view field) const;

  // True when decoding already reported a problem at `field` or at one of its ancestors, so a
  // semantic error there would only repeat it (a map given as a name is also an empty name).
  bool alreadyReported(std::string_view field) const;

  // Adds the semantic errors that are not repeats, with their lines, and sorts everything by
  // line (stable: errors on one line keep the order they were found in).
  std::vector<Error> finish(std::vector<Error> semantic) &&;

  const std::vector<Error>& errors() const { return errors_; }

 private:
  std::vector<Error> errors_;
  std::unordered_map<std::string, int> lines_;
  std::unordered_set<std::string> failed_;
};

}  // namespace turnout::config
