#include "store/model_json.h"

#include <limits>
#include <nlohmann/json.hpp>

namespace turnout::store {

namespace {

using nlohmann::json;

// --- encoding: through nlohmann's DOM (commit path; the fsync dwarfs it) -----------------

json toJson(const config::Endpoint& endpoint) {
  return {
      {"address", endpoint.address}, {"version", endpoint.version}, {"weight", endpoint.weight}};
}

json toJson(const config::SplitTarget& target) {
  return {{"service", target.service}, {"version", target.version}, {"weight", target.weight}};
}

json toJson(const config::RouteMatch& match) {
  return {{"host", match.host},
          {"path", match.path},
          {"path_prefix", match.path_prefix},
          {"headers", match.headers}};
}

// replace: a string that is not valid UTF-8 is stored with U+FFFD instead of making dump()
// throw; validation upstream rejects such input before it reaches the store anyway.
std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// --- decoding: SAX straight into the model ------------------------------------------------
// load() decodes every stored object at boot; building a DOM first and copying out of it
// tripled the cost (10k routes + 10k services took ~100 ms), so values go straight to fields.

// One scalar from the parser; to() assigns it to a field of the matching type, false otherwise.
struct Value {
  enum class Kind { kString, kInteger, kBool, kOther } kind = Kind::kOther;
  std::string* text = nullptr;
  int64_t integer = 0;
  bool flag = false;

  bool to(std::string& out) const {
    if (kind != Kind::kString) return false;
    out = std::move(*text);
    return true;
  }
  bool to(bool& out) const {
    if (kind != Kind::kBool) return false;
    out = flag;
    return true;
  }
  template <typename Int>
  bool to(Int& out) const {
    if (kind != Kind::kInteger || integer < std::numeric_limits<Int>::min() ||
        integer > static_cast<int64_t>(std::numeric_limits<Int>::max())) {
      return false;
    }
    out = static_cast<Int>(integer);
    return true;
  }
};

// Where a value sits: "" for the top object's fields, "/match" for match's, "/split/[]" for
// the fields of a split element. Each model type maps (path, key) to its fields; an unknown
// (path, key) is ignored, so a body written by a newer turnout still loads.
bool setField(config::Listener& out, std::string_view path, std::string_view key, const Value& v) {
  if (!path.empty()) return true;
  if (key == "name") return v.to(out.name);
  if (key == "address") return v.to(out.address);
  if (key == "protocol") return v.to(out.protocol);
  return true;
}

bool setField(config::Service& out, std::string_view path, std::string_view key, const Value& v) {
  if (path.empty()) {
    if (key == "name") return v.to(out.name);
    if (key == "lb") return v.to(out.lb);
    return true;
  }
  if (path != "/endpoints/[]" || out.endpoints.empty()) return true;
  config::Endpoint& endpoint = out.endpoints.back();
  if (key == "address") return v.to(endpoint.address);
  if (key == "version") return v.to(endpoint.version);
  if (key == "weight") return v.to(endpoint.weight);
  return true;
}

bool setField(config::Route& out, std::string_view path, std::string_view key, const Value& v) {
  if (path.empty()) {
    if (key == "id") return v.to(out.id);
    if (key == "priority") return v.to(out.priority);
    if (key == "timeout_ms") return v.to(out.timeout_ms);
    return true;
  }
  if (path == "/match") {
    if (key == "host") return v.to(out.match.host);
    if (key == "path") return v.to(out.match.path);
    if (key == "path_prefix") return v.to(out.match.path_prefix);
    return true;
  }
  if (path == "/match/headers") return v.to(out.match.headers[std::string(key)]);
  if (path == "/rewrite" && key == "strip_prefix") return v.to(out.strip_prefix);
  if (path != "/split/[]" || out.split.empty()) return true;
  config::SplitTarget& target = out.split.back();
  if (key == "service") return v.to(target.service);
  if (key == "version") return v.to(target.version);
  if (key == "weight") return v.to(target.weight);
  return true;
}

// An object opened inside the array at `path`: a new list element, with the model's defaults.
void addElement(config::Listener&, std::string_view) {}
void addElement(config::Service& out, std::string_view path) {
  if (path == "/endpoints") out.endpoints.emplace_back();
}
void addElement(config::Route& out, std::string_view path) {
  if (path == "/split") out.split.emplace_back();
}

template <typename T>
class ModelReader final : public nlohmann::json_sax<json> {
 public:
  explicit ModelReader(T& out) : out_(out) {}
  const std::string& error() const { return error_; }

