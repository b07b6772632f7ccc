// The admin listener: a small HTTP/1.1 server on its own thread, away from the workers.
// Admin traffic is rare and small, so each connection is served in turn with blocking I/O
// and a deadline; the data plane never waits for it.
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <functional>
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
  AdminServer() = default;
  ~AdminServer();

  // Binds `address` ("127.0.0.1:9901", port 0 picks one). False with `error` set.
  bool bind(const std::string& address, std::string& error);
  std::string boundAddress() const { return bound_; }
  void start(AdminHandler handler);
  void stop();

 private:
  void serve();
  void handleConnection(int fd);

  int listen_fd_ = -1;
  int wake_pipe_[2] = {-1, -1};
  std::string bound_;
  AdminHandler handler_;
  std::thread thread_;
};

}  // namespace turnout::admin
