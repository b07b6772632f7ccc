// The admin API v1 seen from the client: JSON calls, the server's error bodies turned into
// readable lines, and lists read to the end through their pages.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ctl/args.h"
#include "ctl/http_client.h"

namespace turnout::ctl {

struct ApiAnswer {
  int status = 0;
  nlohmann::json body;      // null when the answer was empty or not JSON
  long long revision = -1;  // from "revision", else the ETag; -1 when neither
};

// Why a call failed, as lines to print after "error: ".
using ErrorLines = std::vector<std::string>;

// The server's error body {"error":{"code","message","field"},"errors":[...]} as
// "FIELD: MESSAGE (CODE)" lines; a body that is not one gives "HTTP CODE: <text>".
ErrorLines formatApiError(int status, std::string_view body);

class AdminApi {
 public:
  explicit AdminApi(const CtlOptions& options)
      : http_(options.admin, options.token, options.timeout_s) {}

  // One call; a transport failure or a status >= 400 gives false with `error` set.
  bool call(const std::string& method, const std::string& target, const nlohmann::json* body,
            ApiAnswer& answer, ErrorLines& error) const;

  // Every item of GET /v1/{collection} ("services" or "routes"), following next_offset.
  bool list(const std::string& collection, nlohmann::json& items, long long& revision,
            ErrorLines& error) const;

  // Every change after `since`, following next_since. `truncated` is the server's flag.
  bool changes(long long since, nlohmann::json& items, long long& revision, bool& truncated,
               ErrorLines& error) const;

 private:
  HttpClient http_;
};

// "/v1/services/NAME" with NAME percent-encoded.
std::string objectPath(std::string_view collection, std::string_view name);

}  // namespace turnout::ctl
