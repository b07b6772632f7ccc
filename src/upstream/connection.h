// One TCP connection to an upstream endpoint. While an exchange uses it, events go to that
// exchange; while it idles in a pool, any event (the upstream closing, stray bytes) ends it.
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <cstdint>
#include <string_view>

#include "core/buffer.h"
#include "core/event_loop.h"
#include "core/timer.h"
#include "observe/metrics.h"

namespace turnout::upstream {

class UpstreamPool;

// Who receives the events of a busy upstream connection.
class UpstreamUser {
 public:
  virtual ~UpstreamUser() = default;
  virtual void onUpstreamConnected() = 0;
  virtual void onUpstreamReadable() = 0;      // data or EOF may be waiting: call read()
  virtual void onUpstreamWritable() = 0;      // the output queue drained
  virtual void onUpstreamError(int err) = 0;  // connect failed or the socket broke
};

class UpstreamConnection final : public core::IoHandler {
 public:
  UpstreamConnection(core::EventLoop& loop, UpstreamPool& pool, int fd, uint32_t endpoint_id,
                     bool connected);
  ~UpstreamConnection() override;

  uint32_t endpointId() const { return endpoint_id_; }
  bool connected() const { return connected_; }
  bool reused() const { return requests_ > 1; }
  void attach(UpstreamUser* user);
  // Counts this connection in `gauge` (its service's open connections, on this worker) until
  // it closes.
  void countIn(observe::ShardCounter* gauge);
  void detach() { user_ = nullptr; }

  // Reads what the socket has into in(). Returns bytes read, 0 on EOF, -1 when nothing is
  // available now (wait for onUpstreamReadable), -2 on error (errno kept in lastError()).
  ssize_t read();
  core::Buffer& in() { return in_; }
  // Writes now what the socket takes and queues the rest; false if the socket broke.
  bool write(const iovec* parts, int count);
  bool write(std::string_view bytes);
  size_t pendingOutput() const { return out_.size(); }
  bool eof() const { return eof_; }
  int lastError() const { return last_error_; }

  // Ends the connection: unregisters and closes the fd; the pool frees the object later.
  void close();
  bool closed() const { return fd_ < 0; }

  // IoHandler
  void onIoEvents(uint32_t events) override;

 private:
  friend class UpstreamPool;
  bool flush();
  void uncount();
  void onIdleEvent(uint32_t events);
  void parkIdle(uint32_t timeout_ms);

  core::EventLoop& loop_;
  UpstreamPool& pool_;
  int fd_;
  uint32_t endpoint_id_;
  bool connected_;
  observe::ShardCounter* counted_in_ = nullptr;
  bool readable_ = false;
  bool eof_ = false;
  bool peer_hung_up_ = false;  // EPOLLRDHUP seen: read until EOF, no further edge will come
  int last_error_ = 0;
  uint32_t requests_ = 0;
  UpstreamUser* user_ = nullptr;
  core::Buffer in_;
  core::Buffer out_;
  core::Timer idle_timer_;
};

}  // namespace turnout::upstream
