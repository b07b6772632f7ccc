// A scripted HTTP server on 127.0.0.1 for the ctl client tests: each connection gets one
// request read and one answer from `reply`, then is closed (as the admin API does).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace turnout::ctl::fake {

class FakeAdmin {
 public:
  using Reply = std::function<std::string(const std::string& request)>;

  explicit FakeAdmin(Reply reply) : reply_(std::move(reply)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(fd_, 16);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }

  ~FakeAdmin() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  std::vector<std::string> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }

  // "HTTP/1.1 STATUS X\r\nContent-Length: N\r\nConnection: close\r\n\r\nBODY"
  static std::string answer(int status, const std::string& body,
                            const std::string& extra_headers = "") {
    return "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: application/json\r\n" +
           extra_headers + "Content-Length: " + std::to_string(body.size()) +
           "\r\nConnection: close\r\n\r\n" + body;
  }

 private:
  void serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      int conn = ::accept(fd_, nullptr, nullptr);
      if (conn < 0) continue;
      std::string request = readRequest(conn);
      {
        std::lock_guard lock(mu_);
        requests_.push_back(request);
      }
      std::string out = reply_(request);
      ::send(conn, out.data(), out.size(), MSG_NOSIGNAL);
      ::close(conn);
    }
  }

  static std::string readRequest(int conn) {
    std::string data;
    char buf[4096];
    for (;;) {
      size_t head = data.find("\r\n\r\n");
      if (head != std::string::npos) {
        size_t cl = data.find("Content-Length: ");
        size_t length = cl == std::string::npos || cl > head ? 0 : std::stoul(data.substr(cl + 16));
        if (data.size() >= head + 4 + length) return data;
      }
      pollfd p{conn, POLLIN, 0};
      if (::poll(&p, 1, 2000) <= 0) return data;
      ssize_t n = ::recv(conn, buf, sizeof buf, 0);
      if (n <= 0) return data;
      data.append(buf, static_cast<size_t>(n));
    }
  }

  Reply reply_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<std::string> requests_;
  std::thread thread_;
};

}  // namespace turnout::ctl::fake
