// A string-keyed map whose copies share storage: the keys are spread over kShards shards, each
// held by a shared_ptr, so copying the map copies kShards pointers and a write copies only the
// one shard it touches. Private to route/.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

namespace turnout::route {

// A key whose hash is already known: the map hashes a key once, to pick the shard, and the
// shard's own lookup reuses that hash.
struct HashedKey {
  std::string_view key;
  size_t hash;
};

// Lets the shards be searched with a HashedKey, so lookups build no std::string and hash once.
// Not noexcept on purpose: libstdc++ then caches each node's hash, so walking a bucket chain
// compares hashes instead of hashing keys again.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  size_t operator()(const HashedKey& k) const { return k.hash; }
};

struct StringEqual {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const { return a == b; }
  bool operator()(const HashedKey& a, std::string_view b) const { return a.key == b; }
  bool operator()(std::string_view a, const HashedKey& b) const { return a == b.key; }
};

template <class V>
class ShardedMap {
 public:
  static constexpr size_t kShards = 64;
  using Shard = std::unordered_map<std::string, V, StringHash, StringEqual>;

  ShardedMap() = default;
  // A copy shares every shard. Neither side may then write a shared shard in place, so both
  // forget which shards they own (the source is only ever a published, otherwise untouched map).
  ShardedMap(const ShardedMap& other) : shards_(other.shards_), size_(other.size_) {
    other.owned_ = 0;
  }
  ShardedMap& operator=(const ShardedMap& other) {
    shards_ = other.shards_;
    size_ = other.size_;
    owned_ = 0;
    other.owned_ = 0;
    return *this;
  }
  ShardedMap(ShardedMap&&) noexcept = default;
  ShardedMap& operator=(ShardedMap&&) noexcept = default;

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  const V* find(std::string_view key) const {
    HashedKey hashed{key, StringHash{}(key)};
    const Shard* shard = shards_[shardOf(hashed.hash)].get();
    if (shard == nullptr) return nullptr;
    auto it = shard->find(hashed);
    return it != shard->end() ? &it->second : nullptr;
  }

  // The value for `key`, default-constructed if absent, writable: its shard is copied first
  // unless this map already owns it.
  V& slot(std::string_view key) {
    HashedKey hashed{key, StringHash{}(key)};
    Shard& shard = writable(shardOf(hashed.hash));
    auto it = shard.find(hashed);
    if (it == shard.end()) {
      it = shard.emplace(std::string(key), V{}).first;
      ++size_;
    }
    return it->second;
  }

  void set(std::string_view key, V value) { slot(key) = std::move(value); }

  bool erase(std::string_view key) {
    HashedKey hashed{key, StringHash{}(key)};
    size_t index = shardOf(hashed.hash);
    if (shards_[index] == nullptr || !shards_[index]->contains(hashed)) return false;
    Shard& shard = writable(index);
    shard.erase(shard.find(hashed));
    --size_;
    return true;
  }

  // Room for `total` keys spread evenly, so a bulk load does not rehash shard by shard.
  void reserve(size_t total) {
    for (size_t i = 0; i < kShards; ++i) writable(i).reserve(total / kShards + total / 256 + 1);
  }

  template <class F>
  void forEach(F&& visit) const {
    for (const auto& shard : shards_) {
      if (shard == nullptr) continue;
      for (const auto& [key, value] : *shard) visit(key, value);
    }
  }

  // For tests of structural sharing: the identity of shard `i`.
  const void* shardIdentity(size_t i) const { return shards_[i].get(); }

 private:
  static size_t shardOf(size_t hash) {
    // Top bits of a multiplicative mix: the shard's own buckets use the hash modulo a prime.
    return (hash * 0x9E3779B97F4A7C15ull) >> 58;
  }
  static_assert(kShards == 64, "shardOf takes the top 6 bits");

  Shard& writable(size_t index) {
    uint64_t bit = uint64_t{1} << index;
    if ((owned_ & bit) == 0) {
      shards_[index] = shards_[index] == nullptr ? std::make_shared<Shard>()
                                                 : std::make_shared<Shard>(*shards_[index]);
      owned_ |= bit;
    }
    return *shards_[index];
  }

  // Non-const so that owned shards can be written in place; a shard is written only while its
  // bit is set, i.e. while no other map can see it.
  std::array<std::shared_ptr<Shard>, kShards> shards_{};
  size_t size_ = 0;
  mutable uint64_t owned_ = 0;  // bit i: shards_[i] was created by this map since its last copy
};

}  // namespace turnout::route
