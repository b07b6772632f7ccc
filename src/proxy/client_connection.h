// The downstream side of HTTP/1.1: one client connection. It reads and parses request heads,
// enforces the connection-level limits and timeouts, answers malformed requests itself, and
// hands each well-formed request to an Exchange, one at a time, so pipelined requests are
// answered in order.
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <memory>
#include <string>
#include <string_view>

#include "core/buffer.h"
#include "core/event_loop.h"
#include "core/timer.h"
#include "http/message.h"

namespace turnout::proxy {

class Exchange;
class Worker;

class ClientConnection final : public core::IoHandler {
 public:
  // `listener_name` (the configured listener it came through, or "") outlives the connection.
  ClientConnection(Worker& worker, int fd, const sockaddr_storage& peer,
                   const std::string& listener_name);
  ~ClientConnection() override;

  // IoHandler
  void onIoEvents(uint32_t events) override;

  // For the exchange in progress.
  Worker& worker() { return worker_; }
  core::Buffer& in() { return in_; }
  const std::string& peerIp() const { return peer_ip_; }
  const std::string& peerAddress() const { return peer_address_; }  // set when logging
  // When the current request's head began to arrive: where its duration starts, as nginx's
  // $request_time does.
  uint64_t headStartedMicros() const { return head_started_us_; }
  const std::string& listenerName() const { return listener_name_; }
  // Reads what the socket has, up to the buffering limit. False when the client is gone.
  bool readMore();
  bool peerClosed() const { return eof_; }
  bool send(const iovec* parts, int count);
  bool send(std::string_view bytes);
  size_t pendingOutput() const { return out_.size(); }
  // The exchange is over; `keep_alive` says whether the connection may take another request.
  void exchangeDone(bool keep_alive);
  // Ends the connection at once (no response, or a truncated one).
  void abort();
  // Closes the connection without answering (an injected "drop" fault): the client sees an
  // empty reply, as from a crashed server.
  void dropConnection();
  // Graceful end: no new request; idle connections close now.
  void beginDrain();
  bool idle() const;

 private:
  enum class State : uint8_t { kIdle, kReadingHead, kInExchange, kClosing, kClosed };

  void onReadable();
  void processInput();
  void startExchange();
  void rejectRequest(int status, std::string_view reason);
  void logRejected(int status, std::string_view request_id, size_t bytes_out);
  void closeAfterFlush(bool linger = true);
  void finishClosing();
  bool flush();
  void close();
  void onTimeout();
  void armIdle();

  Worker& worker_;
  int fd_;
  std::string peer_ip_;
  std::string peer_address_;  // "ip:port", only with an access log
  const std::string& listener_name_;
  State state_ = State::kIdle;
  bool readable_ = false;
  bool eof_ = false;
  bool linger_ = true;            // when closing: drain the client's bytes before the final close
  bool peer_hung_up_ = false;     // EPOLLRDHUP seen: read until EOF
  uint64_t head_started_us_ = 0;  // when the head being read began to arrive (monotonic)
  core::Buffer in_;
  core::Buffer out_;
  core::Timer timer_;  // idle or head timeout, depending on state_
  std::unique_ptr<Exchange> exchange_;
};

}  // namespace turnout::proxy
