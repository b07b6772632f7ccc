// JSON values written as block-style YAML for people to read. The output is valid YAML that
// `apply -f` takes back: `get service web > web.yaml`, edit, `apply -f web.yaml`.
#pragma once

#include <nlohmann/json.hpp>

#include <ostream>

namespace turnout::ctl {

void writeYaml(std::ostream& out, const nlohmann::json& value);

}  // namespace turnout::ctl
