#include "ctl/admin_api.h"

#include <charconv>

namespace turnout::ctl {

namespace {

using nlohmann::json;

// Lists are read in pages of this size; kMaxPages bounds a server that never stops paging.
constexpr int kPageSize = 1000;
constexpr int kMaxPages = 100000;

std::string errorLine(const json& item) {
  std::string field = item.is_object() ? item.value("field", "") : "";
  std::string message = item.is_object() ? item.value("message", "") : "";
  return field.empty() ? message : field + ": " + message;
}

// The first line of a non-JSON body, kept short.
std::string firstLine(std::string_view body) {
  std::string_view line = body.substr(0, body.find_first_of("\r\n"));
  if (line.size() > 200) line = line.substr(0, 200);
  return std::string(line);
}

long long revisionOf(const HttpResponse& response, const json& body) {
  if (body.is_object()) {
    auto it = body.find("revision");
    if (it != body.end() && it->is_number_integer()) return it->get<long long>();
  }
  std::string etag = response.header("ETag");
  std::string_view digits = etag;
  if (!digits.empty() && digits.front() == '"') digits.remove_prefix(1);
  if (!digits.empty() && digits.back() == '"') digits.remove_suffix(1);
  long long revision = -1;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), revision);
  return ec == std::errc() && end == digits.data() + digits.size() ? revision : -1;
}

// A non-negative integer member, or -1.
long long integerMember(const json& body, const char* key) {
  if (!body.is_object()) return -1;
  auto it = body.find(key);
  return it != body.end() && it->is_number_integer() ? it->get<long long>() : -1;
}

void appendItems(json& items, const json& body, const char* key) {
  if (!body.is_object()) return;
  auto it = body.find(key);
  if (it == body.end() || !it->is_array()) return;
  for (const json& item : *it) items.push_back(item);
}

}  // namespace

ErrorLines formatApiError(int status, std::string_view text) {
  json body = json::parse(text, nullptr, false);
  const json* main = nullptr;
  if (body.is_object() && body.contains("error") && body["error"].is_object()) {
    main = &body["error"];
  }
  if (main == nullptr) {
    std::string detail = firstLine(text);
    if (status == 401) detail = "unauthorized: set --token or TURNOUT_ADMIN_TOKEN";
    return {"HTTP " + std::to_string(status) + (detail.empty() ? "" : ": " + detail)};
  }
  std::string head = errorLine(*main);
  if (head.empty()) head = "HTTP " + std::to_string(status);
  ErrorLines lines{head + " (" + std::to_string(status) + ")"};
  // Further errors of the same call, each once (the first usually repeats the main one).
  if (body.contains("errors") && body["errors"].is_array()) {
    for (const json& item : body["errors"]) {
      std::string line = errorLine(item);
      if (!line.empty() && line != head) lines.push_back(line);
    }
  }
  return lines;
}

std::string objectPath(std::string_view collection, std::string_view name) {
  return "/v1/" + std::string(collection) + "/" + percentEncode(name);
}

bool AdminApi::call(const std::string& method, const std::string& target, const json* body,
                    ApiAnswer& answer, ErrorLines& error) const {
  HttpRequest request{method, target, "", ""};
  if (body != nullptr) {
    request.body = body->dump();
    request.content_type = "application/json";
  }
  HttpResponse response;
  HttpFailure failure;
  if (!http_.send(request, response, failure)) {
    error = {failure.message};
    return false;
  }
  answer.status = response.status;
  answer.body = json::parse(response.body, nullptr, false);
  if (answer.body.is_discarded()) answer.body = nullptr;
  answer.revision = revisionOf(response, answer.body);
  if (response.status >= 400) {
    error = formatApiError(response.status, response.body);
    return false;
  }
  return true;
}

bool AdminApi::list(const std::string& collection, json& items, long long& revision,
                    ErrorLines& error) const {
  items = json::array();
  revision = -1;
  long long offset = 0;
  for (int page = 0; page < kMaxPages; ++page) {
    ApiAnswer answer;
    std::string target = "/v1/" + collection + "?limit=" + std::to_string(kPageSize) +
                         "&offset=" + std::to_string(offset);
    if (!call("GET", target, nullptr, answer, error)) return false;
    if (revision < 0) revision = answer.revision;
    appendItems(items, answer.body, collection.c_str());
    long long next = integerMember(answer.body, "next_offset");
    if (next <= offset) return true;  // no next page (or one that would not advance)
    offset = next;
  }
  return true;
}

bool AdminApi::changes(long long since, json& items, long long& revision, bool& truncated,
                       ErrorLines& error) const {
  items = json::array();
  revision = -1;
  truncated = false;
  for (int page = 0; page < kMaxPages; ++page) {
    ApiAnswer answer;
    if (!call("GET", "/v1/changes?since=" + std::to_string(since), nullptr, answer, error)) {
      return false;
    }
    revision = answer.revision;
    if (answer.body.is_object() && answer.body.value("truncated", json()) == true) {
      truncated = true;
    }
    appendItems(items, answer.body, "changes");
    long long next = integerMember(answer.body, "next_since");
    if (next <= since) return true;
    since = next;
  }
  return true;
}

}  // namespace turnout::ctl
