#include "core/xxhash.h"

#include <gtest/gtest.h>

#include <string>

namespace turnout::core {
namespace {

// Reference values of XXH64 (xxHash's own sanity checks and test suites), covering the empty
// input, the 1-, 4- and 8-byte tails and the 32-byte stripes.
TEST(XxHashTest, MatchesReferenceVectors) {
  EXPECT_EQ(xxHash64(""), 0xEF46DB3751D8E999ULL);
  EXPECT_EQ(xxHash64("", 1), 0xD5AFBA1336A3BE4BULL);
  EXPECT_EQ(xxHash64("a"), 0xD24EC4F1A98C6E5BULL);
  EXPECT_EQ(xxHash64("abc"), 0x44BC2CF5AD770999ULL);
  EXPECT_EQ(xxHash64("asdf"), 0x415872F599CEA71EULL);
  EXPECT_EQ(xxHash64("Call me Ishmael."), 0x6D04390FC9D61A90ULL);
  EXPECT_EQ(xxHash64("Nobody inspects the spammish repetition"), 0xFBCEA83C8A378BF1ULL);
}

TEST(XxHashTest, SeedAndMixChangeTheValue) {
  EXPECT_NE(xxHash64("127.0.0.1:80", 0), xxHash64("127.0.0.1:80", 1));
  EXPECT_NE(mix64(1), mix64(2));
  EXPECT_EQ(mix64(42), mix64(42));
}

}  // namespace
}  // namespace turnout::core
