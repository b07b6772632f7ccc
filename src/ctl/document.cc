#include "ctl/document.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <stdexcept>

#include "ctl/yaml_json.h"

namespace turnout::ctl {

namespace {

bool startsLikeJson(std::string_view text) {
  size_t first = text.find_first_not_of(" \t\r\n");
  return first != std::string_view::npos && (text[first] == '{' || text[first] == '[');
}

bool parseYamlDocuments(std::string_view text, std::vector<nlohmann::json>& out,
                        std::string& error) {
  try {
    for (const YAML::Node& doc : YAML::LoadAll(std::string(text))) {
      if (doc.IsNull()) continue;  // an empty document between `---` lines
      out.push_back(yamlToJson(doc));
    }
    return true;
  } catch (const YAML::Exception& e) {
    error = "line " + std::to_string(e.mark.line + 1) + ", column " +
            std::to_string(e.mark.column + 1) + ": " + e.msg;
  } catch (const std::runtime_error& e) {
    error = e.what();
  }
  return false;
}

bool has(const nlohmann::json& doc, const char* key) { return doc.contains(key); }

std::string kindWord(ObjectKind kind) { return kind == ObjectKind::kService ? "service" : "route"; }

// The object's identity: a service's "name", a route's "id".
bool nameOf(const nlohmann::json& doc, ObjectKind kind, std::string& name, std::string& error) {
  const char* key = kind == ObjectKind::kService ? "name" : "id";
  auto it = doc.find(key);
  if (it == doc.end() || !it->is_string() || it->get<std::string>().empty()) {
    error = "a " + kindWord(kind) + " needs a non-empty string \"" + key + "\"";
    return false;
  }
  name = it->get<std::string>();
  return true;
}

// Appends the services or routes of a whole configuration.
bool addConfigList(const nlohmann::json& doc, const char* key, ObjectKind kind,
                   std::vector<ApplyItem>& items, std::string& error) {
  auto it = doc.find(key);
  if (it == doc.end() || it->is_null()) return true;
  if (!it->is_array()) {
    error = std::string("\"") + key + "\" must be a list";
    return false;
  }
  for (size_t i = 0; i < it->size(); ++i) {
    const nlohmann::json& object = (*it)[i];
    ApplyItem item{kind, "", object};
    if (!object.is_object() || !nameOf(object, kind, item.name, error)) {
      if (!object.is_object()) error = "must be an object";
      error = std::string(key) + "[" + std::to_string(i) + "]: " + error;
      return false;
    }
    items.push_back(std::move(item));
  }
  return true;
}

bool addDocument(const nlohmann::json& doc, std::vector<ApplyItem>& items, std::string& error) {
  if (doc.is_array()) {
    for (const nlohmann::json& each : doc) {
      if (!addDocument(each, items, error)) return false;
    }
    return true;
  }
  ObjectKind kind = detectKind(doc);
  // paralarva's `proxy:` and the `fallback:` shorthand are translated by the server from the
  // whole document: split into objects they would be lost.
  if (kind == ObjectKind::kConfig && (has(doc, "proxy") || has(doc, "fallback"))) {
    error =
        "a paralarva `proxy:` document or `fallback:` applies only as a whole configuration: "
        "use `turnout ctl apply --replace -f FILE`";
    return false;
  }
  if (kind == ObjectKind::kConfig) {
    return addConfigList(doc, "services", ObjectKind::kService, items, error) &&
           addConfigList(doc, "routes", ObjectKind::kRoute, items, error);
  }
  if (kind == ObjectKind::kUnknown) {
    error =
        "cannot tell what this object is: a configuration has listeners/services/routes, a "
        "service has endpoints, lb or name, a route has split, match or id";
    return false;
  }
  ApplyItem item{kind, "", doc};
  if (!nameOf(doc, kind, item.name, error)) return false;
  items.push_back(std::move(item));
  return true;
}

}  // namespace

bool parseDocuments(std::string_view text, std::vector<nlohmann::json>& out, std::string& error) {
  out.clear();
  // JSON first when it looks like JSON: exact number types, no YAML surprises. A YAML flow
  // map ({name: x}) also starts with '{', hence the fallback.
  if (startsLikeJson(text)) {
    nlohmann::json doc = nlohmann::json::parse(text, nullptr, false);
    if (!doc.is_discarded()) {
      out.push_back(std::move(doc));
      return true;
    }
  }
  return parseYamlDocuments(text, out, error);
}

bool readInput(const std::string& file, std::string& text, std::string& error) {
  if (file == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    return true;
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    error = "cannot read " + file;
    return false;
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  text = buffer.str();
  return true;
}

ObjectKind detectKind(const nlohmann::json& doc) {
  if (!doc.is_object()) return ObjectKind::kUnknown;
  if (has(doc, "listeners") || has(doc, "services") || has(doc, "routes") ||
      has(doc, "proxy") || has(doc, "fallback")) {
    return ObjectKind::kConfig;
  }
  if (has(doc, "split") || has(doc, "match")) return ObjectKind::kRoute;
  if (has(doc, "endpoints") || has(doc, "lb")) return ObjectKind::kService;
  // Otherwise the identity key tells: routes have an "id", services a "name".
  if (has(doc, "id")) return ObjectKind::kRoute;
  if (has(doc, "name")) return ObjectKind::kService;
  return ObjectKind::kUnknown;
}

bool collectItems(const std::vector<nlohmann::json>& docs, std::vector<ApplyItem>& items,
                  std::string& error) {
  std::vector<ApplyItem> all;
  for (const nlohmann::json& doc : docs) {
    if (!addDocument(doc, all, error)) return false;
  }
  // Services before routes, each in file order: a route may split to a service defined
  // later in the same file.
  items.clear();
  for (ObjectKind kind : {ObjectKind::kService, ObjectKind::kRoute}) {
    for (ApplyItem& item : all) {
      if (item.kind == kind) items.push_back(std::move(item));
    }
  }
  return true;
}

}  // namespace turnout::ctl
