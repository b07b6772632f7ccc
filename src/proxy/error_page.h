// Local answers: error pages in HTML or JSON (by Accept) carrying the request id.
#pragma once

#include <string>
#include <string_view>

namespace turnout::proxy {

// The reason phrase of a status code ("Bad Gateway").
std::string_view reasonPhrase(int status);

// True when the client asked for JSON (Accept mentions application/json, or */*+json types);
// HTML otherwise, also when Accept is absent.
bool prefersJson(std::string_view accept);

// A complete HTTP/1.1 response: status line, headers, and the page.
// `reason` is one line shown to the client; `close` adds Connection: close.
std::string renderErrorResponse(int status, std::string_view reason, std::string_view request_id,
                                bool json, bool close, bool head_only = false);

}  // namespace turnout::proxy
