#include "upstream/connection.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>

#include "core/socket_io.h"
#include "upstream/pool.h"

namespace turnout::upstream {

UpstreamConnection::UpstreamConnection(core::EventLoop& loop, UpstreamPool& pool, int fd,
                                       uint32_t endpoint_id, bool connected)
    : loop_(loop),
      pool_(pool),
      fd_(fd),
      endpoint_id_(endpoint_id),
      connected_(connected),
      idle_timer_([this] { close(); }) {
  loop_.add(fd_, this);
}

UpstreamConnection::~UpstreamConnection() {
  uncount();
  if (fd_ >= 0) ::close(fd_);
}

void UpstreamConnection::attach(UpstreamUser* user) {
  user_ = user;
  ++requests_;
  idle_timer_.cancel();
}

void UpstreamConnection::countIn(observe::ShardCounter* gauge) {
  uncount();
  counted_in_ = gauge;
  if (counted_in_ != nullptr) observe::gaugeAdd(*counted_in_, 1);
}

void UpstreamConnection::uncount() {
  if (counted_in_ == nullptr) return;
  observe::gaugeAdd(*counted_in_, -1);
  counted_in_ = nullptr;
}

void UpstreamConnection::close() {
  if (fd_ < 0) return;
  uncount();
  idle_timer_.cancel();
  ::close(fd_);  // also leaves the epoll set: the fd is never duplicated
  fd_ = -1;
  user_ = nullptr;
  pool_.destroy(this);
}

ssize_t UpstreamConnection::read() {
  if (fd_ < 0) return -2;
  if (!readable_) return -1;
  // Large reads: a 64 KiB response crosses in one read instead of four.
  char* dst = in_.prepare(64 * 1024);
  const size_t room = in_.writable();
  ssize_t n = ::read(fd_, dst, room);
  if (n > 0) {
    in_.commit(static_cast<size_t>(n));
    // A short read drained the socket: with edge triggering the next byte brings a new edge.
    // Not so for a FIN already announced (EPOLLRDHUP): no new edge comes for it.
    if (static_cast<size_t>(n) < room && !peer_hung_up_) readable_ = false;
    return n;
  }
  if (n == 0) {
    eof_ = true;
    readable_ = false;
    return 0;
  }
  if (errno == EAGAIN || errno == EWOULDBLOCK) {
    readable_ = false;
    return -1;
  }
  last_error_ = errno;
  return -2;
}

bool UpstreamConnection::write(const iovec* parts, int count) {
  if (fd_ < 0) return false;
  // Until the connect completes everything is queued; onIoEvents flushes it.
  if (core::writeOrQueue(fd_, parts, count, out_, connected_)) return true;
  last_error_ = errno;
  return false;
}

bool UpstreamConnection::write(std::string_view bytes) {
  iovec part{const_cast<char*>(bytes.data()), bytes.size()};
  return write(&part, 1);
}

bool UpstreamConnection::flush() {
  if (core::flushQueued(fd_, out_)) return true;
  last_error_ = errno;
  return false;
}

void UpstreamConnection::onIoEvents(uint32_t events) {
  if (fd_ < 0) return;
  if (user_ == nullptr) return onIdleEvent(events);
  if (!connected_) {
    if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) {
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) {
        last_error_ = err;
        return user_->onUpstreamError(err);
      }
      connected_ = true;
      if (!flush()) return user_->onUpstreamError(last_error_);
      user_->onUpstreamConnected();
      if (fd_ < 0 || user_ == nullptr) return;
    } else {
      return;
    }
  }
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) readable_ = true;
  if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) peer_hung_up_ = true;
  if ((events & EPOLLOUT) && !out_.empty()) {
    if (!flush()) return user_->onUpstreamError(last_error_);
    if (out_.empty()) user_->onUpstreamWritable();
    if (fd_ < 0 || user_ == nullptr) return;
  }
  if (readable_) user_->onUpstreamReadable();
}

void UpstreamConnection::onIdleEvent(uint32_t events) {
  // An idle connection has nothing to say: bytes or EOF mean it is no longer usable.
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) close();
}

void UpstreamConnection::parkIdle(uint32_t timeout_ms) {
  user_ = nullptr;
  in_.releaseIfEmpty();
  idle_timer_.arm(loop_.timers(), timeout_ms);
}

}  // namespace turnout::upstream
