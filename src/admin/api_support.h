// Pieces every admin API handler uses: JSON answers and errors, body formats, If-Match, query
// parameters and path segments. Private to the admin module.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "admin/admin_server.h"
#include "config/load.h"
#include "config/model.h"
#include "control/control_plane.h"

namespace turnout::admin::api {

AdminResponse json(int status, std::string body);
AdminResponse error(int status, std::string_view message, std::string_view field = "");
AdminResponse errors(int status, const std::vector<config::Error>& errors);
AdminResponse methodNotAllowed(std::string_view allow);

// The body's format from Content-Type: JSON when absent or JSON, YAML for the YAML types;
// anything else is a 415 in `refusal`.
bool bodyFormat(const AdminRequest& request, config::Format& format, AdminResponse& refusal);
// If-Match: "<revision>", <revision> or *; a malformed one is a 400 in `refusal`.
bool ifMatch(const AdminRequest& request, std::optional<uint64_t>& revision,
             AdminResponse& refusal);

// The value of `name` in a query string ("" when absent; *present says which).
std::string queryParam(std::string_view query, std::string_view name, bool* present = nullptr);
// Percent-decodes a path segment; false on a malformed escape.
bool percentDecode(std::string_view text, std::string& out);
// A JSON string literal.
std::string quote(std::string_view text);

// The answer to a write: the status the control plane chose, its errors, or `body`.
AdminResponse applied(const control::ApplyResult& result, int success_status,
                      std::string_view object_key, std::string_view object_json);

// A page of a list: ?limit= (default 1000, at most 10000) and ?offset=, ?fields=a,b keeps
// those top-level fields of each item. `items` are JSON objects.
AdminResponse page(const AdminRequest& request, uint64_t revision, std::string_view key,
                   const std::vector<std::string>& items);

}  // namespace turnout::admin::api
