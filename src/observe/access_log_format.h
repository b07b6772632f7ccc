// The access log's line format: field selection, a JSON string escaper that always yields valid
// JSON (whatever bytes a client sent), and the formatter a worker runs for each line.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "observe/access_log.h"

namespace turnout::observe::access_log_detail {

// In kAccessLogFields order.
enum class Field : uint8_t {
  kTimestampMs,
  kRequestId,
  kClient,
  kMethod,
  kPath,
  kHost,
  kStatus,
  kBytesIn,
  kBytesOut,
  kDurationMs,
  kUpstreamDurationMs,
  kRoute,
  kSrc,
  kDst,
  kUpstream,
  kFault,
  kGremlinHeaderName,
  kGremlinHeaderVal,
  kRetries,
};

// `names` in output order (empty = every field); false with `error` for an unknown or repeated
// name.
bool parseFields(const std::vector<std::string>& names, std::vector<Field>& fields,
                 std::string& error);

// Appends `value` as the inside of a JSON string: '"', '\\' and control bytes escaped, and each
// ill-formed UTF-8 sequence (its maximal subpart, as Unicode recommends) replaced by U+FFFD.
void appendJsonStringBody(std::string& out, std::string_view value);

class LineFormatter {
 public:
  explicit LineFormatter(const std::vector<Field>& fields);

  // Replaces `line` with the record's JSON object and its '\n'; reuses line's capacity.
  void format(const AccessRecord& record, std::string& line) const;

 private:
  struct Key {
    Field field;
    std::string prefix;  // `{"name":` for the first field, `,"name":` after
  };
  std::vector<Key> keys_;
};

}  // namespace turnout::observe::access_log_detail
