#include "core/buffer.h"

#include <algorithm>

namespace turnout::core {

char* Buffer::prepare(size_t want) {
  if (capacity_ - end_ >= want) return storage_.get() + end_;
  const size_t used = size();
  if (capacity_ >= used + want && begin_ > 0) {
    std::memmove(storage_.get(), data(), used);
  } else {
    size_t new_capacity = std::max<size_t>(capacity_ * 2, 1024);
    while (new_capacity < used + want) new_capacity *= 2;
    std::unique_ptr<char[]> grown(new char[new_capacity]);
    if (used > 0) std::memcpy(grown.get(), data(), used);
    storage_ = std::move(grown);
    capacity_ = new_capacity;
  }
  begin_ = 0;
  end_ = used;
  return storage_.get() + end_;
}

void Buffer::append(std::string_view bytes) {
  std::memcpy(prepare(bytes.size()), bytes.data(), bytes.size());
  commit(bytes.size());
}

void Buffer::consume(size_t n) {
  begin_ += n;
  if (begin_ == end_) begin_ = end_ = 0;
}

void Buffer::releaseIfEmpty() {
  if (empty() && storage_) {
    storage_.reset();
    capacity_ = begin_ = end_ = 0;
  }
}

}  // namespace turnout::core
