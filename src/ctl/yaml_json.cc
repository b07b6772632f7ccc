#include "ctl/yaml_json.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>

namespace turnout::ctl {

namespace {

// How to type the plain scalars below a node. The server reads YAML leniently: any scalar
// is text where the model wants text (`version: 1` is the version "1"), but it reads JSON
// strictly. So fields the model defines as text stay text here; everything else is typed
// as YAML 1.2's core schema would (null, bool, integer, float, else string).
enum class Hint { kInfer, kString, kStringValues };

Hint hintFor(std::string_view key) {
  static constexpr std::string_view kTextFields[] = {
      "name",    "id",     "address", "version", "host", "path_prefix", "path",
      "service", "cookie", "source",  "type",    "lb",   "protocol",    "on",
  };
  for (std::string_view field : kTextFields) {
    if (key == field) return Hint::kString;
  }
  // Header and cookie matches map free-form names to text (regexes, values).
  if (key == "headers" || key == "cookies") return Hint::kStringValues;
  return Hint::kInfer;
}

bool isNullText(const std::string& t) {
  return t.empty() || t == "~" || t == "null" || t == "Null" || t == "NULL";
}

nlohmann::json typedScalar(const std::string& t) {
  if (isNullText(t)) return nullptr;
  if (t == "true" || t == "True" || t == "TRUE") return true;
  if (t == "false" || t == "False" || t == "FALSE") return false;
  std::string_view digits = t;
  if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
  int64_t integer = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), integer);
  if (!digits.empty() && ec == std::errc() && end == digits.data() + digits.size()) {
    return integer;
  }
  // A float must look like one: "1e3", "2.5"; not "inf"/"nan" (JSON has no such numbers),
  // not an integer too large for int64 (sent as text so the server names the field).
  bool looks_float = t.find_first_of(".eE") != std::string::npos &&
                     t.find_first_not_of("+-.0123456789eE") == std::string::npos;
  if (looks_float) {
    char* stop = nullptr;
    double value = std::strtod(t.c_str(), &stop);
    if (stop == t.c_str() + t.size() && std::isfinite(value)) return value;
  }
  return t;
}

nlohmann::json convert(const YAML::Node& node, Hint hint);

nlohmann::json convertMap(const YAML::Node& node, Hint hint) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& entry : node) {
    if (!entry.first.IsScalar()) {
      throw std::runtime_error("line " + std::to_string(entry.first.Mark().line + 1) +
                               ": a map key must be a scalar");
    }
    const std::string& key = entry.first.Scalar();
    Hint child = hint == Hint::kStringValues ? Hint::kString : hintFor(key);
    out[key] = convert(entry.second, child);
  }
  return out;
}

nlohmann::json convert(const YAML::Node& node, Hint hint) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Scalar:
      // Quoted scalars (tag "!") are always text, as in JSON.
      if (node.Tag() == "!" || hint == Hint::kString) return node.Scalar();
      return typedScalar(node.Scalar());
    case YAML::NodeType::Sequence: {
      nlohmann::json out = nlohmann::json::array();
      Hint item = hint == Hint::kString ? Hint::kString : Hint::kInfer;
      for (const YAML::Node& child : node) out.push_back(convert(child, item));
      return out;
    }
    case YAML::NodeType::Map:
      return convertMap(node, hint == Hint::kStringValues ? hint : Hint::kInfer);
  }
  return nullptr;
}

}  // namespace

nlohmann::json yamlToJson(const YAML::Node& node) { return convert(node, Hint::kInfer); }

}  // namespace turnout::ctl
