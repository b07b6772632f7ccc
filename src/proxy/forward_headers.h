// Serializing the heads a proxy sends on: hop-by-hop headers removed (RFC 9110 §7.6.1),
// including every header the Connection header names; forwarding headers added; framing
// headers written from the parser's single framing decision, never copied.
#pragma once

#include <string>
#include <string_view>

#include "http/message.h"

namespace turnout::proxy {

struct UpstreamRequestInfo {
  std::string_view path;        // path to send (after any prefix strip)
  std::string_view client_ip;   // for X-Forwarded-For
  std::string_view request_id;  // X-Request-Id to send
  bool upgrade = false;         // forward Upgrade + Connection: upgrade
  bool strip_expect = false;    // we answered 100-continue ourselves
};

// Appends the request head to send upstream (HTTP/1.1, or HTTP/1.0 for a 1.0 client so the
// answer cannot come back chunked).
void appendUpstreamRequestHead(std::string& out, const http::RequestHead& head,
                               const UpstreamRequestInfo& info);

struct ClientResponseInfo {
  std::string_view request_id;   // added when the upstream did not send one
  bool close = false;            // the client connection ends after this response
  bool upgrade = false;          // a 101 switching protocols: keep Upgrade and Connection
  std::string_view extra_lines;  // complete header lines we add ("Set-Cookie: ...\r\n")
};

// Replaces the value of the Host line of a head written by appendUpstreamRequestHead (it is
// always the first header there): a DNS-named backend gets its own name as Host. Returns the
// value replaced.
std::string replaceUpstreamHost(std::string& head, std::string_view host);

// Appends the response head to send to the client.
void appendClientResponseHead(std::string& out, const http::ResponseHead& head,
                              const ClientResponseInfo& info);

// True for a hop-by-hop header: the fixed list or a name listed in `connection` tokens.
bool isHopByHop(std::string_view name, std::string_view connection_value);

// The value of the first header called `name`, or "" (sets *found).
std::string_view findHeader(const std::vector<http::HeaderField>& headers, std::string_view name,
                            bool* found = nullptr);

}  // namespace turnout::proxy
