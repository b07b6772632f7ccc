#include "admin/admin_server.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "core/net.h"
#include "http/h1_parser.h"
#include "proxy/error_page.h"

namespace turnout::admin {
namespace {

constexpr int kIoTimeoutMs = 5000;
constexpr size_t kMaxBodyBytes = 8 * 1024 * 1024;

bool readSome(int fd, std::string& buffer, std::chrono::steady_clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0) return false;
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
  char chunk[16384];
  ssize_t n = ::read(fd, chunk, sizeof chunk);
  if (n <= 0) return false;
  buffer.append(chunk, static_cast<size_t>(n));
  return true;
}

void writeAll(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n > 0) {
      off += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      pollfd p{fd, POLLOUT, 0};
      if (::poll(&p, 1, kIoTimeoutMs) <= 0) return;
      continue;
    }
    return;
  }
}

// A HEAD answer has the GET answer's head, Content-Length included, and no body (RFC 9110
// §9.3.2).
std::string renderResponse(const AdminResponse& response, bool head_only = false) {
  std::string out = "HTTP/1.1 " + std::to_string(response.status) + " " +
                    std::string(proxy::reasonPhrase(response.status)) + "\r\n";
  out += "Content-Type: " + response.content_type + "\r\n";
  out += "Content-Length: " + std::to_string(response.body.size()) + "\r\n";
  for (const auto& [name, value] : response.headers) out += name + ": " + value + "\r\n";
  out += "Connection: close\r\n\r\n";
  if (!head_only) out += response.body;
  return out;
}

AdminResponse errorResponse(int status, std::string_view message) {
  AdminResponse response;
  response.status = status;
  response.body = "{\"error\":{\"code\":" + std::to_string(status) + ",\"message\":\"" +
                  std::string(message) + "\",\"field\":\"\"}}\n";
  return response;
}

}  // namespace

std::string AdminRequest::header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (http::equalsIgnoreCase(n, name)) return v;
  }
  return {};
}

AdminServer::~AdminServer() { stop(); }

bool AdminServer::bind(const std::string& address, std::string& error) {
  sockaddr_storage addr{};
  socklen_t len = 0;
  if (!core::resolveListenAddress(address, addr, len, error)) {
    error = address + ": " + error;
    return false;
  }
  int fd = ::socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(fd, 64) != 0) {
    error = address + ": " + std::strerror(errno);
    ::close(fd);
    return false;
  }
  listen_fd_ = fd;
  bound_ = core::localAddress(fd);
  return true;
}

void AdminServer::start(AdminHandler handler) {
  handler_ = std::move(handler);
  if (::pipe2(wake_pipe_, O_CLOEXEC) != 0) return;
  acceptor_ = std::thread([this] { serve(); });
}

void AdminServer::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    // An idle client would otherwise hold its thread until the I/O deadline.
    for (int fd : serving_) ::shutdown(fd, SHUT_RD);
  }
  work_ready_.notify_all();
  slot_freed_.notify_all();
  if (acceptor_.joinable()) {
    char b = 1;
    [[maybe_unused]] ssize_t n = ::write(wake_pipe_[1], &b, 1);
    acceptor_.join();
  }
  // The acceptor is gone: no thread is added while these are joined.
  for (std::thread& thread : connection_threads_) thread.join();
  connection_threads_.clear();
  for (int* fd : {&listen_fd_, &wake_pipe_[0], &wake_pipe_[1]}) {
    if (*fd >= 0) ::close(*fd);
    *fd = -1;
  }
}

void AdminServer::serve() {
  while (waitForFreeSlot()) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_pipe_[0], POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents) return;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd >= 0) hand(fd);
  }
}

bool AdminServer::waitForFreeSlot() {
  std::unique_lock<std::mutex> lock(mutex_);
  slot_freed_.wait(lock, [this] { return stopping_ || in_flight_ < kMaxConnections; });
  return !stopping_;
}

void AdminServer::hand(int fd) {
  std::lock_guard<std::mutex> lock(mutex_);
  accepted_.push_back(fd);
  ++in_flight_;
  // A thread per connection in flight, kept for the next ones: there is always one to take it.
  if (connection_threads_.size() < in_flight_) {
    connection_threads_.emplace_back([this] { connectionLoop(); });
  }
  work_ready_.notify_one();
}

void AdminServer::connectionLoop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    work_ready_.wait(lock, [this] { return stopping_ || !accepted_.empty(); });
    if (accepted_.empty()) return;  // stopping
    const int fd = accepted_.front();
    accepted_.pop_front();
    if (!stopping_) {
      serving_.insert(fd);
      lock.unlock();
      handleConnection(fd);
      lock.lock();
      serving_.erase(fd);
    }
    // Closed under the lock, so stop() never shuts down a number the kernel gave out again.
    ::close(fd);
    --in_flight_;
    slot_freed_.notify_one();
  }
}

void AdminServer::handleConnection(int fd) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kIoTimeoutMs);
  std::string buffer;
  http::RequestHead head;
  http::ParseError error;
  http::Limits limits;
  while (true) {
    auto status = http::parseRequestHead(buffer, limits, head, error);
    if (status == http::ParseStatus::kError) {
      return writeAll(fd, renderResponse(errorResponse(error.status, error.reason)));
    }
    if (status == http::ParseStatus::kComplete) break;
    if (!readSome(fd, buffer, deadline)) return;
  }
  AdminRequest request;
  request.method.assign(head.method);
  request.path.assign(head.path);
  request.query.assign(head.query);
  for (const auto& h : head.headers) request.headers.emplace_back(h.name, h.value);
  if (head.framing == http::BodyFraming::kChunked) {
    return writeAll(fd, renderResponse(errorResponse(411, "send the body with Content-Length")));
  }
  if (head.content_length > kMaxBodyBytes) {
    return writeAll(fd, renderResponse(errorResponse(413, "the body is over 8 MiB")));
  }
  const size_t head_bytes = head.head_bytes;
  const size_t want = head_bytes + head.content_length;
  if (head.expect_continue && buffer.size() < want) writeAll(fd, "HTTP/1.1 100 Continue\r\n\r\n");
  while (buffer.size() < want) {
    if (!readSome(fd, buffer, deadline)) return;
  }
  request.body = buffer.substr(head_bytes, head.content_length);
  writeAll(fd, renderResponse(handler_(request), request.method == "HEAD"));
}

}  // namespace turnout::admin