  bool null() override { return root(); }  // null = absent: the default stays
  bool boolean(bool flag) override { return scalar({Value::Kind::kBool, nullptr, 0, flag}); }
  bool number_integer(number_integer_t n) override {
    return scalar({Value::Kind::kInteger, nullptr, n, false});
  }
  bool number_unsigned(number_unsigned_t n) override {
    if (n > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return scalar({});
    return scalar({Value::Kind::kInteger, nullptr, static_cast<int64_t>(n), false});
  }
  bool number_float(number_float_t, const string_t&) override { return scalar({}); }
  bool string(string_t& text) override { return scalar({Value::Kind::kString, &text, 0, false}); }
  bool binary(binary_t&) override { return scalar({}); }

  bool start_object(std::size_t) override {
    if (depth_.empty()) {  // the root object: fields at path ""
      depth_.push_back(0);
      in_array_.push_back(false);
      return true;
    }
    if (in_array_.back()) addElement(out_, path_);
    open(in_array_.back() ? "[]" : key_, false);
    return true;
  }
  bool end_object() override { return close(); }
  bool start_array(std::size_t) override {
    if (depth_.empty()) return fail("stored body is not a JSON object");
    open(in_array_.back() ? "[]" : key_, true);
    return true;
  }
  bool end_array() override { return close(); }
  bool key(string_t& key) override {
    key_ = std::move(key);
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override {
    return fail(std::string("stored body: ") + e.what());
  }

 private:
  bool root() { return !depth_.empty() || fail("stored body is not a JSON object"); }

  bool scalar(const Value& value) {
    if (!root()) return false;
    std::string_view key = in_array_.back() ? std::string_view("[]") : std::string_view(key_);
    if (setField(out_, path_, key, value)) return true;
    return fail("stored body: field " + path_ + "/" + std::string(key) + " has the wrong type");
  }

  void open(std::string_view key, bool array) {
    depth_.push_back(path_.size());
    path_.append("/").append(key);
    in_array_.push_back(array);
  }

  bool close() {
    path_.resize(depth_.back());
    depth_.pop_back();
    in_array_.pop_back();
    return true;
  }

  bool fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
    return false;
  }

  T& out_;
  std::string path_;            // "/match/headers"
  std::vector<size_t> depth_;   // path_ length before each open container (root: 0)
  std::vector<bool> in_array_;  // whether each open container is an array
  std::string key_;             // the last key read
  std::string error_;
};

template <typename T>
bool decodeObject(std::string_view text, T& out, std::string& error) {
  out = T{};
  ModelReader<T> reader(out);
  bool ok = false;
  try {
    ok = json::sax_parse(text.begin(), text.end(), &reader);
  } catch (const std::exception& e) {  // nothing escapes the store, not even bad_alloc
    error = std::string("stored body: ") + e.what();
    return false;
  }
  if (ok) return true;
  error = reader.error().empty() ? "stored body is not valid JSON" : reader.error();
  return false;
}

}  // namespace

std::string encode(const config::Listener& listener) {
  json j = {
      {"name", listener.name}, {"address", listener.address}, {"protocol", listener.protocol}};
  return dump(j);
}

std::string encode(const config::Service& service) {
  json endpoints = json::array();
  for (const auto& endpoint : service.endpoints) endpoints.push_back(toJson(endpoint));
  json j = {{"name", service.name}, {"lb", service.lb}, {"endpoints", std::move(endpoints)}};
  return dump(j);
}

std::string encode(const config::Route& route) {
  json split = json::array();
  for (const auto& target : route.split) split.push_back(toJson(target));
  json j = {{"id", route.id},
            {"priority", route.priority},
            {"match", toJson(route.match)},
            {"rewrite", {{"strip_prefix", route.strip_prefix}}},
            {"split", std::move(split)},
            {"timeout_ms", route.timeout_ms}};
  return dump(j);
}

bool decode(std::string_view text, config::Listener& out, std::string& error) {
  return decodeObject(text, out, error);
}

bool decode(std::string_view text, config::Service& out, std::string& error) {
  return decodeObject(text, out, error);
}

bool decode(std::string_view text, config::Route& out, std::string& error) {
  return decodeObject(text, out, error);
}

}  // namespace turnout::store
