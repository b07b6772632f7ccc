#include "config/address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>

namespace turnout::config {
namespace {

void setWhy(std::string* why, std::string_view text) {
  if (why != nullptr) *why = text;
}

bool isDigit(char c) { return c >= '0' && c <= '9'; }

// inet_pton wants a NUL-terminated string; hosts are short, so a stack copy is enough.
bool toCString(std::string_view host, char (&buf)[INET6_ADDRSTRLEN + 1]) {
  if (host.size() >= sizeof(buf)) return false;
  std::memcpy(buf, host.data(), host.size());
  buf[host.size()] = '\0';
  return true;
}

}  // namespace

bool splitHostPort(std::string_view text, std::string_view& host, std::string_view& port,
                   std::string* why) {
  size_t colon;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) {
      setWhy(why, "missing ']' after the IPv6 address");
      return false;
    }
    host = text.substr(1, close - 1);
    colon = close + 1;
    if (colon >= text.size() || text[colon] != ':') {
      setWhy(why, "must end with :PORT");
      return false;
    }
  } else {
    colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      setWhy(why, "must end with :PORT");
      return false;
    }
    host = text.substr(0, colon);
    if (host.find(':') != std::string_view::npos) {
      setWhy(why, "an IPv6 address needs brackets: [::1]:PORT");
      return false;
    }
  }
  port = text.substr(colon + 1);
  if (host.empty()) {
    setWhy(why, "the host is missing");
    return false;
  }
  return true;
}

bool parsePort(std::string_view text, uint32_t min_port, uint16_t& port) {
  if (text.empty() || text.size() > 5) return false;
  for (char c : text) {
    if (!isDigit(c)) return false;
  }
  uint32_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  if (value < min_port || value > 65535) return false;
  port = static_cast<uint16_t>(value);
  return true;
}

bool looksLikeDnsName(std::string_view host) {
  bool has_letter = false;
  for (char c : host) {
    bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!letter && !isDigit(c) && c != '-' && c != '.') return false;
    has_letter = has_letter || letter;
  }
  return has_letter;
}

bool parseIpPort(std::string_view text, sockaddr_storage& out, socklen_t& len, std::string* why) {
  std::string_view host, port_text;
  if (!splitHostPort(text, host, port_text, why)) return false;
  uint16_t port = 0;
  if (!parsePort(port_text, 1, port)) {
    setWhy(why, "the port must be a number between 1 and 65535");
    return false;
  }
  char buf[INET6_ADDRSTRLEN + 1];
  bool bracketed = text.front() == '[';
  out = sockaddr_storage{};
  if (toCString(host, buf)) {
    if (!bracketed) {
      auto* v4 = reinterpret_cast<sockaddr_in*>(&out);
      if (inet_pton(AF_INET, buf, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        len = sizeof(sockaddr_in);
        return true;
      }
    } else {
      auto* v6 = reinterpret_cast<sockaddr_in6*>(&out);
      if (inet_pton(AF_INET6, buf, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        len = sizeof(sockaddr_in6);
        return true;
      }
    }
  }
  if (!bracketed && looksLikeDnsName(host)) {
    setWhy(why, "an IP address is needed here, not a DNS name");
  } else {
    setWhy(why, "must be IP:PORT or [IPv6]:PORT");
  }
  return false;
}

bool checkEndpointAddress(std::string_view text, std::string* why) {
  sockaddr_storage ignored;
  socklen_t length = 0;
  std::string ip_why;
  if (parseIpPort(text, ignored, length, &ip_why)) return true;
  std::string_view host, port_text;
  uint16_t port = 0;
  if (text.front() == '[' || !splitHostPort(text, host, port_text, why) ||
      !looksLikeDnsName(host)) {
    setWhy(why, ip_why);
    return false;
  }
  if (!parsePort(port_text, 1, port)) {
    setWhy(why, "the port must be a number between 1 and 65535");
    return false;
  }
  if (isDnsName(host, /*trailing_dot=*/true)) return true;
  setWhy(why, "must be IP:PORT, [IPv6]:PORT or a DNS name:PORT");
  return false;
}

namespace {
bool isLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
}  // namespace

bool isDnsName(std::string_view host, bool trailing_dot) {
  if (trailing_dot && !host.empty() && host.back() == '.') host.remove_suffix(1);
  bool ok = !host.empty() && host.size() <= 253;
  for (size_t start = 0; ok;) {
    size_t dot = host.find('.', start);
    std::string_view label = host.substr(start, dot == std::string_view::npos ? dot : dot - start);
    ok = !label.empty() && label.size() <= 63 && label.front() != '-' && label.back() != '-';
    for (char c : label) ok = ok && (isDigit(c) || c == '-' || isLetter(c));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return ok;
}

std::string withDefaultPort(std::string_view address, uint16_t port) {
  const bool bracketed = !address.empty() && address.front() == '[' && address.back() == ']';
  const bool bare = bracketed || (!address.empty() && address.find(':') == std::string_view::npos);
  std::string out(address);
  if (bare) out += ":" + std::to_string(port);
  return out;
}

bool checkListenAddress(std::string_view text, std::string* why) {
  std::string_view host, port_text;
  if (!splitHostPort(text, host, port_text, why)) return false;
  uint16_t port = 0;
  if (!parsePort(port_text, 0, port)) {
    setWhy(why, "the port must be a number between 0 and 65535");
    return false;
  }
  char buf[INET6_ADDRSTRLEN + 1];
  in6_addr scratch;
  bool is_ip = toCString(host, buf) &&
               (inet_pton(AF_INET, buf, &scratch) == 1 || inet_pton(AF_INET6, buf, &scratch) == 1);
  if (!is_ip && !looksLikeDnsName(host)) {
    setWhy(why, "the host must be an IP address or a host name");
    return false;
  }
  return true;
}

}  // namespace turnout::config
