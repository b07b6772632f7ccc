#include "ctl/yaml_out.h"

#include <string>

namespace turnout::ctl {

namespace {

// Plain scalars that YAML would read as something other than this string (a number, a
// bool, null) or not at all (indicators, ": ", " #") are written JSON-quoted, which is a
// valid YAML double-quoted scalar.
bool needsQuotes(const std::string& s) {
  if (s.empty()) return true;
  if (nlohmann::json::parse(s, nullptr, false, true).is_primitive()) return true;
  static const std::string kWords[] = {"~",     "null",  "Null",  "NULL", "true", "True", "TRUE",
                                       "false", "False", "FALSE", "yes",  "no",   "on",   "off"};
  for (const std::string& word : kWords) {
    if (s == word) return true;
  }
  if (std::string("-?:,[]{}#&*!|>'\"%@`.+").find(s.front()) != std::string::npos) return true;
  if (s.front() == ' ' || s.back() == ' ' || s.back() == ':') return true;
  if (s.find(": ") != std::string::npos || s.find(" #") != std::string::npos) return true;
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

std::string scalar(const nlohmann::json& v) {
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    return needsQuotes(s) ? v.dump() : s;
  }
  return v.dump();  // numbers, bools, null
}

bool isEmptyContainer(const nlohmann::json& v) { return v.is_structured() && v.empty(); }

std::string keyText(const std::string& key) {
  return needsQuotes(key) ? nlohmann::json(key).dump() : key;
}

void writeNode(std::ostream& out, const nlohmann::json& v, int indent);

void writeMap(std::ostream& out, const nlohmann::json& v, int indent, bool first_inline) {
  bool first = true;
  for (const auto& [key, child] : v.items()) {
    if (!(first && first_inline)) out << std::string(indent, ' ');
    first = false;
    out << keyText(key) << ':';
    if (child.is_structured() && !child.empty()) {
      out << '\n';
      // Lists under a key are not indented further, as kubectl and most YAML writers do.
      writeNode(out, child, child.is_array() ? indent : indent + 2);
    } else {
      out << ' ' << (isEmptyContainer(child) ? child.dump() : scalar(child)) << '\n';
    }
  }
}

void writeList(std::ostream& out, const nlohmann::json& v, int indent) {
  for (const nlohmann::json& item : v) {
    out << std::string(indent, ' ') << '-';
    if (item.is_object() && !item.empty()) {
      out << ' ';
      writeMap(out, item, indent + 2, true);  // the first key shares the dash's line
    } else if (item.is_array() && !item.empty()) {
      out << '\n';
      writeList(out, item, indent + 2);
    } else {
      out << ' ' << (isEmptyContainer(item) ? item.dump() : scalar(item)) << '\n';
    }
  }
}

void writeNode(std::ostream& out, const nlohmann::json& v, int indent) {
  if (v.is_object() && !v.empty()) {
    writeMap(out, v, indent, false);
  } else if (v.is_array() && !v.empty()) {
    writeList(out, v, indent);
  } else {
    out << std::string(indent, ' ') << (isEmptyContainer(v) ? v.dump() : scalar(v)) << '\n';
  }
}

}  // namespace

void writeYaml(std::ostream& out, const nlohmann::json& value) { writeNode(out, value, 0); }

}  // namespace turnout::ctl
