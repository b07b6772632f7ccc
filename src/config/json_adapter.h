// The JSON tree (config/json_tree.h) behind the decoder's node interface
// (config/node_adapter.h). JSON is typed, so unlike YAML a number is not a string, a string
// is not a number and only true/false are booleans. Private to the config module.
#pragma once

#include <cstdint>
#include <string>

#include "config/json_tree.h"
#include "config/node_adapter.h"

namespace turnout::config {

struct JsonAdapter {
  // A pointer: the tree outlives the decoding, and copies must be free.
  using Node = const JsonValue*;
  using Kind = JsonValue::Kind;

  static bool isNull(Node node) { return node->kind == Kind::kNull; }
  static bool isMap(Node node) { return node->kind == Kind::kObject; }
  static bool isSeq(Node node) { return node->kind == Kind::kArray; }

  static bool readString(Node node, std::string& out) {
    if (node->kind != Kind::kString) return false;
    out = node->text;
    return true;
  }

  // Floats (even 2.0) and integers above INT64_MAX are refused: the model has no use for them.
  static bool readInteger(Node node, int64_t& out) {
    if (node->kind != Kind::kInteger) return false;
    out = node->integer;
    return true;
  }

  // Any JSON number (integers included), as a double.
  static bool readNumber(Node node, double& out) {
    if (node->kind != Kind::kInteger && node->kind != Kind::kHugeInteger &&
        node->kind != Kind::kFloat) {
      return false;
    }
    out = node->number;
    return true;
  }

  static bool readBool(Node node, bool& out) {
    if (node->kind != Kind::kBool) return false;
    out = node->boolean;
    return true;
  }

  static int line(Node) { return 0; }  // the SAX parser does not tell where values are

  template <class Visit>
  static void forEachEntry(Node map, Visit visit) {
    for (const JsonValue& item : map->items) visit(MapKey{true, item.key, 0}, &item);
  }

  template <class Visit>
  static void forEachItem(Node seq, Visit visit) {
    for (const JsonValue& item : seq->items) visit(&item);
  }
};

}  // namespace turnout::config
