// Reading and validating configuration documents into the model.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/model.h"

namespace turnout::config {

// Parses a YAML (or JSON, a YAML subset) document and validates it as a whole: types, unknown
// keys, ranges, address syntax, duplicate names and ids, routes that split to unknown
// services or versions. Returns every error found, each with its field path and line; `out`
// is meaningful only when the result is empty.
std::vector<Error> parseDocument(std::string_view text, Config& out);

// Reads `path` and parses it; an unreadable file is one error with field "" and line 0.
std::vector<Error> loadFile(const std::string& path, Config& out);

// Validation on its own, for models built in code (quick mode, admin API).
std::vector<Error> validate(const Config& config);

// "file:12: routes[0].split[0].weight: must be an integer between 0 and 10000"
std::string formatError(std::string_view source, const Error& error);

}  // namespace turnout::config
