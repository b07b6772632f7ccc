// The admin listener: a small HTTP/1.1 server on its own threads, away from the workers.
// Admin traffic is small, so each connection gets a thread with blocking I/O, one request and
// a deadline; the data plane never waits for it. Connections are served side by side (a
// browser's idle preconnect must not hold up the API), at most kMaxConnections at a time:
// beyond that, accepting waits.
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace turnout::admin {

struct AdminRequest {
  std::string method;
  std::string path;
  std::string query;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string header(std::string_view name) const;  // "" when absent
};

struct AdminResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

using AdminHandler = std::function<AdminResponse(const AdminRequest&)>;

class AdminServer {
 public:
  static constexpr size_t kMaxConnections = 16;

  AdminServer() = default;
  ~AdminServer();

  // Binds `address` ("127.0.0.1:9901", port 0 picks one). False with `error` set.
  bool bind(const std::string& address, std::string& error);
  std::string boundAddress() const { return bound_; }
  // `handler` is called from several threads at once.
  void start(AdminHandler handler);
  // Stops accepting, cuts the reads of open connections short (an answer being written still
  // leaves) and joins every thread.
  void stop();

 private:
  void serve();
  bool waitForFreeSlot();  // false once stopping
  void hand(int fd);       // to a connection thread, starting one if none is free
  void connectionLoop();
  void handleConnection(int fd);

  int listen_fd_ = -1;
  int wake_pipe_[2] = {-1, -1};
  std::string bound_;
  AdminHandler handler_;
  std::thread acceptor_;

  std::mutex mutex_;  // guards what follows
  std::condition_variable work_ready_;
  std::condition_variable slot_freed_;
  std::deque<int> accepted_;  // handed over, not yet taken by a connection thread
  std::set<int> serving_;     // taken; stop() shuts their reads down
  size_t in_flight_ = 0;      // accepted_ + serving_: at most kMaxConnections
  bool stopping_ = false;
  std::vector<std::thread> connection_threads_;  // never more than in_flight_ has been
};

}  // namespace turnout::admin
