#include "ctl/render.h"

#include <cstdio>
#include <ctime>
#include <vector>

namespace turnout::ctl {

namespace {

using nlohmann::json;

// A cell from any JSON value: strings as they are, numbers as text, absent as `fallback`.
std::string cell(const json& object, const char* key, const char* fallback = "-") {
  if (!object.is_object()) return fallback;
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return fallback;
  if (it->is_string()) {
    const auto& s = it->get_ref<const std::string&>();
    return s.empty() ? fallback : s;
  }
  return it->dump();
}

std::string distinctVersions(const json& endpoints) {
  std::vector<std::string> seen;
  for (const json& endpoint : endpoints) {
    std::string version = cell(endpoint, "version", "");
    if (version.empty()) continue;
    bool known = false;
    for (const std::string& v : seen) known = known || v == version;
    if (!known) seen.push_back(version);
  }
  std::string out;
  for (const std::string& v : seen) out.append(out.empty() ? "" : ",").append(v);
  return out.empty() ? "-" : out;
}

// "web" for one target, "web:v1=90,web:v2=10" for a weighted split.
std::string splitText(const json& split) {
  if (!split.is_array() || split.empty()) return "-";
  std::string out;
  for (const json& target : split) {
    if (!out.empty()) out += ",";
    out += cell(target, "service", "?");
    std::string version = cell(target, "version", "");
    if (!version.empty()) out.append(":").append(version);
    if (split.size() > 1) out.append("=").append(cell(target, "weight", "1"));
  }
  return out;
}

std::string pathText(const json& match) {
  for (const char* key : {"path_prefix", "path", "path_regex"}) {
    std::string value = cell(match, key, "");
    if (!value.empty()) return value;
  }
  return "*";
}

// object[key], or null when `object` is not an object or lacks the key.
const json& field(const json& object, const char* key) {
  static const json kNull;
  if (!object.is_object()) return kNull;
  auto it = object.find(key);
  return it == object.end() ? kNull : *it;
}

const json& listOrEmpty(const json& list) {
  static const json kEmpty = json::array();
  return list.is_array() ? list : kEmpty;
}

}  // namespace

Row serviceRow(const json& service) {
  const json& endpoints = listOrEmpty(field(service, "endpoints"));
  return {cell(service, "name"), cell(service, "lb"), std::to_string(endpoints.size()),
          distinctVersions(endpoints)};
}

Row routeRow(const json& route) {
  const json& match = field(route, "match");
  return {cell(route, "id"), cell(route, "priority", "0"), cell(match, "host", "*"),
          pathText(match), splitText(field(route, "split"))};
}

Row changeRow(const json& change) {
  std::string time = "-";
  if (const json& ms = field(change, "time_ms"); ms.is_number_integer()) {
    time = formatTimeMs(ms.get<long long>());
  }
  return {cell(change, "revision"), time, cell(change, "kind"), cell(change, "name"),
          cell(change, "source")};
}

void writeServicesTable(std::ostream& out, const json& services) {
  std::vector<Row> rows;
  for (const json& s : listOrEmpty(services)) rows.push_back(serviceRow(s));
  writeTable(out, {"NAME", "LB", "ENDPOINTS", "VERSIONS"}, rows);
}

void writeRoutesTable(std::ostream& out, const json& routes) {
  std::vector<Row> rows;
  for (const json& r : listOrEmpty(routes)) rows.push_back(routeRow(r));
  writeTable(out, {"ID", "PRIORITY", "HOST", "PATH", "SPLIT"}, rows);
}

void writeChangesTable(std::ostream& out, const json& changes) {
  std::vector<Row> rows;
  for (const json& c : listOrEmpty(changes)) rows.push_back(changeRow(c));
  writeTable(out, {"REVISION", "TIME", "KIND", "NAME", "SOURCE"}, rows);
}

std::string formatTimeMs(long long ms) {
  std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm utc{};
  if (ms < 0 || gmtime_r(&seconds, &utc) == nullptr) return "-";
  char text[80];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<int>(ms % 1000));
  return text;
}

}  // namespace turnout::ctl
