// The admin listener serves connections side by side, at most kMaxConnections at a time, and
// stops promptly even while clients sit idle on it.
#include "admin/admin_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

namespace turnout::admin {
namespace {

using Clock = std::chrono::steady_clock;

int connectTo(const std::string& address) {
  const size_t colon = address.rfind(':');
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::stoi(address.substr(colon + 1))));
  ::inet_pton(AF_INET, address.substr(0, colon).c_str(), &addr.sin_addr);
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// The answer's status line, or "" when nothing arrived within `wait`.
std::string statusLine(int fd, std::chrono::milliseconds wait) {
  std::string got;
  const auto deadline = Clock::now() + wait;
  while (got.find("\r\n") == std::string::npos) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    pollfd p{fd, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) return "";
    char chunk[512];
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n <= 0) return "";
    got.append(chunk, static_cast<size_t>(n));
  }
  return got.substr(0, got.find("\r\n"));
}

std::string get(const std::string& address, std::chrono::milliseconds wait) {
  const int fd = connectTo(address);
  const std::string request = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  if (fd < 0 ||
      ::write(fd, request.data(), request.size()) != static_cast<ssize_t>(request.size())) {
    if (fd >= 0) ::close(fd);
    return "";
  }
  std::string line = statusLine(fd, wait);
  ::close(fd);
  return line;
}

class AdminServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    ASSERT_TRUE(server_.bind("127.0.0.1:0", error)) << error;
    server_.start([](const AdminRequest&) {
      AdminResponse ok;
      ok.body = "{}";
      return ok;
    });
  }
  void TearDown() override {
    server_.stop();
    for (int fd : idle_) ::close(fd);
  }
  void openIdle(size_t n) {
    for (size_t i = 0; i < n; ++i) {
      const int fd = connectTo(server_.boundAddress());
      ASSERT_GE(fd, 0);
      idle_.push_back(fd);
    }
  }

  AdminServer server_;
  std::vector<int> idle_;
};

TEST_F(AdminServerTest, AnIdleConnectionDoesNotHoldUpAnother) {
  openIdle(1);
  EXPECT_EQ(get(server_.boundAddress(), std::chrono::milliseconds(1000)), "HTTP/1.1 200 OK");
}

TEST_F(AdminServerTest, AcceptingWaitsWhileEveryConnectionSlotIsTaken) {
  openIdle(AdminServer::kMaxConnections);
  const int waiting = connectTo(server_.boundAddress());  // the kernel's backlog takes it
  ASSERT_GE(waiting, 0);
  const std::string request = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_EQ(::write(waiting, request.data(), request.size()), static_cast<ssize_t>(request.size()));
  EXPECT_EQ(statusLine(waiting, std::chrono::milliseconds(300)), "");
  ::close(idle_.back());  // frees a slot
  idle_.pop_back();
  EXPECT_EQ(statusLine(waiting, std::chrono::milliseconds(1000)), "HTTP/1.1 200 OK");
  ::close(waiting);
}

TEST_F(AdminServerTest, StopIsPromptWithIdleClients) {
  openIdle(3);
  ASSERT_EQ(get(server_.boundAddress(), std::chrono::milliseconds(1000)), "HTTP/1.1 200 OK");
  const auto started = Clock::now();
  server_.stop();
  EXPECT_LT(Clock::now() - started, std::chrono::milliseconds(1000));
}

}  // namespace
}  // namespace turnout::admin
