#include "config/yaml_decode.h"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <initializer_list>
#include <limits>
#include <unordered_set>

#include "config/checks.h"

namespace turnout::config {
namespace {

using Node = YAML::Node;

std::string indexed(const std::string& path, size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

// yaml-cpp tags quoted scalars "!" and plain ones "?": `weight: "5"` is a string, not a number,
// exactly as it would be in JSON.
bool isPlainScalar(const Node& node) { return node.IsScalar() && node.Tag() != "!"; }

// Walks one document, filling the model and the decoder's errors and lines.
class Reader {
 public:
  Reader(std::vector<Error>& errors, std::unordered_map<std::string, int>& lines,
         std::vector<std::string>& failed)
      : errors_(errors), lines_(lines), failed_(failed) {}

  void document(const Node& root, Config& out) {
    if (root.IsNull()) return;  // empty, or only comments: a valid empty configuration
    fields(root, "", {"listeners", "services", "routes"},
           [&](std::string_view key, const Node& value, const std::string& field) {
             if (key == "listeners") {
               items(value, field, out.listeners,
                     [&](const Node& n, const std::string& p, Listener& l) { listener(n, p, l); });
             } else if (key == "services") {
               items(value, field, out.services,
                     [&](const Node& n, const std::string& p, Service& s) { service(n, p, s); });
             } else {
               items(value, field, out.routes,
                     [&](const Node& n, const std::string& p, Route& r) { route(n, p, r); });
             }
           });
  }

 private:
  // Reports at the line of the field's key (that of `node` if the field has no key).
  void fail(const std::string& field, std::string message, const Node* node = nullptr) {
    int line = 0;
    if (auto it = lines_.find(field); it != lines_.end()) line = it->second;
    if (line == 0 && node != nullptr) line = lineOf(*node);
    failAt(field, line, std::move(message));
  }

  void failAt(const std::string& field, int line, std::string message) {
    errors_.push_back(Error{field, line, std::move(message)});
    failed_.push_back(field);
  }

  static int lineOf(const Node& node) { return node.Mark().line >= 0 ? node.Mark().line + 1 : 0; }

  // Visits every key of a mapping, in document order. Unknown and repeated keys are errors;
  // `visit` sees only the keys listed in `known`. A null value counts as an empty mapping.
  template <class Visit>
  void fields(const Node& map, const std::string& path,
              std::initializer_list<std::string_view> known, Visit visit) {
    if (map.IsNull()) return;
    if (!map.IsMap()) return fail(path, "must be a mapping", &map);
    std::unordered_set<std::string> seen;
    for (const auto& entry : map) {
      const Node& key_node = entry.first;
      if (!key_node.IsScalar()) {
        fail(path, "keys must be strings", &key_node);
        continue;
      }
      const std::string& key = key_node.Scalar();
      std::string field = path.empty() ? key : path + "." + key;
      lines_.emplace(field, lineOf(key_node));
      if (!seen.insert(key).second) {
        failAt(field, lineOf(key_node), "duplicate key");
        continue;
      }
      bool is_known = false;
      for (auto name : known) is_known = is_known || name == key;
      if (!is_known) {
        failAt(field, lineOf(key_node), "unknown field");
        continue;
      }
      visit(std::string_view(key), entry.second, field);
    }
  }

  // Decodes a sequence into `out`, one element per item; null counts as an empty sequence.
  template <class T, class Decode>
  void items(const Node& seq, const std::string& path, std::vector<T>& out, Decode decode) {
    if (seq.IsNull()) return;
    if (!seq.IsSequence()) return fail(path, "must be a list", &seq);
    // Iterators, not seq[i]: yaml-cpp's indexed access walks the sequence.
    size_t i = 0;
    for (const Node& item : seq) {
      std::string item_path = indexed(path, i++);
      lines_.emplace(item_path, lineOf(item));
      decode(item, item_path, out.emplace_back());
    }
  }

  void string(const Node& node, const std::string& field, std::string& out) {
    if (node.IsNull()) {
      out.clear();
    } else if (node.IsScalar()) {
      out = node.Scalar();
    } else {
      fail(field, "must be a string", &node);
    }
  }

  template <class Int>
  void integer(const Node& node, const std::string& field, int64_t min, int64_t max, Int& out) {
    int64_t value = 0;
    const std::string& text = isPlainScalar(node) ? node.Scalar() : std::string();
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < min ||
        value > max) {
      return fail(
          field,
          "must be an integer between " + std::to_string(min) + " and " + std::to_string(max),
          &node);
    }
    out = static_cast<Int>(value);
  }

  void boolean(const Node& node, const std::string& field, bool& out) {
    static const std::unordered_set<std::string> kTrue = {"true", "True", "TRUE"};
    static const std::unordered_set<std::string> kFalse = {"false", "False", "FALSE"};
    if (isPlainScalar(node) && kTrue.contains(node.Scalar())) {
      out = true;
    } else if (isPlainScalar(node) && kFalse.contains(node.Scalar())) {
      out = false;
    } else {
      fail(field, "must be true or false", &node);
    }
  }

  // Keys the model names but this version does not use yet: accepted if well-formed.
  void ignoredMapping(const Node& node, const std::string& field) {
    if (!node.IsNull() && !node.IsMap()) fail(field, "must be a mapping", &node);
  }

  void ignoredListOfMappings(const Node& node, const std::string& field) {
    if (node.IsNull()) return;
    if (!node.IsSequence()) return fail(field, "must be a list", &node);
    size_t i = 0;
    for (const Node& item : node) ignoredMapping(item, indexed(field, i++));
  }

  void listener(const Node& node, const std::string& path, Listener& out) {
    fields(node, path, {"name", "address", "protocol"},
           [&](std::string_view key, const Node& value, const std::string& field) {
             if (key == "name") string(value, field, out.name);
             if (key == "address") string(value, field, out.address);
             if (key == "protocol") string(value, field, out.protocol);
           });
  }

  void service(const Node& node, const std::string& path, Service& out) {
    fields(node, path, {"name", "lb", "endpoints", "health_check", "outlier"},
           [&](std::string_view key, const Node& value, const std::string& field) {
             if (key == "name") string(value, field, out.name);
             if (key == "lb") string(value, field, out.lb);
             if (key == "endpoints") {
               items(value, field, out.endpoints,
                     [&](const Node& n, const std::string& p, Endpoint& e) { endpoint(n, p, e); });
             }
             if (key == "health_check" || key == "outlier") ignoredMapping(value, field);
           });
  }

  void endpoint(const Node& node, const std::string& path, Endpoint& out) {
    fields(node, path, {"address", "version", "weight"},
           [&](std::string_view key, const Node& value, const std::string& field) {
             if (key == "address") string(value, field, out.address);
             if (key == "version") string(value, field, out.version);
             if (key == "weight") integer(value, field, 0, checks::kMaxWeight, out.weight);
           });
  }

  void route(const Node& node, const std::string& path, Route& out) {
    fields(node, path,
           {"id", "priority", "match", "rewrite", "split", "timeout_ms", "sticky", "retries",
            "faults"},
           [&](std::string_view key, const Node& value, const std::string& field) {
             if (key == "id") string(value, field, out.id);
             if (key == "priority") {
               integer(value, field, std::numeric_limits<int32_t>::min(),
                       std::numeric_limits<int32_t>::max(), out.priority);
             }
             if (key == "match") match(value, field, out.match);
             if (key == "rewrite") rewrite(value, field, out);
             if (key == "split") {
               items(value, field, out.split,
                     [&](const Node& n, const std::string& p, SplitTarget& t) { target(n, p, t); });
             }
             if (key == "timeout_ms") {
               integer(value, field, checks::kMinTimeoutMs, checks::kMaxTimeoutMs, out.timeout_ms);
             }
             if (key == "sticky" || key == "retries") ignoredMapping(value, field);
             if (key == "faults") ignoredListOfMappings(value, field);
           });
  }

  void match(const Node& node, const std::string& path, RouteMatch& out) {
    fields(node, path, {"host", "path", "path_prefix", "headers", "cookies", "source"},
           [&](std::string_view key, const Node& value, const std::string& field) {
             if (key == "host") string(value, field, out.host);
             if (key == "path") string(value, field, out.path);
             if (key == "path_prefix") string(value, field, out.path_prefix);
             if (key == "headers") headers(value, field, out.headers);
             // Ignoring these would widen the route silently, so they are refused for now.
             if (key == "cookies" || key == "source") fail(field, "not supported yet");
           });
  }

  void headers(const Node& node, const std::string& path, std::map<std::string, std::string>& out) {
    if (node.IsNull()) return;
    if (!node.IsMap()) return fail(path, "must be a mapping of header name to pattern", &node);
    for (const auto& entry : node) {
      if (!entry.first.IsScalar()) {
        fail(path, "header names must be strings", &entry.first);
        continue;
      }
      std::string field = path + "." + entry.first.Scalar();
      lines_.emplace(field, lineOf(entry.first));
      if (out.contains(entry.first.Scalar())) {
        failAt(field, lineOf(entry.first), "duplicate key");
        continue;
      }
      string(entry.second, field, out[entry.first.Scalar()]);
    }
  }

  void rewrite(const Node& node, const std::string& path, Route& out) {
    fields(node, path, {"strip_prefix"},
           [&](std::string_view, const Node& value, const std::string& field) {
             boolean(value, field, out.strip_prefix);
           });
  }

  void target(const Node& node, const std::string& path, SplitTarget& out) {
    fields(node, path, {"service", "version", "weight"},
           [&](std::string_view key, const Node& value, const std::string& field) {
             if (key == "service") string(value, field, out.service);
             if (key == "version") string(value, field, out.version);
             if (key == "weight") integer(value, field, 0, checks::kMaxWeight, out.weight);
           });
  }

  std::vector<Error>& errors_;
  std::unordered_map<std::string, int>& lines_;
  std::vector<std::string>& failed_;
};

// "routes[0].split[1].weight" -> "routes[0].split[1]" -> "routes[0].split" -> "routes[0]" ...
std::string_view parentField(std::string_view field) {
  size_t cut = field.find_last_of(".[");
  return cut == std::string_view::npos ? std::string_view() : field.substr(0, cut);
}

}  // namespace

void YamlDecoder::decode(std::string_view text, Config& out) {
  try {
    Node root = YAML::Load(std::string(text));
    Reader(errors_, lines_, failed_fields_).document(root, out);
  } catch (const YAML::Exception& e) {
    errors_.push_back(Error{"", e.mark.line >= 0 ? e.mark.line + 1 : 0, e.msg});
  } catch (const std::exception& e) {
    errors_.push_back(Error{"", 0, e.what()});
  }
}

int YamlDecoder::lineOf(std::string_view field) const {
  for (; !field.empty(); field = parentField(field)) {
    auto it = lines_.find(std::string(field));
    if (it != lines_.end() && it->second > 0) return it->second;
  }
  return 0;
}

bool YamlDecoder::alreadyReported(std::string_view field) const {
  for (; !field.empty(); field = parentField(field)) {
    for (const std::string& failed : failed_fields_) {
      if (failed == field) return true;
    }
  }
  return false;
}

}  // namespace turnout::config
