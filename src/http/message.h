// Plain HTTP message types shared by the HTTP/1.1 codec and the proxy pipeline.
// Every string_view points into the connection's receive buffer: the parser copies nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace turnout::http {

struct HeaderField {
  std::string_view name;
  std::string_view value;  // leading and trailing whitespace already trimmed
};

// How the body of a message is delimited: one decision, made once, by the parser.
enum class BodyFraming : uint8_t {
  kNone,           // no body (GET without framing headers, HEAD responses, 1xx/204/304)
  kContentLength,  // exactly `content_length` bytes
  kChunked,        // chunked transfer coding, ends with the last chunk and trailers
  kUntilClose,     // responses only: the body ends when the upstream closes
};

struct Limits {
  size_t max_head_bytes = 64 * 1024;   // request line + headers (431 past it)
  size_t max_headers = 100;            // header count (431 past it)
  size_t max_target_bytes = 8 * 1024;  // request target (414 past it)
};

struct RequestHead {
  std::string_view method;
  std::string_view target;     // as sent (origin-form, absolute-form, authority-form or "*")
  std::string_view path;       // the path part (absolute-form reduced to it), without the query
  std::string_view query;      // after '?', without it; empty when absent
  std::string_view authority;  // Host header value, or the authority of an absolute-form target
  int version_minor = 1;       // HTTP/1.<minor>: 0 or 1
  std::vector<HeaderField> headers;
  size_t head_bytes = 0;  // bytes of the buffer the head used, including the final CRLF

  BodyFraming framing = BodyFraming::kNone;
  uint64_t content_length = 0;
  bool keep_alive = true;        // after this exchange, per version and Connection
  bool expect_continue = false;  // Expect: 100-continue
  bool upgrade = false;          // Connection: upgrade with an Upgrade header

  void clear();
};

struct ResponseHead {
  int version_minor = 1;
  int status = 0;
  std::string_view reason;
  std::vector<HeaderField> headers;
  size_t head_bytes = 0;

  BodyFraming framing = BodyFraming::kNone;
  uint64_t content_length = 0;
  bool keep_alive = true;  // whether the upstream connection may be reused after the body

  void clear();
};

// Case-insensitive ASCII comparison, for header names and tokens.
bool equalsIgnoreCase(std::string_view a, std::string_view b);

// True if the comma-separated token list `list` (a Connection-style header value) holds `token`.
bool listHasToken(std::string_view list, std::string_view token);

}  // namespace turnout::http
