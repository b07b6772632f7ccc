// Address syntax shared by validation (config) and compilation (route): "HOST:PORT",
// "IP:PORT" and "[IPv6]:PORT". Private to the config and route modules.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace turnout::config {

// Splits "HOST:PORT" / "[v6]:PORT" into host (brackets removed) and port text. False when the
// shape is wrong (no port, unbalanced brackets, unbracketed IPv6); `why` says which.
bool splitHostPort(std::string_view text, std::string_view& host, std::string_view& port,
                   std::string* why);

// Parses a decimal port in [min_port, 65535].
bool parsePort(std::string_view text, uint32_t min_port, uint16_t& port);

// True for a plausible DNS name: letters, digits, '-' and '.', not all digits and dots.
bool looksLikeDnsName(std::string_view host);

// Parses "IP:PORT" / "[IPv6]:PORT" (port 1-65535) into a socket address. A DNS name is an
// error of its own ("an IP address is needed here, not a DNS name").
bool parseIpPort(std::string_view text, sockaddr_storage& out, socklen_t& len, std::string* why);

// A DNS host name (RFC 1123): labels of 1-63 letters, digits and '-' (not at either end),
// 253 bytes at most; one trailing dot when `trailing_dot` allows it.
bool isDnsName(std::string_view host, bool trailing_dot);

// Checks an endpoint address: "IP:PORT", "[IPv6]:PORT" or "NAME:PORT" (a DNS name, resolved
// at run time), port 1-65535.
bool checkEndpointAddress(std::string_view text, std::string* why);

// "www.apple.com" -> "www.apple.com:80", "[::1]" -> "[::1]:80"; an address with a port (or an
// unbracketed IPv6, which checkEndpointAddress then refuses) comes back as it is.
std::string withDefaultPort(std::string_view address, uint16_t port);

// Checks a listener address: "HOST:PORT" where HOST is an IP or a DNS name and PORT may be 0
// (pick a free port).
bool checkListenAddress(std::string_view text, std::string* why);

}  // namespace turnout::config
