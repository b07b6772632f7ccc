// YAML to JSON conversion for `apply`. YAML scalars are untyped text, JSON's are typed, so
// plain scalars are typed the way the server's YAML reader would read them (see .cc).
#pragma once

#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>

namespace turnout::ctl {

// Throws std::runtime_error for a map key that is not a scalar.
nlohmann::json yamlToJson(const YAML::Node& node);

}  // namespace turnout::ctl
