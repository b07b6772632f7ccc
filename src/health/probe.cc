#include "health/probe.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/net.h"
#include "http/h1_parser.h"

namespace turnout::health {
namespace {

constexpr size_t kReadChunk = 4096;

std::string errorText(const char* what, int error) {
  return std::string(what) + ": " + std::strerror(error);
}

bool expected(const std::vector<std::pair<uint16_t, uint16_t>>& ranges, int status) {
  for (const auto& [low, high] : ranges) {
    if (status >= low && status <= high) return true;
  }
  return false;
}

}  // namespace

std::string healthRequest(const std::string& path, const std::string& host) {
  std::string request;
  request.reserve(path.size() + host.size() + 96);
  request.append("GET ").append(path.empty() ? "/" : path).append(" HTTP/1.1\r\nHost: ");
  request.append(host).append("\r\nUser-Agent: turnout-health-check\r\nAccept: */*\r\n");
  request.append("Connection: close\r\n\r\n");
  return request;
}

Probe::Probe(core::EventLoop& loop, ProbeSpec spec, Done done)
    : loop_(loop),
      spec_(std::move(spec)),
      done_(std::move(done)),
      timeout_([this] { onTimeout(); }) {}

Probe::~Probe() {
  timeout_.cancel();
  closeConnection();
}

void Probe::run() {
  closeConnection();  // a previous check still draining
  sent_ = 0;
  fd_ = core::connectNonBlocking(spec_.address, spec_.address_len);
  if (fd_ < 0) return conclude(false, errorText("connect", errno));
  phase_ = Phase::kConnecting;
  loop_.add(fd_, this);
  timeout_.arm(loop_.timers(), spec_.timeout_ms);
}

void Probe::onIoEvents(uint32_t events) {
  switch (phase_) {
    case Phase::kConnecting:
      if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) == 0) return;
      return onConnected();
    case Phase::kAwaiting:
      if ((events & EPOLLOUT) != 0 && sent_ < spec_.request.size() && !flushRequest()) return;
      if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) readResponse();
      return;
    case Phase::kDraining:
      return drain();
    case Phase::kIdle:
      return;
  }
}

void Probe::onConnected() {
  int error = 0;
  socklen_t len = sizeof error;
  if (::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &len) != 0) error = errno;
  if (error != 0) return conclude(false, errorText("connect", error));
  if (!spec_.http) return conclude(true, "");  // the connect was the whole check
  phase_ = Phase::kAwaiting;
  flushRequest();
}

// Writes what is left of the request; false after concluding when the socket broke.
bool Probe::flushRequest() {
  while (sent_ < spec_.request.size()) {
    const ssize_t n = ::write(fd_, spec_.request.data() + sent_, spec_.request.size() - sent_);
    if (n > 0) {
      sent_ += static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return true;  // the rest goes on the next EPOLLOUT
    } else {
      conclude(false, errorText("send", n < 0 ? errno : EPIPE));
      return false;
    }
  }
  return true;
}

bool Probe::readAvailable(int* error) {
  char chunk[kReadChunk];
  while (true) {
    const ssize_t n = ::read(fd_, chunk, sizeof chunk);
    if (n > 0) {
      if (phase_ != Phase::kAwaiting) continue;  // draining: the verdict is given
      in_.append(chunk, static_cast<size_t>(n));
      if (in_.size() > http::Limits{}.max_head_bytes) return true;  // the parser refuses it
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    *error = n == 0 ? 0 : errno;
    return false;
  }
}

void Probe::readResponse() {
  int error = 0;
  const bool open = readAvailable(&error);
  if (!in_.empty()) judgeHead();
  if (phase_ == Phase::kDraining) return open ? drain() : closeConnection();
  if (phase_ != Phase::kAwaiting || open) return;
  conclude(false, error != 0 ? errorText("read", error) : "closed before answering");
}

// Concludes once the status line and headers are in; waits for more bytes otherwise.
void Probe::judgeHead() {
  http::ResponseHead head;
  http::ParseError parse_error;
  const auto status = http::parseResponseHead(in_, http::Limits{}, "GET", head, parse_error);
  if (status == http::ParseStatus::kIncomplete) return;
  if (status == http::ParseStatus::kError) {
    return conclude(false, std::string("invalid response: ") + parse_error.reason);
  }
  const bool success = expected(spec_.expected_statuses, head.status);
  conclude(success, success ? "" : "status " + std::to_string(head.status), /*answered=*/true);
}

void Probe::drain() {
  int error = 0;
  if (!readAvailable(&error)) closeConnection();
}

// Reports the verdict once. After an HTTP answer the connection stays open to be read to its
// end, so the backend closes first (bounded by the timeout again); anything else closes now.
void Probe::conclude(bool success, const std::string& why, bool answered) {
  timeout_.cancel();
  std::string().swap(in_);  // 10,000 idle probes keep no buffer
  if (answered && fd_ >= 0) {
    phase_ = Phase::kDraining;
    timeout_.arm(loop_.timers(), spec_.timeout_ms);
  } else {
    closeConnection();
  }
  done_(success, why);
}

void Probe::onTimeout() {
  if (phase_ == Phase::kDraining) return closeConnection();
  conclude(false, "timed out after " + std::to_string(spec_.timeout_ms) + " ms");
}

void Probe::closeConnection() {
  if (fd_ >= 0) {
    ::close(fd_);  // which also takes it out of the loop's epoll set
    fd_ = -1;
  }
  phase_ = Phase::kIdle;
  timeout_.cancel();
}

}  // namespace turnout::health
