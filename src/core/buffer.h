// A contiguous byte buffer with a read and a write cursor. Contiguous on purpose: the HTTP
// parser returns views into it, so a request head must sit in one piece.
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>

namespace turnout::core {

class Buffer {
 public:
  Buffer() = default;
  Buffer(Buffer&&) = default;
  Buffer& operator=(Buffer&&) = default;

  const char* data() const { return storage_.get() + begin_; }
  size_t size() const { return end_ - begin_; }
  bool empty() const { return begin_ == end_; }
  std::string_view view() const { return {data(), size()}; }
  size_t capacity() const { return capacity_; }

  // Room to write at least `want` bytes (moves data down or grows). Returns the write pointer.
  char* prepare(size_t want);
  size_t writable() const { return capacity_ - end_; }
  void commit(size_t n) { end_ += n; }
  void append(std::string_view bytes);
  void consume(size_t n);
  // Frees the storage once it holds nothing, so idle connections cost no buffer memory.
  void releaseIfEmpty();

 private:
  std::unique_ptr<char[]> storage_;
  size_t capacity_ = 0;
  size_t begin_ = 0;
  size_t end_ = 0;
};

}  // namespace turnout::core
