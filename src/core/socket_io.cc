#include "core/socket_io.h"

#include <unistd.h>

#include <cerrno>

namespace turnout::core {

bool writeOrQueue(int fd, const iovec* parts, int count, Buffer& pending, bool may_write) {
  size_t written = 0;
  if (pending.empty() && may_write) {
    const ssize_t n = ::writev(fd, parts, count);
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return false;
    written = n > 0 ? static_cast<size_t>(n) : 0;
  }
  for (int i = 0; i < count; ++i) {
    const size_t length = parts[i].iov_len;
    if (written >= length) {
      written -= length;
      continue;
    }
    pending.append({static_cast<const char*>(parts[i].iov_base) + written, length - written});
    written = 0;
  }
  return true;
}

bool flushQueued(int fd, Buffer& pending) {
  while (!pending.empty()) {
    const ssize_t n = ::write(fd, pending.data(), pending.size());
    if (n > 0) {
      pending.consume(static_cast<size_t>(n));
      continue;
    }
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }
  pending.releaseIfEmpty();
  return true;
}

}  // namespace turnout::core
