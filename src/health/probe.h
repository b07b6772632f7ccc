// One active check's network work on the health thread's event loop: a non-blocking TCP
// connect, and for HTTP a GET whose status line decides. Private to the health module.
//
// HTTP checks send `Connection: close` and open a connection per check, as HAProxy does,
// rather than keeping one alive per endpoint as Envoy does by default. The CPU cost, measured
// (bench/health, bench/RESULTS.md section 6): 10,000 endpoints every 2 s = 5,000 checks/s take
// 25 % of one core, 50 us a check, 95 % of it in the kernel; about 70 % of the samples are in
// connect, close and socket, so keep-alive would cost roughly a third (on loopback the backend's
// side of the handshake is charged to us too; less on a real network). Connection: close is
// kept because keep-alive would hold an idle connection per endpoint on both sides for the
// life of the process (10,000 fds here and 10,000 connections on the backends, a thread or a
// worker each on thread-per-connection servers) and would need a retry rule for connections the
// backend closed between checks, which otherwise read as false failures. The backend closes
// first (after its answer), so TIME_WAIT stays on its side; the probe reads to the end.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "core/event_loop.h"
#include "core/timer.h"

namespace turnout::health {

struct ProbeSpec {
  sockaddr_storage address{};
  socklen_t address_len = 0;
  bool http = false;    // false: a TCP connect is the whole check
  std::string request;  // http: the request bytes
  std::vector<std::pair<uint16_t, uint16_t>> expected_statuses;  // http: inclusive ranges
  uint32_t timeout_ms = 1000;  // from the connect to the status line (or the connect, for tcp)
};

// "GET /healthz HTTP/1.1" with Host and Connection: close.
std::string healthRequest(const std::string& path, const std::string& host);

class Probe final : public core::IoHandler {
 public:
  // `done(success, why)` is called once per run(), on the loop's thread; `why` says what
  // failed ("" on success). It may be called from within run() (an immediate connect error).
  using Done = std::function<void(bool success, const std::string& why)>;

  Probe(core::EventLoop& loop, ProbeSpec spec, Done done);
  ~Probe() override;
  Probe(const Probe&) = delete;
  Probe& operator=(const Probe&) = delete;

  // Starts one check. A connection still draining from the previous check is closed first.
  void run();
  bool running() const { return phase_ == Phase::kConnecting || phase_ == Phase::kAwaiting; }

  void onIoEvents(uint32_t events) override;

 private:
  enum class Phase : uint8_t {
    kIdle,        // no connection
    kConnecting,  // connect in progress
    kAwaiting,    // request sent (or being sent): waiting for the status line
    kDraining,    // verdict given: reading to the backend's close so it closes first
  };

  void onConnected();
  bool flushRequest();
  void readResponse();
  void drain();
  // Reads what the socket has into in_; false on EOF or error (with *error set, 0 on EOF).
  bool readAvailable(int* error);
  void judgeHead();
  void conclude(bool success, const std::string& why, bool answered = false);
  void onTimeout();
  void closeConnection();

  core::EventLoop& loop_;
  ProbeSpec spec_;
  Done done_;
  int fd_ = -1;
  Phase phase_ = Phase::kIdle;
  size_t sent_ = 0;  // request bytes written
  std::string in_;   // response bytes until the head is judged
  core::Timer timeout_;
};

}  // namespace turnout::health
