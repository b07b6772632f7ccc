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
// `custom_html` (a listener's error page) replaces the built-in HTML page; JSON stays ours.
// `extra_lines`: whole header lines ("Name: value\r\n") the answer also carries.
std::string renderErrorResponse(int status, std::string_view reason, std::string_view request_id,
                                bool json, bool close, bool head_only = false,
                                const std::string* custom_html = nullptr,
                                std::string_view extra_lines = {});

// Whether the raw bytes of a request head that could not be parsed carry an Accept header
// asking for JSON: a malformed request still gets its error in the format it asked for.
bool rawHeadAcceptsJson(std::string_view raw);

}  // namespace turnout::proxy
