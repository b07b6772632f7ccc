// An ordered sequence whose copies share storage: the elements sit in chunks of at most
// kMaxChunk, each held by a shared_ptr, so copying the list copies size/kMaxChunk pointers and
// an insert or erase copies one chunk. Positions are found by binary search with a caller's
// predicate, so one list type serves every order (rank, document). Private to route/.
#pragma once

#include <algorithm>
#include <memory>
#include <vector>

namespace turnout::route {

template <class T>
class ChunkedList {
 public:
  static constexpr size_t kMaxChunk = 128;
  struct Pos {
    size_t chunk = 0;
    size_t index = 0;
  };

  size_t size() const { return size_; }
  size_t chunkCount() const { return chunks_.size(); }
  const void* chunkIdentity(size_t i) const { return chunks_[i].get(); }

  // The first position whose element does not satisfy `before` (the list must be partitioned
  // by it, as std::partition_point requires); the end position if every element does.
  template <class Pred>
  Pos partitionPoint(Pred before) const {
    auto chunk = std::partition_point(chunks_.begin(), chunks_.end(),
                                      [&](const auto& c) { return before(c->back()); });
    if (chunk == chunks_.end()) return end();
    auto index = std::partition_point((*chunk)->begin(), (*chunk)->end(), before);
    return Pos{static_cast<size_t>(chunk - chunks_.begin()),
               static_cast<size_t>(index - (*chunk)->begin())};
  }

  // The element at `pos`, or nullptr at the end.
  const T* at(Pos pos) const {
    if (pos.chunk >= chunks_.size() || pos.index >= chunks_[pos.chunk]->size()) return nullptr;
    return &(*chunks_[pos.chunk])[pos.index];
  }
  // The element just before `pos`, or nullptr at the start.
  const T* before(Pos pos) const {
    if (pos.index > 0) return &(*chunks_[pos.chunk])[pos.index - 1];
    return pos.chunk > 0 ? &chunks_[pos.chunk - 1]->back() : nullptr;
  }

  void insert(Pos pos, T value) {
    if (chunks_.empty()) chunks_.push_back(std::make_shared<std::vector<T>>());
    std::vector<T>& chunk = writable(pos.chunk);
    chunk.insert(chunk.begin() + pos.index, std::move(value));
    ++size_;
    if (chunk.size() > kMaxChunk) split(pos.chunk);
  }

  void replace(Pos pos, T value) { writable(pos.chunk)[pos.index] = std::move(value); }

  void erase(Pos pos) {
    std::vector<T>& chunk = writable(pos.chunk);
    chunk.erase(chunk.begin() + pos.index);
    --size_;
    if (chunk.empty()) chunks_.erase(chunks_.begin() + pos.chunk);
  }

  void pushBack(T value) { insert(end(), std::move(value)); }

  // Replaces the contents with `values`, already in order; chunks are half full, leaving room
  // for inserts before a chunk splits.
  void assign(std::vector<T> values) {
    chunks_.clear();
    size_ = values.size();
    for (size_t i = 0; i < values.size(); i += kMaxChunk / 2) {
      size_t end = std::min(values.size(), i + kMaxChunk / 2);
      chunks_.push_back(
          std::make_shared<std::vector<T>>(std::make_move_iterator(values.begin() + i),
                                           std::make_move_iterator(values.begin() + end)));
    }
  }

  template <class F>
  void forEach(F&& visit) const {
    for (const auto& chunk : chunks_) {
      for (const T& value : *chunk) visit(value);
    }
  }

 private:
  Pos end() const {
    return chunks_.empty() ? Pos{} : Pos{chunks_.size() - 1, chunks_.back()->size()};
  }

  // Chunks may be shared with other lists, so a write always copies the chunk: at most
  // kMaxChunk element copies.
  std::vector<T>& writable(size_t index) {
    auto copy = std::make_shared<std::vector<T>>(*chunks_[index]);
    chunks_[index] = copy;
    return *copy;
  }

  void split(size_t index) {
    std::vector<T>& full = *chunks_[index];
    auto second =
        std::make_shared<std::vector<T>>(std::make_move_iterator(full.begin() + full.size() / 2),
                                         std::make_move_iterator(full.end()));
    full.resize(full.size() / 2);
    chunks_.insert(chunks_.begin() + index + 1, std::move(second));
  }

  // Written only through writable(), which replaces the chunk with a fresh copy first.
  std::vector<std::shared_ptr<std::vector<T>>> chunks_;
  size_t size_ = 0;
};

}  // namespace turnout::route
