// XXH64 as specified in https://github.com/Cyan4973/xxHash/blob/dev/doc/xxhash_spec.md
// (reference test vectors in tests/unit/core/xxhash_test.cc).
#include "core/xxhash.h"

#include <cstring>

namespace turnout::core {
namespace {

constexpr uint64_t kPrime1 = 0x9E3779B185EBCA87ULL;
constexpr uint64_t kPrime2 = 0xC2B2AE3D27D4EB4FULL;
constexpr uint64_t kPrime3 = 0x165667B19E3779F9ULL;
constexpr uint64_t kPrime4 = 0x85EBCA77C2B2AE63ULL;
constexpr uint64_t kPrime5 = 0x27D4EB2F165667C5ULL;

uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

// Little-endian loads: the spec reads input as little-endian words (x86 and arm64 are).
uint64_t read64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

uint32_t read32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

uint64_t round(uint64_t acc, uint64_t input) {
  acc += input * kPrime2;
  acc = rotl(acc, 31);
  return acc * kPrime1;
}

uint64_t mergeRound(uint64_t acc, uint64_t lane) {
  acc ^= round(0, lane);
  return acc * kPrime1 + kPrime4;
}

// Inputs of 32 bytes or more: four lanes of stripes, then merged.
uint64_t stripes(const char*& p, const char* end, uint64_t seed) {
  uint64_t v1 = seed + kPrime1 + kPrime2;
  uint64_t v2 = seed + kPrime2;
  uint64_t v3 = seed;
  uint64_t v4 = seed - kPrime1;
  const char* limit = end - 32;
  do {
    v1 = round(v1, read64(p));
    v2 = round(v2, read64(p + 8));
    v3 = round(v3, read64(p + 16));
    v4 = round(v4, read64(p + 24));
    p += 32;
  } while (p <= limit);
  uint64_t acc = rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18);
  acc = mergeRound(acc, v1);
  acc = mergeRound(acc, v2);
  acc = mergeRound(acc, v3);
  return mergeRound(acc, v4);
}

uint64_t tail(uint64_t acc, const char* p, const char* end) {
  for (; p + 8 <= end; p += 8) acc = rotl(acc ^ round(0, read64(p)), 27) * kPrime1 + kPrime4;
  if (p + 4 <= end) {
    acc = rotl(acc ^ (read32(p) * kPrime1), 23) * kPrime2 + kPrime3;
    p += 4;
  }
  for (; p < end; ++p) {
    acc = rotl(acc ^ (static_cast<uint8_t>(*p) * kPrime5), 11) * kPrime1;
  }
  return acc;
}

uint64_t avalanche(uint64_t acc) {
  acc ^= acc >> 33;
  acc *= kPrime2;
  acc ^= acc >> 29;
  acc *= kPrime3;
  return acc ^ (acc >> 32);
}

}  // namespace

uint64_t xxHash64(std::string_view data, uint64_t seed) {
  const char* p = data.data();
  const char* end = p + data.size();
  uint64_t acc = data.size() >= 32 ? stripes(p, end, seed) : seed + kPrime5;
  acc += data.size();
  return avalanche(tail(acc, p, end));
}

uint64_t mix64(uint64_t value) { return avalanche(value + kPrime5); }

}  // namespace turnout::core
