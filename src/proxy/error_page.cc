#include "proxy/error_page.h"

#include <algorithm>

#include <string>

#include "http/message.h"

namespace turnout::proxy {
namespace {

// Escapes for both HTML text and JSON strings: reasons and ids are ours, but stay careful.
std::string escapeText(std::string_view text, bool json) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '<':
        out += json ? "<" : "&lt;";
        break;
      case '>':
        out += json ? ">" : "&gt;";
        break;
      case '&':
        out += json ? "&" : "&amp;";
        break;
      case '"':
        out += json ? "\\\"" : "&quot;";
        break;
      case '\\':
        out += json ? "\\\\" : "\\";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) break;  // no control characters
        out += c;
    }
  }
  return out;
}

}  // namespace

std::string_view reasonPhrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 304:
      return "Not Modified";
    case 401:
      return "Unauthorized";
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 412:
      return "Precondition Failed";
    case 422:
      return "Unprocessable Content";
    case 429:
      return "Too Many Requests";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return status < 400 ? "OK" : status < 500 ? "Client Error" : "Server Error";
  }
}

bool prefersJson(std::string_view accept) {
  return accept.find("application/json") != std::string_view::npos ||
         accept.find("+json") != std::string_view::npos;
}

// A listener's page with {{status}}, {{reason}} and {{request_id}} filled in (HTML-escaped).
static std::string fillPage(const std::string& page, std::string_view code, std::string_view reason,
                            std::string_view request_id) {
  std::string out;
  out.reserve(page.size() + 64);
  for (size_t i = 0; i < page.size();) {
    auto at = [&](std::string_view token) { return page.compare(i, token.size(), token) == 0; };
    if (at("{{status}}")) {
      out += code;
      i += 10;
    } else if (at("{{reason}}")) {
      out += escapeText(reason, false);
      i += 10;
    } else if (at("{{request_id}}")) {
      out += escapeText(request_id, false);
      i += 14;
    } else {
      out += page[i++];
    }
  }
  return out;
}

bool rawHeadAcceptsJson(std::string_view raw) {
  raw = raw.substr(0, std::min<size_t>(raw.size(), 64 * 1024));
  for (size_t line = raw.find('\n'); line != std::string_view::npos;
       line = raw.find('\n', line + 1)) {
    std::string_view rest = raw.substr(line + 1);
    if (rest.size() < 7 || !http::equalsIgnoreCase(rest.substr(0, 7), "accept:")) continue;
    std::string_view value = rest.substr(7, rest.find('\n') - 7);
    return prefersJson(value);
  }
  return false;
}

std::string renderErrorResponse(int status, std::string_view reason, std::string_view request_id,
                                bool json, bool close, bool head_only,
                                const std::string* custom_html, std::string_view extra_lines) {
  const std::string code = std::to_string(status);
  const std::string_view phrase = reasonPhrase(status);
  std::string body;
  if (json) {
    body = "{\"error\":{\"status\":" + code + ",\"reason\":\"" + escapeText(reason, true) +
           "\",\"request_id\":\"" + escapeText(request_id, true) + "\"}}\n";
  } else if (custom_html != nullptr) {
    body = fillPage(*custom_html, code, reason, request_id);
  } else {
    body = "<!DOCTYPE html>\n<html><head><title>" + code + " " + std::string(phrase) +
           "</title></head>\n<body><h1>" + code + " " + std::string(phrase) + "</h1>\n<p>" +
           escapeText(reason, false) +
           "</p>\n<p><small>request id: " + escapeText(request_id, false) +
           " &middot; turnout</small></p>\n</body></html>\n";
  }
  std::string out;
  out.reserve(body.size() + 256);
  out += "HTTP/1.1 " + code + " " + std::string(phrase) + "\r\n";
  // 204 and 304 (an injected fault may answer them) never have a body, nor a length for one.
  const bool bodyless = status == 204 || status == 304;
  if (!bodyless) {
    out +=
        json ? "Content-Type: application/json\r\n" : "Content-Type: text/html; charset=utf-8\r\n";
    out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  out += "Cache-Control: no-store\r\n";
  if (!request_id.empty()) out += "X-Request-Id: " + std::string(request_id) + "\r\n";
  if (close) out += "Connection: close\r\n";
  out += extra_lines;
  out += "\r\n";
  if (!head_only && !bodyless) out += body;
  return out;
}

}  // namespace turnout::proxy
