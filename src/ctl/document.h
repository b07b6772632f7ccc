// Reading the files given to `apply -f`: YAML or JSON, converted to JSON on the client so
// the server always parses one format, then sorted into the objects they hold.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace turnout::ctl {

// Parses `text` (JSON, or YAML with one or more `---` documents) into JSON values, one per
// document. False with `error` set ("line 3, column 5: ...") when it parses as neither.
bool parseDocuments(std::string_view text, std::vector<nlohmann::json>& out, std::string& error);

// Reads FILE, or stdin for "-". False with `error` set.
bool readInput(const std::string& file, std::string& text, std::string& error);

enum class ObjectKind { kUnknown, kConfig, kService, kRoute };

// What one document holds: a whole configuration (top-level listeners/services/routes), a
// route (split or match) or a service (endpoints or lb); failing those, a route has an "id"
// and a service a "name".
ObjectKind detectKind(const nlohmann::json& doc);

// One object to write with PUT.
struct ApplyItem {
  ObjectKind kind = ObjectKind::kUnknown;  // kService or kRoute
  std::string name;                        // the service's name or the route's id
  nlohmann::json body;
};

// Sorts the documents into services and routes, services first (routes refer to them),
// each group in file order. A document that is a JSON/YAML list contributes its items.
// False with `error` set when an object's kind or name cannot be told.
bool collectItems(const std::vector<nlohmann::json>& docs, std::vector<ApplyItem>& items,
                  std::string& error);

}  // namespace turnout::ctl
