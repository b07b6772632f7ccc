// A small blocking HTTP/1.1 client for the admin API: one request per connection
// (Connection: close), bounded by a deadline. Admin calls are few and small, so simplicity
// beats connection reuse here.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace turnout::ctl {

struct HttpResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string header(std::string_view name) const;  // "" when absent; name case-insensitive
};

struct HttpRequest {
  std::string method = "GET";
  std::string target = "/";  // path and query, already percent-encoded
  std::string body;
  std::string content_type;  // sent only with a body
};

// Why a request got no answer; `message` is ready to print.
struct HttpFailure {
  std::string message;
};

class HttpClient {
 public:
  // `address` is HOST:PORT, [V6]:PORT or http://HOST:PORT; checked by send().
  HttpClient(std::string address, std::string token, double timeout_s)
      : address_(std::move(address)), token_(std::move(token)), timeout_s_(timeout_s) {}

  // Sends the request and reads the whole answer; false with `failure` set when the server
  // could not be reached or did not answer correctly in time.
  bool send(const HttpRequest& request, HttpResponse& response, HttpFailure& failure) const;

  const std::string& address() const { return address_; }

 private:
  std::string address_;
  std::string token_;
  double timeout_s_;
};

// Splits "host:port", "[::1]:port" or "http://host:port/" into host and port. False when
// malformed.
bool splitHostPort(std::string_view address, std::string& host, std::string& port);

// The request's bytes on the wire (exposed for tests).
std::string serializeRequest(const HttpRequest& request, std::string_view host_header,
                             std::string_view token);

enum class ParseStatus { kIncomplete, kComplete, kError };

// Parses a whole response from `bytes`. `at_eof` says the peer closed, which ends a body
// that has neither Content-Length nor chunked framing. kError sets `why`.
ParseStatus parseHttpResponse(std::string_view bytes, bool at_eof, HttpResponse& out,
                              std::string& why);

// Percent-encodes one path segment or query value: every byte but A-Z a-z 0-9 - . _ ~.
std::string percentEncode(std::string_view text);

}  // namespace turnout::ctl
