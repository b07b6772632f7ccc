#include "ctl/http_client.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <strings.h>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>

namespace turnout::ctl {

namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kMaxResponseBytes = 256u << 20;  // a 10k-object page is a few MiB

// Closes the socket on every path out of send().
struct Socket {
  int fd = -1;
  ~Socket() {
    if (fd >= 0) ::close(fd);
  }
};

int remainingMs(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

// Waits for `events` on fd until the deadline; false on timeout.
bool waitFor(int fd, short events, Clock::time_point deadline) {
  pollfd p{fd, events, 0};
  for (;;) {
    int n = ::poll(&p, 1, remainingMs(deadline));
    if (n > 0) return true;
    if (n == 0) return false;
    if (errno != EINTR) return false;
  }
}

// Non-blocking connect to one resolved address, bounded by the deadline. Returns the
// connected fd or -1 with errno-based text in `why`.
int connectOne(const addrinfo* ai, Clock::time_point deadline, std::string& why) {
  int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
  if (fd < 0) {
    why = std::strerror(errno);
    return -1;
  }
  if (::connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) return fd;
  if (errno == EINPROGRESS && waitFor(fd, POLLOUT, deadline)) {
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err == 0) return fd;
    errno = err;
  } else if (errno == EINPROGRESS) {
    errno = ETIMEDOUT;
  }
  why = std::strerror(errno);
  ::close(fd);
  return -1;
}

// Resolves and connects to the first address that answers.
int connectTo(const std::string& host, const std::string& port, Clock::time_point deadline,
              std::string& why) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* list = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &list); rc != 0) {
    why = ::gai_strerror(rc);
    return -1;
  }
  int fd = -1;
  for (addrinfo* ai = list; ai != nullptr && fd < 0; ai = ai->ai_next) {
    fd = connectOne(ai, deadline, why);
  }
  ::freeaddrinfo(list);
  return fd;
}

bool sendAll(int fd, std::string_view data, Clock::time_point deadline) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!waitFor(fd, POLLOUT, deadline)) return false;
    } else {
      return false;
    }
  }
  return true;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && ::strncasecmp(a.data(), b.data(), a.size()) == 0;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool parseStatusLine(std::string_view line, int& status) {
  if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." || line[8] != ' ') return false;
  status = 0;
  for (size_t i = 9; i < 12; ++i) {
    if (line[i] < '0' || line[i] > '9') return false;
    status = status * 10 + (line[i] - '0');
  }
  return line.size() == 12 || line[12] == ' ';
}

bool parseHead(std::string_view head, HttpResponse& out, std::string& why) {
  size_t eol = head.find("\r\n");
  if (!parseStatusLine(head.substr(0, eol), out.status)) {
    why = "malformed status line";
    return false;
  }
  out.headers.clear();
  while (eol != std::string_view::npos && eol + 2 < head.size()) {
    size_t start = eol + 2;
    eol = head.find("\r\n", start);
    std::string_view line = head.substr(start, eol - start);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      why = "malformed header line";
      return false;
    }
    out.headers.emplace_back(line.substr(0, colon), trim(line.substr(colon + 1)));
  }
  return true;
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes a chunked body; kIncomplete until the last chunk and the trailers are in.
ParseStatus decodeChunked(std::string_view data, std::string& body, std::string& why) {
  body.clear();
  size_t pos = 0;
  for (;;) {
    size_t eol = data.find("\r\n", pos);
    if (eol == std::string_view::npos) return ParseStatus::kIncomplete;
    size_t size = 0;
    size_t i = pos;
    for (int digit; i < eol && (digit = hexValue(data[i])) >= 0; ++i) {
      size = size * 16 + static_cast<size_t>(digit);
      if (size > kMaxResponseBytes) break;
    }
    if (i == pos || size > kMaxResponseBytes || (i < eol && data[i] != ';')) {
      why = "malformed chunk size";
      return ParseStatus::kError;
    }
    pos = eol + 2;
    if (size == 0) {
      // Trailers end with an empty line.
      return data.find("\r\n\r\n", pos - 2) == std::string_view::npos ? ParseStatus::kIncomplete
                                                                      : ParseStatus::kComplete;
    }
    if (data.size() < pos + size + 2) return ParseStatus::kIncomplete;
    body.append(data.substr(pos, size));
    pos += size + 2;
  }
}

bool parseLength(std::string_view text, size_t& out) {
  if (text.empty() || text.size() > 12) return false;
  out = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    out = out * 10 + static_cast<size_t>(c - '0');
  }
  return true;
}

ParseStatus parseBody(std::string_view rest, bool at_eof, HttpResponse& out, std::string& why) {
  if (out.status == 204 || out.status == 304 || out.status < 200) {
    out.body.clear();
    return ParseStatus::kComplete;
  }
  std::string te = out.header("Transfer-Encoding");
  if (!te.empty()) {
    if (!iequals(trim(te), "chunked")) {
      why = "unsupported Transfer-Encoding";
      return ParseStatus::kError;
    }
    return decodeChunked(rest, out.body, why);
  }
  std::string cl = out.header("Content-Length");
  if (!cl.empty()) {
    size_t length = 0;
    if (!parseLength(trim(cl), length)) {
      why = "malformed Content-Length";
      return ParseStatus::kError;
    }
    if (rest.size() < length) return ParseStatus::kIncomplete;
    out.body.assign(rest.substr(0, length));
    return ParseStatus::kComplete;
  }
  if (!at_eof) return ParseStatus::kIncomplete;
  out.body.assign(rest);
  return ParseStatus::kComplete;
}

