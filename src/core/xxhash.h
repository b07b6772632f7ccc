// XXH64 (Yann Collet's xxHash, 64-bit variant): the hash Envoy uses for its ring hash and
// Maglev load balancers and for request hash keys. Fast and well mixed for short keys such as
// "127.0.0.1:9091_17" or a header value; not a cryptographic hash.
#pragma once

#include <cstdint>
#include <string_view>

namespace turnout::core {

uint64_t xxHash64(std::string_view data, uint64_t seed = 0);

// A 64-bit finalizer (the avalanche step of XXH64): rehashes an existing hash with a salt.
uint64_t mix64(uint64_t value);

}  // namespace turnout::core
