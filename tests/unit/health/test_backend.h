// A loopback HTTP backend for the health tests, switchable at run time between answering 200,
// answering 503, hanging (reads the request, never answers), resetting (RST after the request)
// and refusing (its listener closed). One thread; every socket has a timeout.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace turnout::health::testing {

class TestBackend {
 public:
  enum class Mode { kOk, kUnavailable, kHang, kReset };

  TestBackend() {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(listen_fd_, 64);
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }

  ~TestBackend() {
    stopping_ = true;
    thread_.join();
    closeListener();
    for (int fd : held_) ::close(fd);
  }

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  void setMode(Mode mode) { mode_ = mode; }
  // Refusing: the listener goes away (connects get RST). Cannot be undone.
  void refuse() {
    std::lock_guard lock(mutex_);
    closeListener();
  }
  int requests() const { return requests_; }
  std::string lastRequest() const {
    std::lock_guard lock(mutex_);
    return last_request_;
  }

 private:
  void closeListener() {
    if (listen_fd_ >= 0) ::close(listen_fd_);
    listen_fd_ = -1;
  }

  void serve() {
    while (!stopping_) {
      int fd = -1;
      {
        std::lock_guard lock(mutex_);
        if (listen_fd_ >= 0) {
          pollfd p{listen_fd_, POLLIN, 0};
          if (::poll(&p, 1, 0) == 1) fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        }
      }
      if (fd < 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        continue;
      }
      handle(fd);
    }
  }

  void handle(int fd) {
    timeval timeout{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    std::string request;
    char buf[2048];
    while (request.find("\r\n\r\n") == std::string::npos) {
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n <= 0) break;
      request.append(buf, static_cast<size_t>(n));
    }
    {
      std::lock_guard lock(mutex_);
      last_request_ = request;
    }
    ++requests_;
    switch (mode_.load()) {
      case Mode::kOk:
        return answer(fd, "200 OK");
      case Mode::kUnavailable:
        return answer(fd, "503 Service Unavailable");
      case Mode::kHang:
        held_.push_back(fd);  // never answered, closed at the end
        return;
      case Mode::kReset: {
        linger hard{1, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
        ::close(fd);
        return;
      }
    }
  }

  static void answer(int fd, const std::string& status) {
    const std::string response =
        "HTTP/1.1 " + status + "\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
    [[maybe_unused]] ssize_t n = ::write(fd, response.data(), response.size());
    ::close(fd);
  }

  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<Mode> mode_{Mode::kOk};
  std::atomic<bool> stopping_{false};
  std::atomic<int> requests_{0};
  mutable std::mutex mutex_;
  std::string last_request_;
  std::vector<int> held_;
  std::thread thread_;
};

// A loopback port nothing listens on.
inline std::string closedAddress() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
}

}  // namespace turnout::health::testing
