// The small interface the decoder (config/decoder.h) reads documents through, so that YAML
// files, JSON admin bodies and etcd values share one decoding logic: types, unknown and
// duplicate keys, ranges, field paths. Private to the config module.
#pragma once

#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>

namespace turnout::config {

// One key of a mapping as the decoder sees it. YAML allows non-string keys ({[a]: b}); JSON
// does not, so `is_string` is always true there.
struct MapKey {
  bool is_string = true;
  std::string_view text;
  int line = 0;  // 1-based, 0 when the format does not track lines
};

// An adapter is a set of static functions over a cheap, copyable node handle `A::Node`.
// Scalar readers return false when the node does not hold that type *in that format*: YAML
// reads any scalar as a string (`version: 1` is "1") but JSON needs a JSON string; both refuse
// a quoted "5" where an integer is wanted.
template <class A>
concept NodeAdapter = requires(const typename A::Node& node, std::string& text, int64_t& number,
                               double& real, bool& flag) {
  { A::isNull(node) } -> std::same_as<bool>;
  { A::isMap(node) } -> std::same_as<bool>;
  { A::isSeq(node) } -> std::same_as<bool>;
  { A::readString(node, text) } -> std::same_as<bool>;
  { A::readInteger(node, number) } -> std::same_as<bool>;  // integers that fit int64 only
  { A::readNumber(node, real) } -> std::same_as<bool>;     // any number, as a double
  { A::readBool(node, flag) } -> std::same_as<bool>;
  { A::line(node) } -> std::same_as<int>;  // 1-based, 0 when unknown
  // Visitation in document order, duplicates included (the decoder reports them):
  //   A::forEachEntry(map, [](const MapKey& key, const Node& value) {});
  //   A::forEachItem(seq, [](const Node& item) {});
  A::forEachEntry(node, [](const MapKey&, const typename A::Node&) {});
  A::forEachItem(node, [](const typename A::Node&) {});
};

}  // namespace turnout::config
