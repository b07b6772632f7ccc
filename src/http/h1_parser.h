// turnout's strict HTTP/1.1 parser (RFC 9112). Bytes in, a head or an error out; no I/O.
//
// Written here rather than taken from llhttp/picohttpparser because it sits on the hot path
// and because its job is to refuse, not to tolerate: every ambiguity that could let two hops
// frame a message differently (request smuggling) is an error, and the framing decision is
// made exactly once, here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "http/message.h"

namespace turnout::http {

enum class ParseStatus : uint8_t { kComplete, kIncomplete, kError };

struct ParseError {
  int status = 400;         // 400, 414, 431, 501 or 505 for requests; 502 for responses
  const char* reason = "";  // one line, safe to show a client ("invalid Content-Length")
};

// Parses a request head at the start of `input`. On kComplete, `out` is filled and
// out.head_bytes tells how much of `input` the head used. On kIncomplete, call again with more
// bytes (the limits are enforced on what is there so far). On kError, `error` says why.
ParseStatus parseRequestHead(std::string_view input, const Limits& limits, RequestHead& out,
                             ParseError& error);

// Parses a response head. `request_method` decides the framing of HEAD responses and
// 2xx answers to CONNECT. Any violation gives kError with status 502.
ParseStatus parseResponseHead(std::string_view input, const Limits& limits,
                              std::string_view request_method, ResponseHead& out,
                              ParseError& error);

// Walks a chunked body without decoding it, so the proxy can forward the bytes as they are
// while knowing exactly where the message ends. Strict: hex sizes without overflow, CRLF only,
// bounded chunk extensions and trailers, trailers validated like header fields.
class ChunkedScanner {
 public:
  explicit ChunkedScanner(size_t max_trailer_bytes = 64 * 1024) : max_trailer_(max_trailer_bytes) {}

  // Consumes bytes of `input` that belong to the body. Returns kComplete once the last chunk
  // and the trailers are through (*used then stops at the message end), kIncomplete when all
  // of `input` was consumed and more is needed, kError on a framing violation.
  ParseStatus scan(std::string_view input, size_t* used, ParseError& error);

  bool done() const { return state_ == State::kDone; }
  void reset() { *this = ChunkedScanner(max_trailer_); }
  // The body's size so far by the chunk sizes read (a chunk counts whole once its size line
  // is through, before its data), so a limit can refuse a chunk before forwarding any of it.
  uint64_t declaredBytes() const { return declared_bytes_; }

 private:
  enum class State : uint8_t {
    kSize,
    kExtension,
    kSizeLf,
    kData,
    kDataCr,
    kDataLf,
    kTrailerLineStart,
    kTrailerLine,
    kTrailerLf,
    kFinalLf,
    kDone,
  };
  // One byte of framing outside chunk data; each returns an error reason or nullptr.
  const char* consumeByte(unsigned char c);
  const char* consumeSizeByte(unsigned char c);
  const char* consumeTrailerByte(unsigned char c);

  State state_ = State::kSize;
  uint64_t remaining_ = 0;       // bytes of chunk data left
  uint64_t declared_bytes_ = 0;  // sum of the chunk sizes read (saturating)
  int size_digits_ = 0;
  size_t extension_bytes_ = 0;
  size_t trailer_bytes_ = 0;
  bool trailer_line_has_colon_ = false;
  size_t max_trailer_;
};

}  // namespace turnout::http
