// The routes of one host bucket, indexed by path: a persistent radix tree over path bytes.
//
// Each node stands for the string spelled by the labels from the root to it and holds, in rank
// order, the routes whose exact `path` is that string and those whose `path_prefix` is. Routes
// with neither sit in the root's prefix list (the empty prefix matches every path). A request
// walks one branch, so it visits only the lists of prefixes of its path: O(path length), not
// O(routes). Nodes are immutable and shared; an insert or erase copies only the nodes on its
// branch, so a change costs O(depth), and every other node stays shared with the previous
// snapshot. Private to route/.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "route/snapshot.h"

namespace turnout::route {

using RouteList = std::vector<std::shared_ptr<const CompiledRoute>>;  // in rank order

struct PathNode {
  std::string label;  // the bytes from the parent to this node; empty only at the root
  std::vector<std::shared_ptr<const PathNode>> children;  // sorted by first label byte
  RouteList exact;                                        // routes whose path is this node's string
  RouteList prefix;  // routes whose path_prefix is this node's string
};

class PathIndex {
 public:
  PathIndex() = default;
  bool empty() const { return root_ == nullptr; }
  const PathNode* root() const { return root_.get(); }  // identity, for sharing tests

  // Adds `route` in place, for an index under construction that nothing else sees yet and
  // that is fed routes in rank order: a bulk load then copies no branch.
  void appendWhileBuilding(const std::shared_ptr<const CompiledRoute>& route);

  // The index with `route` added (its rank must be set) or removed (found by rank).
  PathIndex with(const std::shared_ptr<const CompiledRoute>& route) const;
  PathIndex without(const CompiledRoute& route) const;

  // Lowers `best` to the lowest-rank route here matching the request, if any ranks before it.
  void match(std::string_view path, const std::vector<http::HeaderField>& headers,
             const CompiledRoute*& best) const;

 private:
  explicit PathIndex(std::shared_ptr<const PathNode> root) : root_(std::move(root)) {}

  std::shared_ptr<const PathNode> root_;
};

}  // namespace turnout::route
