#include "core/net.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

namespace turnout::core {

bool resolveListenAddress(std::string_view text, sockaddr_storage& out, socklen_t& len,
                          std::string& why) {
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    why = "expected HOST:PORT";
    return false;
  }
  std::string_view host = text.substr(0, colon);
  std::string_view port_text = text.substr(colon + 1);
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535) {
    why = "invalid port";
    return false;
  }
  std::memset(&out, 0, sizeof out);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    std::string ip(host.substr(1, host.size() - 2));
    auto* a6 = reinterpret_cast<sockaddr_in6*>(&out);
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons(static_cast<uint16_t>(port));
    if (inet_pton(AF_INET6, ip.c_str(), &a6->sin6_addr) != 1) {
      why = "invalid IPv6 address";
      return false;
    }
    len = sizeof(sockaddr_in6);
    return true;
  }
  auto* a4 = reinterpret_cast<sockaddr_in*>(&out);
  a4->sin_family = AF_INET;
  a4->sin_port = htons(static_cast<uint16_t>(port));
  len = sizeof(sockaddr_in);
  if (host.empty() || host == "*" || host == "0.0.0.0") {
    a4->sin_addr.s_addr = htonl(INADDR_ANY);
    return true;
  }
  if (host == "localhost") {
    a4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return true;
  }
  std::string ip(host);
  if (inet_pton(AF_INET, ip.c_str(), &a4->sin_addr) != 1) {
    why = "invalid IP address '" + ip + "'";
    return false;
  }
  return true;
}

int listenTcp(const sockaddr_storage& addr, socklen_t len, int backlog, std::string& why) {
  int fd = ::socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    why = std::strerror(errno);
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), len) != 0 ||
      ::listen(fd, backlog) != 0) {
    why = formatAddress(addr) + ": " + std::strerror(errno);
    ::close(fd);
    return -1;
  }
  return fd;
}

std::string formatAddress(const sockaddr_storage& addr) {
  char ip[INET6_ADDRSTRLEN] = "?";
  unsigned port = 0;
  if (addr.ss_family == AF_INET6) {
    const auto* a6 = reinterpret_cast<const sockaddr_in6*>(&addr);
    inet_ntop(AF_INET6, &a6->sin6_addr, ip, sizeof ip);
    port = ntohs(a6->sin6_port);
    return "[" + std::string(ip) + "]:" + std::to_string(port);
  }
  const auto* a4 = reinterpret_cast<const sockaddr_in*>(&addr);
  inet_ntop(AF_INET, &a4->sin_addr, ip, sizeof ip);
  port = ntohs(a4->sin_port);
  return std::string(ip) + ":" + std::to_string(port);
}

std::string peerIp(const sockaddr_storage& addr) {
  char ip[INET6_ADDRSTRLEN] = "";
  if (addr.ss_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_addr, ip, sizeof ip);
  } else {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&addr)->sin_addr, ip, sizeof ip);
  }
  return ip;
}

std::string localAddress(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  return formatAddress(addr);
}

int connectNonBlocking(const sockaddr_storage& addr, socklen_t len) {
  int fd = ::socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  setNoDelay(fd);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), len) != 0 && errno != EINPROGRESS) {
    int saved = errno;
    ::close(fd);
    errno = saved;
    return -1;
  }
  return fd;
}

void setNoDelay(int fd) {
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

}  // namespace turnout::core
