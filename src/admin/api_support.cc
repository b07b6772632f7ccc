#include "admin/api_support.h"

#include <charconv>
#include <nlohmann/json.hpp>

#include "http/message.h"

namespace turnout::admin::api {
namespace {

constexpr size_t kDefaultPageSize = 1000;
constexpr size_t kMaxPageSize = 10000;

bool parseUnsigned(std::string_view text, uint64_t& out) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

std::string mediaType(std::string_view content_type) {
  std::string type(content_type.substr(0, content_type.find(';')));
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.pop_back();
  for (char& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return type;
}

std::string selectFields(const std::string& item, const std::vector<std::string>& fields) {
  nlohmann::json parsed = nlohmann::json::parse(item, nullptr, false);
  if (!parsed.is_object()) return item;
  nlohmann::json kept = nlohmann::json::object();
  for (const auto& field : fields) {
    if (auto it = parsed.find(field); it != parsed.end()) kept[field] = *it;
  }
  return kept.dump();
}

}  // namespace

std::string quote(std::string_view text) { return nlohmann::json(std::string(text)).dump(); }

AdminResponse json(int status, std::string body) {
  AdminResponse response;
  response.status = status;
  response.body = std::move(body);
  if (response.body.empty() || response.body.back() != '\n') response.body += '\n';
  return response;
}

AdminResponse error(int status, std::string_view message, std::string_view field) {
  return errors(status, {config::Error{std::string(field), 0, std::string(message)}});
}

AdminResponse errors(int status, const std::vector<config::Error>& found) {
  if (found.empty()) return error(status, "refused");
  nlohmann::json list = nlohmann::json::array();
  for (const auto& e : found) list.push_back({{"field", e.field}, {"message", e.message}});
  nlohmann::json body = {
      {"error", {{"code", status}, {"message", found[0].message}, {"field", found[0].field}}},
      {"errors", list}};
  return json(status, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

AdminResponse methodNotAllowed(std::string_view allow) {
  AdminResponse response = error(405, "method not allowed; allowed: " + std::string(allow));
  response.headers.emplace_back("Allow", std::string(allow));
  return response;
}

bool bodyFormat(const AdminRequest& request, config::Format& format, AdminResponse& refusal) {
  const std::string type = mediaType(request.header("content-type"));
  if (type.empty() || type == "application/json") {
    format = config::Format::kJson;
    return true;
  }
  if (type == "application/yaml" || type == "application/x-yaml" || type == "text/yaml" ||
      type == "text/x-yaml") {
    format = config::Format::kYaml;
    return true;
  }
  refusal = error(
      415, "unsupported Content-Type '" + type + "': send application/json or application/yaml");
  return false;
}

bool ifMatch(const AdminRequest& request, std::optional<uint64_t>& revision,
             AdminResponse& refusal) {
  std::string value = request.header("if-match");
  if (value.empty() || value == "*") return true;
  std::string_view v = value;
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  uint64_t parsed = 0;
  if (!parseUnsigned(v, parsed)) {
    refusal = error(400, "If-Match must be a revision such as \"12\"", "If-Match");
    return false;
  }
  revision = parsed;
  return true;
}

std::string queryParam(std::string_view query, std::string_view name, bool* present) {
  if (present) *present = false;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    const size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name) {
      if (present) *present = true;
      std::string decoded;
      if (eq == std::string_view::npos || !percentDecode(pair.substr(eq + 1), decoded)) return "";
      return decoded;
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return "";
}

bool percentDecode(std::string_view text, std::string& out) {
  out.clear();
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    unsigned value = 0;
    if (i + 2 >= text.size()) return false;
    auto [end, ec] = std::from_chars(text.data() + i + 1, text.data() + i + 3, value, 16);
    if (ec != std::errc() || end != text.data() + i + 3) return false;
    out += static_cast<char>(value);
    i += 2;
  }
  return true;
}

AdminResponse applied(const control::ApplyResult& result, int success_status,
                      std::string_view object_key, std::string_view object_json) {
  if (result.status >= 400) return errors(result.status, result.errors);
  std::string body = "{\"revision\":" + std::to_string(result.revision);
  if (!object_key.empty())
    body += ",\"" + std::string(object_key) + "\":" + std::string(object_json);
  body += ",\"apply_us\":{\"compile\":" + std::to_string(result.compile_us) +
          ",\"commit\":" + std::to_string(result.commit_us) +
          ",\"publish\":" + std::to_string(result.publish_us) + "}";
  if (!result.propagated) body += ",\"warning\":\"a worker did not take the change within 1 s\"";
  body += "}";
  return json(success_status, std::move(body));
}

AdminResponse page(const AdminRequest& request, uint64_t revision, std::string_view key,
                   const std::vector<std::string>& items) {
  uint64_t limit = kDefaultPageSize, offset = 0;
  bool has_limit = false, has_offset = false;
  const std::string limit_text = queryParam(request.query, "limit", &has_limit);
  const std::string offset_text = queryParam(request.query, "offset", &has_offset);
  if (has_limit && (!parseUnsigned(limit_text, limit) || limit == 0 || limit > kMaxPageSize)) {
    return error(400, "limit must be an integer from 1 to 10000", "limit");
  }
  if (has_offset && !parseUnsigned(offset_text, offset)) {
    return error(400, "offset must be a non-negative integer", "offset");
  }
  std::vector<std::string> fields;
  const std::string fields_text = queryParam(request.query, "fields");
  for (size_t start = 0; start < fields_text.size();) {
    size_t comma = fields_text.find(',', start);
    if (comma == std::string::npos) comma = fields_text.size();
    if (comma > start) fields.push_back(fields_text.substr(start, comma - start));
    start = comma + 1;
  }
  std::string body = "{\"revision\":" + std::to_string(revision) +
                     ",\"total\":" + std::to_string(items.size()) +
                     ",\"offset\":" + std::to_string(offset) +
                     ",\"limit\":" + std::to_string(limit) + ",\"" + std::string(key) + "\":[";
  const size_t end = std::min<size_t>(items.size(), offset + limit);
  for (size_t i = offset; i < end; ++i) {
    if (i > offset) body += ',';
    body += fields.empty() ? items[i] : selectFields(items[i], fields);
  }
  body += "]";
  if (end < items.size()) body += ",\"next_offset\":" + std::to_string(end);
  body += "}";
  return json(200, std::move(body));
}

}  // namespace turnout::admin::api
