#include "proxy/forward_headers.h"

#include <array>

namespace turnout::proxy {
namespace {

constexpr std::array<std::string_view, 9> kHopByHop = {
    "connection",        "keep-alive",         "proxy-connection",   "te", "trailer", "upgrade",
    "transfer-encoding", "proxy-authenticate", "proxy-authorization"};

// The values of every Connection header, joined, for the "named in Connection" rule.
std::string connectionTokens(const std::vector<http::HeaderField>& headers) {
  std::string tokens;
  for (const auto& h : headers) {
    if (!http::equalsIgnoreCase(h.name, "connection")) continue;
    if (!tokens.empty()) tokens += ',';
    tokens.append(h.value);
  }
  return tokens;
}

void appendField(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  out.append(": ");
  out.append(value);
  out.append("\r\n");
}

}  // namespace

bool isHopByHop(std::string_view name, std::string_view connection_value) {
  for (std::string_view hop : kHopByHop) {
    if (http::equalsIgnoreCase(name, hop)) return true;
  }
  return !connection_value.empty() && http::listHasToken(connection_value, name);
}

std::string_view findHeader(const std::vector<http::HeaderField>& headers, std::string_view name,
                            bool* found) {
  for (const auto& h : headers) {
    if (http::equalsIgnoreCase(h.name, name)) {
      if (found) *found = true;
      return h.value;
    }
  }
  if (found) *found = false;
  return {};
}

std::string replaceUpstreamHost(std::string& head, std::string_view host) {
  constexpr std::string_view kHost = "\r\nHost: ";
  const size_t start = head.find(kHost);
  if (start == std::string::npos) return {};
  const size_t value = start + kHost.size();
  const size_t end = head.find("\r\n", value);
  if (end == std::string::npos) return {};
  std::string previous = head.substr(value, end - value);
  head.replace(value, end - value, host);
  return previous;
}

void appendUpstreamRequestHead(std::string& out, const http::RequestHead& head,
                               const UpstreamRequestInfo& info) {
  const std::string connection = connectionTokens(head.headers);
  out.append(head.method);
  out += ' ';
  out.append(info.path);
  if (!head.query.empty() || head.target.find('?') != std::string_view::npos) {
    out += '?';
    out.append(head.query);
  }
  out.append(head.version_minor == 0 ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n");
  appendField(out, "Host", head.authority);

  std::string forwarded_for;
  std::string_view upgrade_value;
  for (const auto& h : head.headers) {
    if (http::equalsIgnoreCase(h.name, "upgrade")) upgrade_value = h.value;
    if (isHopByHop(h.name, connection) || http::equalsIgnoreCase(h.name, "host") ||
        http::equalsIgnoreCase(h.name, "content-length") ||
        http::equalsIgnoreCase(h.name, "x-forwarded-proto") ||
        (info.strip_expect && http::equalsIgnoreCase(h.name, "expect"))) {
      continue;
    }
    if (http::equalsIgnoreCase(h.name, "x-forwarded-for")) {
      if (!forwarded_for.empty()) forwarded_for += ", ";
      forwarded_for.append(h.value);
      continue;
    }
    if (http::equalsIgnoreCase(h.name, "x-request-id")) continue;  // written below, once
    appendField(out, h.name, h.value);
  }
  if (head.framing == http::BodyFraming::kContentLength) {
    appendField(out, "Content-Length", std::to_string(head.content_length));
  } else if (head.framing == http::BodyFraming::kChunked) {
    appendField(out, "Transfer-Encoding", "chunked");
  }
  if (!forwarded_for.empty()) forwarded_for += ", ";
  forwarded_for.append(info.client_ip);
  appendField(out, "X-Forwarded-For", forwarded_for);
  appendField(out, "X-Forwarded-Proto", "http");
  appendField(out, "X-Request-Id", info.request_id);
  if (info.upgrade && !upgrade_value.empty()) {
    appendField(out, "Connection", "upgrade");
    appendField(out, "Upgrade", upgrade_value);
  }
  out.append("\r\n");
}

void appendClientResponseHead(std::string& out, const http::ResponseHead& head,
                              const ClientResponseInfo& info) {
  const std::string connection = connectionTokens(head.headers);
  out.append("HTTP/1.1 ");
  out.append(std::to_string(head.status));
  out += ' ';
  out.append(head.reason);
  out.append("\r\n");
  bool has_request_id = false;
  std::string_view upgrade_value;
  for (const auto& h : head.headers) {
    if (info.upgrade && http::equalsIgnoreCase(h.name, "upgrade")) upgrade_value = h.value;
    if (isHopByHop(h.name, connection)) continue;
    // Framing headers are rewritten from the parser's decision; a HEAD/304 answer keeps its
    // Content-Length, which describes the body it would have had.
    if (http::equalsIgnoreCase(h.name, "content-length") &&
        head.framing != http::BodyFraming::kNone) {
      continue;
    }
    if (http::equalsIgnoreCase(h.name, "x-request-id")) has_request_id = true;
    appendField(out, h.name, h.value);
  }
  if (head.framing == http::BodyFraming::kContentLength) {
    appendField(out, "Content-Length", std::to_string(head.content_length));
  } else if (head.framing == http::BodyFraming::kChunked) {
    appendField(out, "Transfer-Encoding", "chunked");
  }
  if (!has_request_id && !info.request_id.empty())
    appendField(out, "X-Request-Id", info.request_id);
  if (info.upgrade) {
    appendField(out, "Connection", "upgrade");
    if (!upgrade_value.empty()) appendField(out, "Upgrade", upgrade_value);
  } else if (info.close) {
    appendField(out, "Connection", "close");
  }
  out.append(info.extra_lines);
  out.append("\r\n");
}

}  // namespace turnout::proxy
