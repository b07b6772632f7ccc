// Socket helpers: listening with SO_REUSEPORT, non-blocking connects, address formatting.
#pragma once

#include <sys/socket.h>

#include <string>
#include <string_view>

namespace turnout::core {

// Parses "HOST:PORT" where HOST is an IPv4 or bracketed IPv6 literal, "localhost" or "*"/""
// (all addresses). False with `why` set on error.
bool resolveListenAddress(std::string_view text, sockaddr_storage& out, socklen_t& len,
                          std::string& why);

// A non-blocking listening socket with SO_REUSEPORT (one per worker on the same port).
// Returns the fd, or -1 with `why` set ("127.0.0.1:8080: Address already in use").
int listenTcp(const sockaddr_storage& addr, socklen_t len, int backlog, std::string& why);

// The local address of a bound socket, as "IP:PORT".
std::string localAddress(int fd);
std::string formatAddress(const sockaddr_storage& addr);
// The peer's IP without the port, for X-Forwarded-For.
std::string peerIp(const sockaddr_storage& addr);

// Starts a non-blocking connect; -1 with errno set on immediate failure.
int connectNonBlocking(const sockaddr_storage& addr, socklen_t len);

void setNoDelay(int fd);

}  // namespace turnout::core
