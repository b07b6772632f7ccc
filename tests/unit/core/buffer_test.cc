#include "core/buffer.h"

#include <gtest/gtest.h>

#include <string>

namespace turnout::core {
namespace {

TEST(BufferTest, AppendConsumeKeepsOrder) {
  Buffer buffer;
  buffer.append("hello ");
  buffer.append("world");
  EXPECT_EQ(buffer.view(), "hello world");
  buffer.consume(6);
  EXPECT_EQ(buffer.view(), "world");
  buffer.consume(5);
  EXPECT_TRUE(buffer.empty());
}

TEST(BufferTest, GrowsPastItsCapacityWithoutLosingBytes) {
  Buffer buffer;
  std::string expected;
  for (int i = 0; i < 5000; ++i) {
    const std::string piece = std::to_string(i) + ",";
    buffer.append(piece);
    expected += piece;
    if (i % 7 == 0) {
      buffer.consume(1);
      expected.erase(0, 1);
    }
  }
  EXPECT_EQ(buffer.view(), expected);
}

TEST(BufferTest, SmallContentsGetSmallStorage) {
  Buffer buffer;
  buffer.append(std::string(100, 'x'));
  EXPECT_LE(buffer.capacity(), 1024u);  // idle connections must stay cheap
}

TEST(BufferTest, ReleaseIfEmptyFreesStorageOnlyWhenEmpty) {
  Buffer buffer;
  buffer.append("abc");
  buffer.releaseIfEmpty();
  EXPECT_GT(buffer.capacity(), 0u);
  buffer.consume(3);
  buffer.releaseIfEmpty();
  EXPECT_EQ(buffer.capacity(), 0u);
  buffer.append("again");
  EXPECT_EQ(buffer.view(), "again");
}

TEST(BufferTest, PrepareAndCommitWriteInPlace) {
  Buffer buffer;
  char* dst = buffer.prepare(16);
  ASSERT_GE(buffer.writable(), 16u);
  std::memcpy(dst, "0123456789", 10);
  buffer.commit(10);
  EXPECT_EQ(buffer.view(), "0123456789");
}

}  // namespace
}  // namespace turnout::core
