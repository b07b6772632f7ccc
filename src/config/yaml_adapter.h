// yaml-cpp behind the decoder's node interface (config/node_adapter.h). Private to the config
// module.
#pragma once

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

#include "config/decode_state.h"
#include "config/node_adapter.h"

namespace turnout::config {

struct YamlAdapter {
  using Node = YAML::Node;

  static bool isNull(const Node& node) { return node.IsNull(); }
  static bool isMap(const Node& node) { return node.IsMap(); }
  static bool isSeq(const Node& node) { return node.IsSequence(); }

  // Any scalar is text in YAML: `version: 1` is the version "1".
  static bool readString(const Node& node, std::string& out) {
    if (!node.IsScalar()) return false;
    out = node.Scalar();
    return true;
  }

  static bool readInteger(const Node& node, int64_t& out) {
    if (!isPlainScalar(node)) return false;
    const std::string& text = node.Scalar();
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return !text.empty() && ec == std::errc() && end == text.data() + text.size();
  }

  // A plain decimal number ("3", "0.5", "1e-3"); not ".inf", ".nan" or hex.
  static bool readNumber(const Node& node, double& out) {
    if (!isPlainScalar(node)) return false;
    const std::string& text = node.Scalar();
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return !text.empty() && ec == std::errc() && end == text.data() + text.size() &&
           std::isfinite(out);
  }

  static bool readBool(const Node& node, bool& out) {
    if (!isPlainScalar(node)) return false;
    const std::string& text = node.Scalar();
    if (text == "true" || text == "True" || text == "TRUE") {
      out = true;
      return true;
    }
    if (text == "false" || text == "False" || text == "FALSE") {
      out = false;
      return true;
    }
    return false;
  }

  static int line(const Node& node) { return node.Mark().line >= 0 ? node.Mark().line + 1 : 0; }

  template <class Visit>
  static void forEachEntry(const Node& map, Visit visit) {
    for (const auto& entry : map) {
      const Node& key = entry.first;
      MapKey map_key{key.IsScalar(), key.IsScalar() ? std::string_view(key.Scalar()) : "",
                     line(key)};
      visit(map_key, static_cast<const Node&>(entry.second));
    }
  }

  // Iterators, not seq[i]: yaml-cpp's indexed access walks the sequence.
  template <class Visit>
  static void forEachItem(const Node& seq, Visit visit) {
    for (const Node& item : seq) visit(item);
  }

 private:
  // yaml-cpp tags quoted scalars "!" and plain ones "?": `weight: "5"` is a string, not a
  // number, exactly as it would be in JSON.
  static bool isPlainScalar(const Node& node) { return node.IsScalar() && node.Tag() != "!"; }
};

// Parses `text` into `root`; a syntax error is recorded in `state` (field "", with its line)
// and gives false. Never throws.
bool parseYaml(std::string_view text, YAML::Node& root, DecodeState& state);

}  // namespace turnout::config
