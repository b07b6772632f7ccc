// Unit tests for the strict HTTP/1.1 parser: one test per request-smuggling vector, then the
// positive behaviour (forms, keep-alive, limits, incremental input) and the chunked scanner.
#include "http/h1_parser.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace turnout::http {
namespace {

using namespace std::string_literals;

struct RequestResult {
  ParseStatus status;
  RequestHead head;
  ParseError error;
};

RequestResult parseRequest(std::string_view input, const Limits& limits = {}) {
  RequestResult r;
  r.status = parseRequestHead(input, limits, r.head, r.error);
  return r;
}

// The result's views point into `input`: refuse temporaries so no test reads freed memory.
template <typename T>
requires std::is_same_v<T, std::string> RequestResult parseRequest(T&& input,
                                                                   const Limits& limits = {})
= delete;

struct ResponseResult {
  ParseStatus status;
  ResponseHead head;
  ParseError error;
};

ResponseResult parseResponse(std::string_view input, std::string_view method = "GET",
                             const Limits& limits = {}) {
  ResponseResult r;
  r.status = parseResponseHead(input, limits, method, r.head, r.error);
  return r;
}

template <typename T>
requires std::is_same_v<T, std::string> ResponseResult
parseResponse(T&& input, std::string_view method = "GET", const Limits& limits = {})
= delete;

// Asserts that `input` is rejected with `status` and returns the reason for further checks.
std::string expectRequestError(std::string_view input, int status, const Limits& limits = {}) {
  RequestResult r = parseRequest(input, limits);
  EXPECT_EQ(r.status, ParseStatus::kError) << input;
  EXPECT_EQ(r.error.status, status) << input << " -> " << r.error.reason;
  EXPECT_NE(std::string(r.error.reason), "") << input;
  return r.error.reason;
}

void expectResponseError(std::string_view input, std::string_view method = "GET") {
  ResponseResult r = parseResponse(input, method);
  EXPECT_EQ(r.status, ParseStatus::kError) << input;
  EXPECT_EQ(r.error.status, 502) << input;
}

std::string postWith(std::string_view framing_headers) {
  return "POST /upload HTTP/1.1\r\nHost: example.com\r\n"s + std::string(framing_headers) + "\r\n";
}

struct ScanResult {
  ParseStatus status;
  size_t used;  // total bytes consumed
  std::string reason;
};

ScanResult scanAll(std::string_view body, size_t max_trailer = 64 * 1024) {
  ChunkedScanner scanner(max_trailer);
  ParseError error;
  size_t used = 0;
  ParseStatus status = scanner.scan(body, &used, error);
  return {status, used, status == ParseStatus::kError ? error.reason : ""};
}

// Feeds one byte per call; stops at the first non-kIncomplete status. Bounded by body.size().
ScanResult scanByteByByte(std::string_view body, size_t max_trailer = 64 * 1024) {
  ChunkedScanner scanner(max_trailer);
  ParseError error;
  size_t total = 0;
  for (size_t i = 0; i < body.size(); ++i) {
    size_t used = 0;
    ParseStatus status = scanner.scan(body.substr(i, 1), &used, error);
    total += used;
    if (status != ParseStatus::kIncomplete) {
      return {status, total, status == ParseStatus::kError ? error.reason : ""};
    }
  }
  return {ParseStatus::kIncomplete, total, ""};
}

void expectChunkedError(std::string_view body) {
  ScanResult all = scanAll(body);
  EXPECT_EQ(all.status, ParseStatus::kError) << body;
  ScanResult one = scanByteByByte(body);
  EXPECT_EQ(one.status, ParseStatus::kError) << body;
  EXPECT_EQ(one.reason, all.reason) << body;
}

constexpr std::string_view kSimpleGet =
    "GET /index.html HTTP/1.1\r\n"
    "Host: example.com\r\n"
    "User-Agent: curl/7.88.1\r\n"
    "Accept: */*\r\n"
    "\r\n";

// ---------------------------------------------------------------------------------------------
// Request smuggling: framing

TEST(H1Smuggling, ContentLengthAndTransferEncodingBoth) {
  expectRequestError(postWith("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"), 400);
  expectRequestError(postWith("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"), 400);
}

TEST(H1Smuggling, DifferingContentLengths) {
  expectRequestError(postWith("Content-Length: 5\r\nContent-Length: 6\r\n"), 400);
}

TEST(H1Smuggling, DuplicateEqualContentLengths) {
  // Refused on purpose even when equal: no hop can pick a different one.
  expectRequestError(postWith("Content-Length: 5\r\nContent-Length: 5\r\n"), 400);
}

TEST(H1Smuggling, ContentLengthList) {
  expectRequestError(postWith("Content-Length: 5, 5\r\n"), 400);
}

TEST(H1Smuggling, ContentLengthPlusSign) {
  expectRequestError(postWith("Content-Length: +5\r\n"), 400);
}

TEST(H1Smuggling, ContentLengthNegative) {
  expectRequestError(postWith("Content-Length: -1\r\n"), 400);
}

TEST(H1Smuggling, ContentLengthInnerSpace) {
  expectRequestError(postWith("Content-Length: 1 2\r\n"), 400);
}

TEST(H1Smuggling, ContentLengthHex) {
  expectRequestError(postWith("Content-Length: 0x10\r\n"), 400);
}

TEST(H1Smuggling, ContentLengthEmpty) {
  expectRequestError(postWith("Content-Length:\r\n"), 400);
  expectRequestError(postWith("Content-Length:   \r\n"), 400);
}

TEST(H1Smuggling, ContentLengthOverflow) {
  expectRequestError(postWith("Content-Length: 18446744073709551616\r\n"), 400);  // 2^64
  expectRequestError(postWith("Content-Length: 9223372036854775808\r\n"), 400);   // 2^63
  expectRequestError(postWith("Content-Length: 99999999999999999999999999999\r\n"), 400);
}

TEST(H1Smuggling, ContentLengthLargestAccepted) {
  const std::string input = postWith("Content-Length: 9223372036854775807\r\n");
  RequestResult r = parseRequest(input);
  ASSERT_EQ(r.status, ParseStatus::kComplete);
  EXPECT_EQ(r.head.content_length, 9223372036854775807ULL);
}

TEST(H1Smuggling, TransferEncodingGzip) {
  expectRequestError(postWith("Transfer-Encoding: gzip\r\n"), 400);
}

TEST(H1Smuggling, TransferEncodingGzipChunked) {
  expectRequestError(postWith("Transfer-Encoding: gzip, chunked\r\n"), 400);
}

TEST(H1Smuggling, TransferEncodingChunkedChunked) {
  expectRequestError(postWith("Transfer-Encoding: chunked, chunked\r\n"), 400);
}

TEST(H1Smuggling, TwoTransferEncodingHeaders) {
  expectRequestError(postWith("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"), 400);
  expectRequestError(postWith("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n"), 400);
}

TEST(H1Smuggling, TransferEncodingEmpty) {
  expectRequestError(postWith("Transfer-Encoding:\r\n"), 400);
}

TEST(H1Smuggling, TransferEncodingLookalike) {
  expectRequestError(postWith("Transfer-Encoding: chunkedx\r\n"), 400);
  expectRequestError(postWith("Transfer-Encoding: \"chunked\"\r\n"), 400);
  expectRequestError(postWith("Transfer-Encoding: chunked;q=1\r\n"), 400);
}

TEST(H1Smuggling, TransferEncodingOnHttp10) {
  expectRequestError("POST / HTTP/1.0\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\n",
                     400);
}

TEST(H1Smuggling, BadChunkSizeNonHex) { expectChunkedError("g\r\nabc\r\n0\r\n\r\n"); }

TEST(H1Smuggling, BadChunkSizeOverflow) {
  expectChunkedError("10000000000000000\r\n");  // 17 digits
  expectChunkedError("00000000000000001\r\n");  // 17 digits, even with leading zeros
}

TEST(H1Smuggling, BadChunkSizeNegative) { expectChunkedError("-1\r\nabc\r\n0\r\n\r\n"); }

TEST(H1Smuggling, BadChunkSizeEmptyOrWhitespace) {
  expectChunkedError("\r\nabc\r\n");
  expectChunkedError(" 3\r\nabc\r\n0\r\n\r\n");
  expectChunkedError("3 \r\nabc\r\n0\r\n\r\n");
  expectChunkedError("0x3\r\nabc\r\n0\r\n\r\n");
}

TEST(H1Smuggling, ChunkMissingCrlfAfterData) {
  expectChunkedError("3\r\nabcd\r\n0\r\n\r\n");
  expectChunkedError("3\r\nabc\n0\r\n\r\n");
  expectChunkedError("3\r\nabc\r0\r\n\r\n");
}

TEST(H1Smuggling, ChunkSizeLineBareLf) { expectChunkedError("3\nabc\r\n0\r\n\r\n"); }

// ---------------------------------------------------------------------------------------------
// Request smuggling: field syntax

TEST(H1Smuggling, CrInsideHeaderValue) {
  expectRequestError("GET / HTTP/1.1\r\nHost: example.com\r\nX-A: a\rb\r\n\r\n", 400);
}

TEST(H1Smuggling, LfInsideHeaderValue) {
  expectRequestError("GET / HTTP/1.1\r\nHost: example.com\r\nX-A: a\nb\r\n\r\n", 400);
}

TEST(H1Smuggling, NulInsideHeaderValue) {
  expectRequestError("GET / HTTP/1.1\r\nHost: example.com\r\nX-A: a\0b\r\n\r\n"s, 400);
}

TEST(H1Smuggling, OtherControlInsideHeaderValue) {
  expectRequestError("GET / HTTP/1.1\r\nHost: example.com\r\nX-A: a\x01z\r\n\r\n", 400);
  expectRequestError("GET / HTTP/1.1\r\nHost: example.com\r\nX-A: a\x7fz\r\n\r\n", 400);
}

TEST(H1Smuggling, SpaceBeforeColon) { expectRequestError(postWith("Content-Length : 5\r\n"), 400); }

TEST(H1Smuggling, TabBeforeColon) {
  expectRequestError(postWith("Transfer-Encoding\t: chunked\r\n"), 400);
}

TEST(H1Smuggling, ObsFold) {
  expectRequestError("GET / HTTP/1.1\r\nHost: example.com\r\nX-A: a\r\n b\r\n\r\n", 400);
  expectRequestError("GET / HTTP/1.1\r\nHost: example.com\r\nX-A: a\r\n\tb\r\n\r\n", 400);
  // Whitespace before the first field line is the same hazard.
  expectRequestError("GET / HTTP/1.1\r\n Host: example.com\r\n\r\n", 400);
}

TEST(H1Smuggling, EmptyHeaderName) {
  expectRequestError("GET / HTTP/1.1\r\nHost: example.com\r\n: x\r\n\r\n", 400);
}

TEST(H1Smuggling, HeaderLineWithoutColon) {
  expectRequestError("GET / HTTP/1.1\r\nHost: example.com\r\nX-A\r\n\r\n", 400);
}

TEST(H1Smuggling, InvalidHeaderNameCharacter) {
  expectRequestError("GET / HTTP/1.1\r\nHost: example.com\r\nX(A): 1\r\n\r\n", 400);
  expectRequestError("GET / HTTP/1.1\r\nHost: example.com\r\nX\xc3\xa9: 1\r\n\r\n", 400);
}

TEST(H1Smuggling, Http11WithoutHost) {
  EXPECT_EQ(expectRequestError("GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", 400),
            "missing Host header");
}

TEST(H1Smuggling, TwoHostHeaders) {
  expectRequestError("GET / HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n", 400);
  expectRequestError("GET / HTTP/1.1\r\nHost: a.example\r\nHost: a.example\r\n\r\n", 400);
}

TEST(H1Smuggling, InvalidHostValue) {
  for (const char* host :
       {"", "a b", "a.example:", "a.example:x", "a.example:65536", "user@a.example", "[::1", "[zz]",
        ":80", "a/b", "a%2", "a.example:80:80"}) {
    expectRequestError("GET / HTTP/1.1\r\nHost: "s + host + "\r\n\r\n", 400);
  }
}

TEST(H1Smuggling, BareLfLineEnding) {
  expectRequestError("GET / HTTP/1.1\nHost: example.com\r\n\r\n", 400);
  expectRequestError("GET / HTTP/1.1\r\nHost: example.com\n\r\n", 400);
  expectRequestError("GET / HTTP/1.1\r\nHost: example.com\r\n\n", 400);
  expectRequestError("\nGET / HTTP/1.1\r\nHost: example.com\r\n\r\n", 400);
}

TEST(H1Smuggling, BareCr) {
  expectRequestError("GET / HTTP/1.1\rHost: example.com\r\n\r\n", 400);
  expectRequestError("GET / HTTP/1.1\r\nHost: example.com\r\n\rX", 400);
  expectRequestError("\rGET / HTTP/1.1\r\nHost: example.com\r\n\r\n", 400);
}

// ---------------------------------------------------------------------------------------------
// Request line

TEST(H1Request, SimpleGet) {
  RequestResult r = parseRequest(kSimpleGet);
  ASSERT_EQ(r.status, ParseStatus::kComplete) << r.error.reason;
  const RequestHead& h = r.head;
  EXPECT_EQ(h.method, "GET");
  EXPECT_EQ(h.target, "/index.html");
  EXPECT_EQ(h.path, "/index.html");
  EXPECT_EQ(h.query, "");
  EXPECT_EQ(h.authority, "example.com");
  EXPECT_EQ(h.version_minor, 1);
  ASSERT_EQ(h.headers.size(), 3u);
  EXPECT_EQ(h.headers[0].name, "Host");
  EXPECT_EQ(h.headers[1].name, "User-Agent");
  EXPECT_EQ(h.headers[1].value, "curl/7.88.1");
  EXPECT_EQ(h.headers[2].value, "*/*");
  EXPECT_EQ(h.head_bytes, kSimpleGet.size());
  EXPECT_EQ(h.framing, BodyFraming::kNone);
  EXPECT_TRUE(h.keep_alive);
  EXPECT_FALSE(h.expect_continue);
  EXPECT_FALSE(h.upgrade);
}

TEST(H1Request, ViewsPointIntoInput) {
  std::string input(kSimpleGet);
  RequestResult r = parseRequest(input);
  ASSERT_EQ(r.status, ParseStatus::kComplete);
  const char* begin = input.data();
  const char* end = begin + input.size();
  for (std::string_view v : {r.head.method, r.head.target, r.head.path, r.head.authority,
                             r.head.headers[1].name, r.head.headers[1].value}) {
    EXPECT_GE(v.data(), begin);
    EXPECT_LE(v.data() + v.size(), end);
  }
}

TEST(H1Request, PipelinedRequests) {
  const std::string first = "POST /a HTTP/1.1\r\nHost: x.example\r\nContent-Length: 5\r\n\r\n";
  const std::string second = "GET /b?c=d HTTP/1.1\r\nHost: y.example\r\n\r\n";
  const std::string buffer = first + "hello" + second;

  RequestResult r1 = parseRequest(buffer);
  ASSERT_EQ(r1.status, ParseStatus::kComplete);
  EXPECT_EQ(r1.head.head_bytes, first.size());
  EXPECT_EQ(r1.head.framing, BodyFraming::kContentLength);
  EXPECT_EQ(r1.head.content_length, 5u);

  std::string_view rest = std::string_view(buffer).substr(first.size() + 5);
  RequestResult r2 = parseRequest(rest);
  ASSERT_EQ(r2.status, ParseStatus::kComplete);
  EXPECT_EQ(r2.head.head_bytes, second.size());
  EXPECT_EQ(r2.head.path, "/b");
  EXPECT_EQ(r2.head.query, "c=d");
  EXPECT_EQ(r2.head.authority, "y.example");
}

TEST(H1Request, HeadReuseKeepsCapacity) {
  RequestHead head;
  ParseError error;
  ASSERT_EQ(parseRequestHead(kSimpleGet, {}, head, error), ParseStatus::kComplete);
  const HeaderField* storage = head.headers.data();
  size_t capacity = head.headers.capacity();
  EXPECT_GE(capacity, 16u);
  ASSERT_EQ(parseRequestHead(kSimpleGet, {}, head, error), ParseStatus::kComplete);
  EXPECT_EQ(head.headers.data(), storage);
  EXPECT_EQ(head.headers.capacity(), capacity);
  EXPECT_EQ(head.headers.size(), 3u);
}

TEST(H1Request, AbsoluteForm) {
  RequestResult r = parseRequest(
      "GET http://origin.example:8080/a/b?x=1&y=2 HTTP/1.1\r\nHost: ignored.example\r\n\r\n");
  ASSERT_EQ(r.status, ParseStatus::kComplete) << r.error.reason;
  EXPECT_EQ(r.head.target, "http://origin.example:8080/a/b?x=1&y=2");
  EXPECT_EQ(r.head.authority, "origin.example:8080");
  EXPECT_EQ(r.head.path, "/a/b");
  EXPECT_EQ(r.head.query, "x=1&y=2");
}

TEST(H1Request, AbsoluteFormWithoutPath) {
  RequestResult r = parseRequest("GET HTTP://origin.example HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_EQ(r.status, ParseStatus::kComplete) << r.error.reason;
  EXPECT_EQ(r.head.authority, "origin.example");
  EXPECT_EQ(r.head.path, "/");
  EXPECT_EQ(r.head.query, "");

  r = parseRequest("GET https://[::1]:443?q HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_EQ(r.status, ParseStatus::kComplete) << r.error.reason;
  EXPECT_EQ(r.head.authority, "[::1]:443");
  EXPECT_EQ(r.head.path, "/");
  EXPECT_EQ(r.head.query, "q");
}

TEST(H1Request, AbsoluteFormStillNeedsHost) {
  expectRequestError("GET http://origin.example/ HTTP/1.1\r\n\r\n", 400);
}

TEST(H1Request, AbsoluteFormInvalid) {
  expectRequestError("GET ftp://origin.example/ HTTP/1.1\r\nHost: h\r\n\r\n", 400);
  expectRequestError("GET http:///path HTTP/1.1\r\nHost: h\r\n\r\n", 400);
  expectRequestError("GET http://user@origin.example/ HTTP/1.1\r\nHost: h\r\n\r\n", 400);
  expectRequestError("GET index.html HTTP/1.1\r\nHost: h\r\n\r\n", 400);
}

TEST(H1Request, QuerySplitAtFirstQuestionMark) {
  RequestResult r = parseRequest("GET /p/q?a=1?b=/2 HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_EQ(r.status, ParseStatus::kComplete);
  EXPECT_EQ(r.head.path, "/p/q");
  EXPECT_EQ(r.head.query, "a=1?b=/2");

  r = parseRequest("GET /p? HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_EQ(r.status, ParseStatus::kComplete);
  EXPECT_EQ(r.head.path, "/p");
  EXPECT_EQ(r.head.query, "");
}

TEST(H1Request, ConnectAuthorityForm) {
  RequestResult r =
      parseRequest("CONNECT origin.example:443 HTTP/1.1\r\nHost: origin.example:443\r\n\r\n");
  ASSERT_EQ(r.status, ParseStatus::kComplete) << r.error.reason;
  EXPECT_EQ(r.head.authority, "origin.example:443");
  EXPECT_EQ(r.head.path, "");
  expectRequestError("CONNECT origin.example HTTP/1.1\r\nHost: origin.example\r\n\r\n", 400);
  expectRequestError("CONNECT / HTTP/1.1\r\nHost: origin.example\r\n\r\n", 400);
  expectRequestError("GET origin.example:443 HTTP/1.1\r\nHost: origin.example\r\n\r\n", 400);
}

TEST(H1Request, AsteriskFormOnlyForOptions) {
  RequestResult r = parseRequest("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n");
  ASSERT_EQ(r.status, ParseStatus::kComplete);
  EXPECT_EQ(r.head.target, "*");
  expectRequestError("GET * HTTP/1.1\r\nHost: h\r\n\r\n", 400);
}

TEST(H1Request, MalformedRequestLine) {
  expectRequestError("GET  / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
  expectRequestError("GET / HTTP/1.1 \r\nHost: h\r\n\r\n", 400);
  expectRequestError("GET /  HTTP/1.1\r\nHost: h\r\n\r\n", 400);
  expectRequestError(" GET / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
  expectRequestError("GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n", 400);
  expectRequestError("G(T / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
  expectRequestError("GET /\r\nHost: h\r\n\r\n", 400);
  expectRequestError("GET / http/1.1\r\nHost: h\r\n\r\n", 400);
  expectRequestError("GET / HTTP/1.10\r\nHost: h\r\n\r\n", 400);
  expectRequestError("GET / HTTP/1\r\nHost: h\r\n\r\n", 400);
}

TEST(H1Request, UnsupportedVersionIs505) {
  expectRequestError("GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505);
  expectRequestError("GET / HTTP/1.2\r\nHost: h\r\n\r\n", 505);
  expectRequestError("GET / HTTP/0.9\r\nHost: h\r\n\r\n", 505);
}

TEST(H1Request, InvalidTargetBytes) {
  expectRequestError("GET /a\x01z HTTP/1.1\r\nHost: h\r\n\r\n", 400);
  expectRequestError("GET /caf\xc3\xa9 HTTP/1.1\r\nHost: h\r\n\r\n", 400);
  expectRequestError("GET /a\x7fz HTTP/1.1\r\nHost: h\r\n\r\n", 400);
}

TEST(H1Request, LeadingEmptyLinesSkipped) {
  std::string input = "\r\n\r\n"s + std::string(kSimpleGet);
  RequestResult r = parseRequest(input);
  ASSERT_EQ(r.status, ParseStatus::kComplete);
  EXPECT_EQ(r.head.method, "GET");
  EXPECT_EQ(r.head.head_bytes, input.size());
  expectRequestError("\r\n\r\n\r\n\r\n\r\n"s + std::string(kSimpleGet), 400);
}

// ---------------------------------------------------------------------------------------------
// Header fields and framing

TEST(H1Request, HeaderValueTrimmedAndObsTextAllowed) {
  RequestResult r = parseRequest(
      "GET / HTTP/1.1\r\nHost:h\r\nX-A: \t a \tb\t \r\nX-B: caf\xc3\xa9\r\nX-C:\r\n\r\n");
  ASSERT_EQ(r.status, ParseStatus::kComplete) << r.error.reason;
  ASSERT_EQ(r.head.headers.size(), 4u);
  EXPECT_EQ(r.head.headers[0].value, "h");
  EXPECT_EQ(r.head.headers[1].value, "a \tb");
  EXPECT_EQ(r.head.headers[2].value, "caf\xc3\xa9");
  EXPECT_EQ(r.head.headers[3].value, "");
}

TEST(H1Request, LongHeaderValues) {
  // Exercises the word-at-a-time value scan around a control byte at every offset.
  for (size_t len = 0; len < 40; ++len) {
    std::string value(len, 'v');
    const std::string input = "GET / HTTP/1.1\r\nHost: h\r\nX-A: " + value + "\r\n\r\n";
    RequestResult ok = parseRequest(input);
    ASSERT_EQ(ok.status, ParseStatus::kComplete);
    EXPECT_EQ(ok.head.headers[1].value, value);
    for (size_t at = 0; at < len; ++at) {
      std::string bad = value;
      bad[at] = (at % 2 == 0) ? '\x1f' : '\x7f';
      expectRequestError("GET / HTTP/1.1\r\nHost: h\r\nX-A: " + bad + "\r\n\r\n", 400);
      if (at == 0 || at + 1 == len) continue;  // a tab at either end would be trimmed
      std::string tabbed = value;
      tabbed[at] = '\t';
      const std::string input = "GET / HTTP/1.1\r\nHost: h\r\nX-A: " + tabbed + "\r\n\r\n";
      RequestResult r = parseRequest(input);
      ASSERT_EQ(r.status, ParseStatus::kComplete);
      EXPECT_EQ(r.head.headers[1].value, tabbed);
    }
  }
}

TEST(H1Request, ContentLengthFraming) {
  const std::string input = postWith("content-length: 0042\r\n");
  RequestResult r = parseRequest(input);
  ASSERT_EQ(r.status, ParseStatus::kComplete);
  EXPECT_EQ(r.head.framing, BodyFraming::kContentLength);
  EXPECT_EQ(r.head.content_length, 42u);
}

TEST(H1Request, ChunkedFraming) {
  const std::string input = postWith("TRANSFER-ENCODING:  Chunked \r\n");
  RequestResult r = parseRequest(input);
  ASSERT_EQ(r.status, ParseStatus::kComplete) << r.error.reason;
  EXPECT_EQ(r.head.framing, BodyFraming::kChunked);
}

TEST(H1Request, Http10GetWithContentLength) {
  RequestResult r = parseRequest("GET / HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc");
  ASSERT_EQ(r.status, ParseStatus::kComplete);
  EXPECT_EQ(r.head.framing, BodyFraming::kContentLength);
  EXPECT_EQ(r.head.authority, "");
  EXPECT_EQ(r.head.version_minor, 0);
}

TEST(H1Request, KeepAliveHttp11) {
  EXPECT_TRUE(parseRequest(kSimpleGet).head.keep_alive);
  RequestResult r = parseRequest("GET / HTTP/1.1\r\nHost: h\r\nConnection: foo, CLOSE\r\n\r\n");
  ASSERT_EQ(r.status, ParseStatus::kComplete);
  EXPECT_FALSE(r.head.keep_alive);
}

TEST(H1Request, KeepAliveHttp10) {
  RequestResult r = parseRequest("GET / HTTP/1.0\r\n\r\n");
  ASSERT_EQ(r.status, ParseStatus::kComplete);
  EXPECT_FALSE(r.head.keep_alive);
  r = parseRequest("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
  ASSERT_EQ(r.status, ParseStatus::kComplete);
  EXPECT_TRUE(r.head.keep_alive);
  r = parseRequest("GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n");
  ASSERT_EQ(r.status, ParseStatus::kComplete);
  EXPECT_FALSE(r.head.keep_alive);
}

TEST(H1Request, ExpectContinue) {
  const std::string with_continue = postWith("Content-Length: 10\r\nExpect: 100-Continue\r\n");
  RequestResult r = parseRequest(with_continue);
  ASSERT_EQ(r.status, ParseStatus::kComplete);
  EXPECT_TRUE(r.head.expect_continue);
  r = parseRequest("POST / HTTP/1.0\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n");
  ASSERT_EQ(r.status, ParseStatus::kComplete);
  EXPECT_FALSE(r.head.expect_continue);
  const std::string other_expect = postWith("Content-Length: 10\r\nExpect: 101-continue\r\n");
  r = parseRequest(other_expect);
  ASSERT_EQ(r.status, ParseStatus::kComplete);
  EXPECT_FALSE(r.head.expect_continue);
}

TEST(H1Request, Upgrade) {
  RequestResult r = parseRequest(
      "GET /ws HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, Upgrade\r\nUpgrade: "
      "websocket\r\n\r\n");
  ASSERT_EQ(r.status, ParseStatus::kComplete);
  EXPECT_TRUE(r.head.upgrade);
  r = parseRequest("GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n");
  ASSERT_EQ(r.status, ParseStatus::kComplete);
  EXPECT_FALSE(r.head.upgrade);
  r = parseRequest("GET /ws HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\n\r\n");
  ASSERT_EQ(r.status, ParseStatus::kComplete);
  EXPECT_FALSE(r.head.upgrade);
}

// ---------------------------------------------------------------------------------------------
// Limits and incremental input

TEST(H1Request, TargetTooLongIs414) {
  Limits limits;
  limits.max_target_bytes = 16;
  std::string exact = "/" + std::string(15, 'a');
  const std::string fits = "GET " + exact + " HTTP/1.1\r\nHost: h\r\n\r\n";
  EXPECT_EQ(parseRequest(fits, limits).status, ParseStatus::kComplete);
  expectRequestError("GET " + exact + "b HTTP/1.1\r\nHost: h\r\n\r\n", 414, limits);
}

TEST(H1Request, TargetTooLongIs414WhileIncomplete) {
  Limits limits;
  limits.max_target_bytes = 16;
  expectRequestError("GET /" + std::string(16, 'a'), 414, limits);
  const std::string fits = "GET /" + std::string(15, 'a');
  EXPECT_EQ(parseRequest(fits, limits).status, ParseStatus::kIncomplete);
}

TEST(H1Request, HeadTooLargeIs431) {
  Limits limits;
  limits.max_head_bytes = 64;
  std::string fits = "GET / HTTP/1.1\r\nHost: h\r\nX: " + std::string(32, 'a') + "\r\n\r\n";
  ASSERT_EQ(fits.size(), 64u);
  EXPECT_EQ(parseRequest(fits, limits).status, ParseStatus::kComplete);
  std::string over = "GET / HTTP/1.1\r\nHost: h\r\nX: " + std::string(33, 'a') + "\r\n\r\n";
  expectRequestError(over, 431, limits);
}

TEST(H1Request, HeadTooLargeIs431WhileIncomplete) {
  Limits limits;
  limits.max_head_bytes = 64;
  std::string partial = "GET / HTTP/1.1\r\nHost: h\r\nX: " + std::string(100, 'a');
  expectRequestError(partial, 431, limits);
  EXPECT_EQ(parseRequest(std::string_view(partial).substr(0, 64), limits).status,
            ParseStatus::kIncomplete);
}

TEST(H1Request, TooManyHeadersIs431) {
  Limits limits;
  limits.max_headers = 3;
  std::string three = "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n\r\n";
  EXPECT_EQ(parseRequest(three, limits).status, ParseStatus::kComplete);
  expectRequestError("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", 431, limits);
  expectRequestError("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC", 431, limits);
}

TEST(H1Request, EveryPrefixIsIncomplete) {
  const std::string full =
      "\r\nPOST http://h.example:80/p?q=1 HTTP/1.1\r\nHost: h.example\r\n"
      "Content-Length: 12\r\nX-Long: " +
      std::string(50, 'z') + " \t\r\nConnection: keep-alive\r\n\r\n";
  for (size_t n = 0; n < full.size(); ++n) {
    // An exact-size heap copy, so the sanitizer catches any read past the prefix.
    const std::vector<char> prefix(full.begin(), full.begin() + static_cast<ptrdiff_t>(n));
    RequestResult r = parseRequest(std::string_view(prefix.data(), prefix.size()));
    ASSERT_EQ(r.status, ParseStatus::kIncomplete)
        << "prefix length " << n << ": " << r.error.reason;
  }
  const std::string with_body = full + "body";
  RequestResult r = parseRequest(with_body);
  ASSERT_EQ(r.status, ParseStatus::kComplete) << r.error.reason;
  EXPECT_EQ(r.head.head_bytes, full.size());
}

// ---------------------------------------------------------------------------------------------
// Responses

TEST(H1Response, OkWithContentLength) {
  const std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer: x\r\n\r\n";
  const std::string input = head + "hello";
  ResponseResult r = parseResponse(input);
  ASSERT_EQ(r.status, ParseStatus::kComplete) << r.error.reason;
  EXPECT_EQ(r.head.version_minor, 1);
  EXPECT_EQ(r.head.status, 200);
  EXPECT_EQ(r.head.reason, "OK");
  EXPECT_EQ(r.head.framing, BodyFraming::kContentLength);
  EXPECT_EQ(r.head.content_length, 5u);
  EXPECT_EQ(r.head.head_bytes, head.size());
  EXPECT_TRUE(r.head.keep_alive);
  EXPECT_EQ(r.head.headers.size(), 2u);
}

TEST(H1Response, Chunked) {
  ResponseResult r = parseResponse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
  ASSERT_EQ(r.status, ParseStatus::kComplete);
  EXPECT_EQ(r.head.framing, BodyFraming::kChunked);
  EXPECT_TRUE(r.head.keep_alive);
}

TEST(H1Response, UntilClose) {
  ResponseResult r = parseResponse("HTTP/1.1 200 OK\r\nServer: x\r\n\r\n");
  ASSERT_EQ(r.status, ParseStatus::kComplete);
  EXPECT_EQ(r.head.framing, BodyFraming::kUntilClose);
  EXPECT_FALSE(r.head.keep_alive);
}

TEST(H1Response, ToHeadHasNoBody) {
  ResponseResult r = parseResponse("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n", "HEAD");
  ASSERT_EQ(r.status, ParseStatus::kComplete);
  EXPECT_EQ(r.head.framing, BodyFraming::kNone);
  EXPECT_TRUE(r.head.keep_alive);
  r = parseResponse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "HEAD");
  EXPECT_EQ(r.head.framing, BodyFraming::kNone);
}

TEST(H1Response, NoContentAndNotModified) {
  for (const char* head : {"HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n",
                           "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n",
                           "HTTP/1.1 304 Not Modified\r\n\r\n"}) {
    ResponseResult r = parseResponse(head);
    ASSERT_EQ(r.status, ParseStatus::kComplete) << head;
    EXPECT_EQ(r.head.framing, BodyFraming::kNone) << head;
    EXPECT_TRUE(r.head.keep_alive) << head;
  }
}

TEST(H1Response, Informational) {
  ResponseResult r = parseResponse("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n");
  ASSERT_EQ(r.status, ParseStatus::kComplete);
  EXPECT_EQ(r.head.status, 100);
  EXPECT_EQ(r.head.framing, BodyFraming::kNone);
  EXPECT_EQ(r.head.head_bytes, 25u);
}

TEST(H1Response, SwitchingProtocols) {
  ResponseResult r = parseResponse(
      "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
  ASSERT_EQ(r.status, ParseStatus::kComplete);
  EXPECT_EQ(r.head.status, 101);
  EXPECT_EQ(r.head.framing, BodyFraming::kNone);
}

TEST(H1Response, SuccessToConnect) {
  ResponseResult r = parseResponse("HTTP/1.1 200 Connection established\r\n\r\n", "CONNECT");
  ASSERT_EQ(r.status, ParseStatus::kComplete);
  EXPECT_EQ(r.head.framing, BodyFraming::kNone);
  r = parseResponse("HTTP/1.1 407 Auth\r\nContent-Length: 2\r\n\r\n", "CONNECT");
  EXPECT_EQ(r.head.framing, BodyFraming::kContentLength);
}

TEST(H1Response, ReasonPhraseVariants) {
  ResponseResult r = parseResponse("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n");
  ASSERT_EQ(r.status, ParseStatus::kComplete);
  EXPECT_EQ(r.head.reason, "");
  r = parseResponse("HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n");
  ASSERT_EQ(r.status, ParseStatus::kComplete);
  EXPECT_EQ(r.head.reason, "");
  r = parseResponse("HTTP/1.1 404 Not\tFound \xe9t\xe9\r\nContent-Length: 0\r\n\r\n");
  ASSERT_EQ(r.status, ParseStatus::kComplete);
  EXPECT_EQ(r.head.reason, "Not\tFound \xe9t\xe9");
}

TEST(H1Response, KeepAliveRules) {
  ResponseResult r =
      parseResponse("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
  EXPECT_FALSE(r.head.keep_alive);
  r = parseResponse("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n");
  EXPECT_FALSE(r.head.keep_alive);
  r = parseResponse("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n");
  ASSERT_EQ(r.status, ParseStatus::kComplete);
  EXPECT_TRUE(r.head.keep_alive);
  EXPECT_EQ(r.head.version_minor, 0);
  r = parseResponse("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\n");
  EXPECT_EQ(r.head.framing, BodyFraming::kUntilClose);
  EXPECT_FALSE(r.head.keep_alive);
}

TEST(H1Response, MalformedIs502) {
  for (const char* input : {
           "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
           "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
           "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
           "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
           "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
           "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n",
           "HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n",
           "HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\n",
           "HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n",
           "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n",
           "HTTP/2.0 200 OK\r\n\r\n",
           "HTTP/1.1 20 OK\r\n\r\n",
           "HTTP/1.1 2000 OK\r\n\r\n",
           "HTTP/1.1 099 Odd\r\n\r\n",
           "HTTP/1.1 600 Odd\r\n\r\n",
           "HTTP/1.1  200 OK\r\n\r\n",
           "HTTP/1.1 200 OK\x01\r\n\r\n",
           "http/1.1 200 OK\r\n\r\n",
           "\r\nHTTP/1.1 200 OK\r\n\r\n",
           "ICY 200 OK\r\n\r\n",
       }) {
    SCOPED_TRACE(input);
    expectResponseError(input);
  }
  expectResponseError("HTTP/1.1 200 OK\r\nX: a\0b\r\n\r\n"s);
}

TEST(H1Response, TooManyHeadersIs502) {
  Limits limits;
  limits.max_headers = 1;
  ResponseResult r = parseResponse("HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\n\r\n", "GET", limits);
  EXPECT_EQ(r.status, ParseStatus::kError);
  EXPECT_EQ(r.error.status, 502);
}

TEST(H1Response, EveryPrefixIsIncomplete) {
  const std::string full =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nSet-Cookie: a=b; Path=/\r\n\r\n";
  for (size_t n = 0; n < full.size(); ++n) {
    const std::vector<char> prefix(full.begin(), full.begin() + static_cast<ptrdiff_t>(n));
    ResponseResult r = parseResponse(std::string_view(prefix.data(), prefix.size()));
    ASSERT_EQ(r.status, ParseStatus::kIncomplete) << "prefix length " << n;
  }
  EXPECT_EQ(parseResponse(full).status, ParseStatus::kComplete);
}

// ---------------------------------------------------------------------------------------------
// Chunked bodies

TEST(H1Chunked, SimpleBody) {
  const std::string body = "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
  ScanResult r = scanAll(body + "GET / HTTP/1.1\r\n");
  EXPECT_EQ(r.status, ParseStatus::kComplete) << r.reason;
  EXPECT_EQ(r.used, body.size());
}

TEST(H1Chunked, ExtensionsTrailersAndHexCase) {
  const std::string body =
      "a;name=value;other=\"q s\"\r\n0123456789\r\nA\r\n0123456789\r\n"
      "0;last\r\nX-Checksum: abc\r\nX-Empty:\r\n\r\n";
  ScanResult r = scanAll(body + "tail");
  EXPECT_EQ(r.status, ParseStatus::kComplete) << r.reason;
  EXPECT_EQ(r.used, body.size());
}

TEST(H1Chunked, ByteByByteMatchesAllAtOnce) {
  const std::vector<std::string> bodies = {
      "5\r\nhello\r\n0\r\n\r\nNEXT",
      "1;e=1\r\nx\r\n0\r\nT: v\r\nU: w\r\n\r\n",
      "ffff\r\n",
      "3\r\nabc\r\n",
      "3\r\nabcX\r\n0\r\n\r\n",
      "0\r\nBad Name: v\r\n\r\n",
      "0\r\n\r\n",
  };
  for (const std::string& body : bodies) {
    SCOPED_TRACE(body);
    ScanResult all = scanAll(body);
    ScanResult one = scanByteByByte(body);
    EXPECT_EQ(one.status, all.status);
    EXPECT_EQ(one.reason, all.reason);
    if (all.status != ParseStatus::kError) {
      EXPECT_EQ(one.used, all.used);
    }
  }
}

TEST(H1Chunked, IncompleteConsumesEverything) {
  ScanResult r = scanAll("10\r\nonly part");
  EXPECT_EQ(r.status, ParseStatus::kIncomplete);
  EXPECT_EQ(r.used, 13u);
}

TEST(H1Chunked, LargestChunkSize) {
  ScanResult r = scanAll("ffffffffffffffff\r\nabc");
  EXPECT_EQ(r.status, ParseStatus::kIncomplete);
}

TEST(H1Chunked, ExtensionLimitsAndBytes) {
  expectChunkedError("1;" + std::string(5000, 'e') + "\r\nx\r\n0\r\n\r\n");
  expectChunkedError("1;a\nb\r\nx\r\n0\r\n\r\n");
  expectChunkedError("1;a\0b\r\nx\r\n0\r\n\r\n"s);
  expectChunkedError(";e\r\nx\r\n0\r\n\r\n");
}

TEST(H1Chunked, InvalidTrailers) {
  expectChunkedError("0\r\nX-A : v\r\n\r\n");
  expectChunkedError("0\r\n X-A: v\r\n\r\n");
  expectChunkedError("0\r\nX-A\r\n\r\n");
  expectChunkedError("0\r\n: v\r\n\r\n");
  expectChunkedError("0\r\nX-A: a\0b\r\n\r\n"s);
  expectChunkedError("0\r\nX-A: a\rb\r\n\r\n");
  expectChunkedError("0\r\nX-A: v\n\r\n");
  expectChunkedError("0\r\n\rX");
  expectChunkedError("0\r\n\n");
}

TEST(H1Chunked, TrailersTooLarge) {
  const std::string body = "0\r\nX-A: " + std::string(100, 'v') + "\r\n\r\n";
  EXPECT_EQ(scanAll(body, 200).status, ParseStatus::kComplete);
  EXPECT_EQ(scanAll(body, 50).status, ParseStatus::kError);
  EXPECT_EQ(scanByteByByte(body, 50).status, ParseStatus::kError);
}

TEST(H1Chunked, ErrorStatusIs400) {
  ChunkedScanner scanner;
  ParseError error;
  size_t used = 0;
  EXPECT_EQ(scanner.scan("zz\r\n", &used, error), ParseStatus::kError);
  EXPECT_EQ(error.status, 400);
  EXPECT_STREQ(error.reason, "invalid chunk size");
}

TEST(H1Chunked, DoneAndReset) {
  ChunkedScanner scanner;
  ParseError error;
  size_t used = 0;
  ASSERT_EQ(scanner.scan("0\r\n\r\n", &used, error), ParseStatus::kComplete);
  EXPECT_TRUE(scanner.done());
  EXPECT_EQ(scanner.scan("more", &used, error), ParseStatus::kComplete);
  EXPECT_EQ(used, 0u);
  scanner.reset();
  EXPECT_FALSE(scanner.done());
  EXPECT_EQ(scanner.scan("2\r\nab\r\n0\r\n\r\n", &used, error), ParseStatus::kComplete);
  EXPECT_EQ(used, 12u);
}

// A chunk counts whole once its size line is read, before any of its data: a body limit can
// refuse it before a byte of it is forwarded.
TEST(H1Chunked, DeclaredBytesCountChunkSizesAsTheirLinesEnd) {
  ChunkedScanner scanner;
  ParseError error;
  size_t used = 0;
  EXPECT_EQ(scanner.declaredBytes(), 0u);
  ASSERT_EQ(scanner.scan("a;ext=1\r", &used, error), ParseStatus::kIncomplete);
  EXPECT_EQ(scanner.declaredBytes(), 0u);  // the size line is not through yet
  ASSERT_EQ(scanner.scan("\n", &used, error), ParseStatus::kIncomplete);
  EXPECT_EQ(scanner.declaredBytes(), 10u);  // before its data
  ASSERT_EQ(scanner.scan("0123456789\r\n1F\r\n", &used, error), ParseStatus::kIncomplete);
  EXPECT_EQ(scanner.declaredBytes(), 41u);
  scanner.reset();
  EXPECT_EQ(scanner.declaredBytes(), 0u);
}

TEST(H1Chunked, DeclaredBytesHoldTheLargestChunkSize) {
  ChunkedScanner scanner;
  ParseError error;
  size_t used = 0;
  ASSERT_EQ(scanner.scan("ffffffffffffffff\r\n", &used, error), ParseStatus::kIncomplete);
  EXPECT_EQ(scanner.declaredBytes(), UINT64_MAX);
}

}  // namespace
}  // namespace turnout::http
