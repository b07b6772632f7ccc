// Micro-benchmarks for the HTTP/1.1 parser on the hot path. Each iteration parses one head (or
// scans one body) with a head object reused across iterations, as a keep-alive connection does.
#include <benchmark/benchmark.h>

#include <string>
#include <string_view>

#include "http/h1_parser.h"

namespace turnout::http {
namespace {

// What `curl http://api.example.com/v1/items?limit=20` sends, plus a bearer token.
constexpr std::string_view kCurlGet =
    "GET /v1/items?limit=20 HTTP/1.1\r\n"
    "Host: api.example.com\r\n"
    "User-Agent: curl/7.88.1\r\n"
    "Accept: */*\r\n"
    "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abc\r\n"
    "X-Request-Id: 0f8fad5b-d9cb-469f-a165-70867728950e\r\n"
    "Accept-Encoding: gzip\r\n"
    "\r\n";

// A desktop Chrome navigation: 15 fields, about 700 bytes.
constexpr std::string_view kBrowserGet =
    "GET /products/shoes/running?color=blue&size=42 HTTP/1.1\r\n"
    "Host: www.shop.example\r\n"
    "Connection: keep-alive\r\n"
    "Cache-Control: max-age=0\r\n"
    "sec-ch-ua: \"Chromium\";v=\"124\", \"Google Chrome\";v=\"124\", \"Not-A.Brand\";v=\"99\"\r\n"
    "sec-ch-ua-mobile: ?0\r\n"
    "sec-ch-ua-platform: \"Linux\"\r\n"
    "Upgrade-Insecure-Requests: 1\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36\r\n"
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
    "*/*;q=0.8\r\n"
    "Sec-Fetch-Site: same-origin\r\n"
    "Sec-Fetch-Mode: navigate\r\n"
    "Sec-Fetch-Dest: document\r\n"
    "Referer: https://www.shop.example/products/shoes\r\n"
    "Accept-Encoding: gzip, deflate, br, zstd\r\n"
    "Cookie: session=8f14e45fceea167a5a36dedd4bea2543; cart=3; theme=dark\r\n"
    "\r\n";

constexpr std::string_view kResponse =
    "HTTP/1.1 200 OK\r\n"
    "Server: nginx/1.22.1\r\n"
    "Date: Mon, 06 May 2024 10:00:00 GMT\r\n"
    "Content-Type: application/json; charset=utf-8\r\n"
    "Content-Length: 4096\r\n"
    "Connection: keep-alive\r\n"
    "Cache-Control: no-cache\r\n"
    "ETag: \"5f3c-1a2b3c4d\"\r\n"
    "\r\n";

void parseRequestLoop(benchmark::State& state, std::string_view input) {
  Limits limits;
  RequestHead head;
  ParseError error;
  for (auto _ : state) {
    ParseStatus status = parseRequestHead(input, limits, head, error);
    benchmark::DoNotOptimize(status);
    benchmark::DoNotOptimize(head.head_bytes);
  }
  if (parseRequestHead(input, limits, head, error) != ParseStatus::kComplete) {
    state.SkipWithError("request did not parse");
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * input.size()));
  state.counters["head_bytes"] = static_cast<double>(input.size());
}

void BM_ParseRequestSmall(benchmark::State& state) { parseRequestLoop(state, kCurlGet); }
BENCHMARK(BM_ParseRequestSmall);

void BM_ParseRequestBrowser(benchmark::State& state) { parseRequestLoop(state, kBrowserGet); }
BENCHMARK(BM_ParseRequestBrowser);

void BM_ParseResponse(benchmark::State& state) {
  Limits limits;
  ResponseHead head;
  ParseError error;
  for (auto _ : state) {
    ParseStatus status = parseResponseHead(kResponse, limits, "GET", head, error);
    benchmark::DoNotOptimize(status);
    benchmark::DoNotOptimize(head.head_bytes);
  }
  if (parseResponseHead(kResponse, limits, "GET", head, error) != ParseStatus::kComplete) {
    state.SkipWithError("response did not parse");
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kResponse.size()));
}
BENCHMARK(BM_ParseResponse);

// 64 KiB of data in 4 KiB chunks, with the last chunk and an empty trailer section.
std::string makeChunkedBody() {
  std::string body;
  const std::string chunk(4096, 'x');
  for (int i = 0; i < 16; ++i) body += "1000\r\n" + chunk + "\r\n";
  body += "0\r\n\r\n";
  return body;
}

void BM_ChunkedScan(benchmark::State& state) {
  const std::string body = makeChunkedBody();
  ChunkedScanner scanner;
  ParseError error;
  for (auto _ : state) {
    scanner.reset();
    size_t used = 0;
    ParseStatus status = scanner.scan(body, &used, error);
    benchmark::DoNotOptimize(status);
    benchmark::DoNotOptimize(used);
  }
  if (!scanner.done()) state.SkipWithError("chunked body did not complete");
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
}
BENCHMARK(BM_ChunkedScan);

}  // namespace
}  // namespace turnout::http
