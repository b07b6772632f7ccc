#include "route/path_index.h"

#include <algorithm>

namespace turnout::route {
namespace {

using NodePtr = std::shared_ptr<const PathNode>;
using RoutePtr = std::shared_ptr<const CompiledRoute>;

// Where a route sits in the tree: the string of its node, and which list there.
struct Slot {
  std::string_view key;
  bool exact;
};

Slot slotOf(const CompiledRoute& route) {
  const config::RouteMatch& match = route.source.match;
  // A route with both an exact path and a prefix can only match its exact path; the prefix is
  // checked again by matchesRequest.
  if (!match.path.empty()) return Slot{match.path, true};
  return Slot{route.prefix(), false};
}

RouteList& listOf(PathNode& node, const Slot& slot) {
  return slot.exact ? node.exact : node.prefix;
}

void insertByRank(RouteList& list, const RoutePtr& route) {
  auto it = std::lower_bound(list.begin(), list.end(), route->rank,
                             [](const RoutePtr& r, uint64_t rank) { return r->rank < rank; });
  list.insert(it, route);
}

void eraseByRank(RouteList& list, uint64_t rank) {
  auto it = std::lower_bound(list.begin(), list.end(), rank,
                             [](const RoutePtr& r, uint64_t value) { return r->rank < value; });
  if (it != list.end() && (*it)->rank == rank) list.erase(it);
}

using ChildIt = std::vector<NodePtr>::iterator;

ChildIt childFor(std::vector<NodePtr>& children, char first) {
  return std::lower_bound(children.begin(), children.end(), first,
                          [](const NodePtr& child, char c) { return child->label[0] < c; });
}

const PathNode* childFor(const PathNode& node, char first) {
  auto it = std::lower_bound(node.children.begin(), node.children.end(), first,
                             [](const NodePtr& child, char c) { return child->label[0] < c; });
  return it != node.children.end() && (*it)->label[0] == first ? it->get() : nullptr;
}

size_t commonPrefix(std::string_view a, std::string_view b) {
  size_t n = std::min(a.size(), b.size());
  size_t i = 0;
  while (i < n && a[i] == b[i]) ++i;
  return i;
}

// A copy of `node` (whose own label is already consumed) with `route` added at `rest` below it.
NodePtr withRoute(const PathNode& node, std::string_view rest, const RoutePtr& route,
                  const Slot& slot) {
  auto copy = std::make_shared<PathNode>(node);
  if (rest.empty()) {
    insertByRank(listOf(*copy, slot), route);
    return copy;
  }
  auto it = childFor(copy->children, rest[0]);
  if (it == copy->children.end() || (*it)->label[0] != rest[0]) {
    auto leaf = std::make_shared<PathNode>();
    leaf->label = std::string(rest);
    insertByRank(listOf(*leaf, slot), route);
    copy->children.insert(it, std::move(leaf));
    return copy;
  }
  const PathNode& child = **it;
  size_t common = commonPrefix(child.label, rest);
  if (common == child.label.size()) {
    *it = withRoute(child, rest.substr(common), route, slot);
    return copy;
  }
  // `rest` leaves the child's label part way: a new node at the fork takes the child below it.
  auto fork = std::make_shared<PathNode>();
  fork->label = child.label.substr(0, common);
  auto tail = std::make_shared<PathNode>(child);
  tail->label.erase(0, common);
  fork->children.push_back(std::move(tail));
  *it = withRoute(*fork, rest.substr(common), route, slot);
  return copy;
}

bool holdsNothing(const PathNode& node) { return node.exact.empty() && node.prefix.empty(); }

// A copy of `node` without the route of rank `rank` at `rest` below it; nullptr when nothing
// is left in it. A node left with no routes and one child merges into that child, so erasing
// undoes the forks inserting made.
NodePtr withoutRoute(const PathNode& node, std::string_view rest, uint64_t rank, const Slot& slot,
                     bool is_root) {
  auto copy = std::make_shared<PathNode>(node);
  if (rest.empty()) {
    eraseByRank(listOf(*copy, slot), rank);
  } else {
    auto it = childFor(copy->children, rest[0]);
    if (it == copy->children.end() || (*it)->label[0] != rest[0] ||
        !rest.starts_with((*it)->label)) {
      return copy;  // not here: nothing to remove
    }
    NodePtr child = withoutRoute(**it, rest.substr((*it)->label.size()), rank, slot, false);
    if (child != nullptr) {
      *it = std::move(child);
    } else {
      copy->children.erase(it);
    }
  }
  if (!holdsNothing(*copy)) return copy;
  if (copy->children.empty()) return nullptr;
  if (!is_root && copy->children.size() == 1) {
    auto merged = std::make_shared<PathNode>(*copy->children[0]);
    merged->label = copy->label + merged->label;
    return merged;
  }
  return copy;
}

// Same rule as a whole bucket scan: the list is in rank order, so its first match is its best,
// and a route ranked after `best` cannot win.
void considerList(const RouteList& list, std::string_view path,
                  const std::vector<http::HeaderField>& headers, const CompiledRoute*& best) {
  for (const RoutePtr& route : list) {
    if (best != nullptr && route->rank >= best->rank) return;
    if (route->matchesRequest(path, headers)) {
      best = route.get();
      return;
    }
  }
}

// Adds `route` below `node`, writing the nodes in place: only for a tree under construction,
// whose nodes were all created non-const by appendWhileBuilding() and are seen by nothing else yet.
// Routes come in rank order, so each list only grows at its end.
void insertInPlace(PathNode& node, std::string_view rest, const RoutePtr& route, const Slot& slot) {
  if (rest.empty()) {
    listOf(node, slot).push_back(route);
    return;
  }
  auto it = childFor(node.children, rest[0]);
  if (it == node.children.end() || (*it)->label[0] != rest[0]) {
    auto leaf = std::make_shared<PathNode>();
    leaf->label = std::string(rest);
    listOf(*leaf, slot).push_back(route);
    node.children.insert(it, std::move(leaf));
    return;
  }
  auto& child = const_cast<PathNode&>(**it);
  size_t common = commonPrefix(child.label, rest);
  if (common < child.label.size()) {
    auto fork = std::make_shared<PathNode>();
    fork->label = child.label.substr(0, common);
    child.label.erase(0, common);
    fork->children.push_back(std::move(*it));
    *it = fork;
    insertInPlace(*fork, rest.substr(common), route, slot);
    return;
  }
  insertInPlace(child, rest.substr(common), route, slot);
}

}  // namespace

void PathIndex::appendWhileBuilding(const RoutePtr& route) {
  if (root_ == nullptr) root_ = std::make_shared<PathNode>();
  Slot slot = slotOf(*route);
  // The root was created non-const by make_shared, so writing through it is defined.
  insertInPlace(const_cast<PathNode&>(*root_), slot.key, route, slot);
}

PathIndex PathIndex::with(const RoutePtr& route) const {
  Slot slot = slotOf(*route);
  static const PathNode kEmptyRoot;
  return PathIndex(withRoute(root_ != nullptr ? *root_ : kEmptyRoot, slot.key, route, slot));
}

PathIndex PathIndex::without(const CompiledRoute& route) const {
  if (root_ == nullptr) return *this;
  return PathIndex(withoutRoute(*root_, slotOf(route).key, route.rank, slotOf(route), true));
}

void PathIndex::match(std::string_view path, const std::vector<http::HeaderField>& headers,
                      const CompiledRoute*& best) const {
  const PathNode* node = root_.get();
  std::string_view rest = path;
  while (node != nullptr) {
    considerList(node->prefix, path, headers, best);
    if (rest.empty()) {
      considerList(node->exact, path, headers, best);
      return;
    }
    const PathNode* child = childFor(*node, rest[0]);
    if (child == nullptr || !rest.starts_with(child->label)) return;
    rest.remove_prefix(child->label.size());
    node = child;
  }
}

}  // namespace turnout::route