// Reads until the answer is complete. False with `why` set.
bool readResponse(int fd, Clock::time_point deadline, HttpResponse& response, std::string& why) {
  std::string received;
  char buf[65536];
  for (;;) {
    if (!waitFor(fd, POLLIN, deadline)) {
      why = "no answer within the timeout";
      return false;
    }
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    bool eof = n <= 0;  // a reset after a complete answer still ends it
    if (n > 0) received.append(buf, static_cast<size_t>(n));
    if (received.size() > kMaxResponseBytes) {
      why = "the answer is too large";
      return false;
    }
    ParseStatus status = parseHttpResponse(received, eof, response, why);
    if (status == ParseStatus::kComplete) return true;
    if (status == ParseStatus::kError) return false;
  }
}

}  // namespace

std::string HttpResponse::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) return value;
  }
  return "";
}

bool splitHostPort(std::string_view address, std::string& host, std::string& port) {
  if (address.rfind("http://", 0) == 0) address.remove_prefix(7);
  if (!address.empty() && address.back() == '/') address.remove_suffix(1);
  size_t colon = address.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == address.size()) return false;
  std::string_view h = address.substr(0, colon);
  if (h.front() == '[') {
    if (h.size() < 3 || h.back() != ']') return false;
    h = h.substr(1, h.size() - 2);
  } else if (h.find(':') != std::string_view::npos) {
    return false;  // an IPv6 literal needs brackets
  }
  std::string_view p = address.substr(colon + 1);
  size_t number = 0;
  if (!parseLength(p, number) || number == 0 || number > 65535) return false;
  host.assign(h);
  port.assign(p);
  return true;
}

std::string serializeRequest(const HttpRequest& request, std::string_view host_header,
                             std::string_view token) {
  std::string out;
  out.reserve(256 + request.body.size());
  out.append(request.method).append(" ").append(request.target).append(" HTTP/1.1\r\n");
  out.append("Host: ").append(host_header).append("\r\n");
  out.append("User-Agent: turnout-ctl/0.1\r\nAccept: application/json\r\nConnection: close\r\n");
  if (!token.empty()) out.append("Authorization: Bearer ").append(token).append("\r\n");
  bool has_body = !request.body.empty() || request.method == "PUT" || request.method == "POST";
  if (has_body) {
    if (!request.content_type.empty()) {
      out.append("Content-Type: ").append(request.content_type).append("\r\n");
    }
    out.append("Content-Length: ").append(std::to_string(request.body.size())).append("\r\n");
  }
  out.append("\r\n").append(request.body);
  return out;
}

ParseStatus parseHttpResponse(std::string_view bytes, bool at_eof, HttpResponse& out,
                              std::string& why) {
  size_t head_end = bytes.find("\r\n\r\n");
  if (head_end == std::string_view::npos) {
    if (!at_eof) return ParseStatus::kIncomplete;
    why = bytes.empty() ? "empty answer" : "truncated answer";
    return ParseStatus::kError;
  }
  if (!parseHead(bytes.substr(0, head_end + 2), out, why)) return ParseStatus::kError;
  ParseStatus status = parseBody(bytes.substr(head_end + 4), at_eof, out, why);
  if (status == ParseStatus::kIncomplete && at_eof) {
    why = "truncated answer";
    return ParseStatus::kError;
  }
  return status;
}

std::string percentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

bool HttpClient::send(const HttpRequest& request, HttpResponse& response,
                      HttpFailure& failure) const {
  std::string host, port;
  if (!splitHostPort(address_, host, port)) {
    failure.message = "invalid admin address '" + address_ + "' (expected HOST:PORT)";
    return false;
  }
  auto deadline = Clock::now() + std::chrono::milliseconds(static_cast<long>(timeout_s_ * 1000));
  std::string why;
  Socket sock{connectTo(host, port, deadline, why)};
  if (sock.fd < 0) {
    failure.message = "cannot connect to the admin API at " + address_ + ": " + why;
    return false;
  }
  std::string host_header =
      host.find(':') != std::string::npos ? "[" + host + "]:" + port : host + ":" + port;
  errno = 0;
  bool sent = sendAll(sock.fd, serializeRequest(request, host_header, token_), deadline);
  std::string send_error = errno == 0 ? "timed out" : std::strerror(errno);
  // Even when sending failed, the server may have answered before closing (a 413 for a body
  // over its limit): that answer says more than the broken pipe.
  if (readResponse(sock.fd, deadline, response, why)) return true;
  failure.message = sent ? "no usable answer from the admin API at " + address_ + ": " + why
                         : "cannot send to the admin API at " + address_ + ": " + send_error;
  return false;
}
}  // namespace turnout::ctl
