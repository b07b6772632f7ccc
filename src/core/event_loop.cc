#include "core/event_loop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace turnout::core {
namespace {

constexpr int kMaxEventsPerWake = 256;

// The wake eventfd's handler: drains the counter; posted tasks run after the batch.
class WakeHandler final : public IoHandler {
 public:
  explicit WakeHandler(int fd) : fd_(fd) {}
  void onIoEvents(uint32_t) override {
    uint64_t count;
    while (::read(fd_, &count, sizeof count) > 0) {
    }
  }

 private:
  int fd_;
};

}  // namespace

EventLoop::EventLoop() {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll_fd_ < 0 || wake_fd_ < 0) {
    throw std::runtime_error(std::string("event loop: ") + std::strerror(errno));
  }
}

EventLoop::~EventLoop() {
  ::close(wake_fd_);
  ::close(epoll_fd_);
}

void EventLoop::add(int fd, IoHandler* handler) {
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.ptr = handler;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    throw std::runtime_error(std::string("epoll_ctl: ") + std::strerror(errno));
  }
}

void EventLoop::remove(int fd) { ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr); }

void EventLoop::post(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(posted_mutex_);
    posted_.push_back(std::move(task));
  }
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof one);
}

void EventLoop::stop() {
  post([this] { stopping_ = true; });
}

void EventLoop::runPosted() {
  std::vector<std::function<void()>> tasks;
  {
    std::lock_guard<std::mutex> lock(posted_mutex_);
    tasks.swap(posted_);
  }
  for (auto& task : tasks) task();
}

void EventLoop::runDeferred() {
  // Tasks may defer more tasks; bounded by what they queue.
  while (!deferred_.empty()) {
    std::vector<std::function<void()>> tasks;
    tasks.swap(deferred_);
    for (auto& task : tasks) task();
  }
}

void EventLoop::run() {
  WakeHandler wake(wake_fd_);
  add(wake_fd_, &wake);
  epoll_event events[kMaxEventsPerWake];
  int timeout = timers_.advance();
  while (!stopping_) {
    int n = ::epoll_wait(epoll_fd_, events, kMaxEventsPerWake, timeout);
    if (n < 0 && errno != EINTR) throw std::runtime_error("epoll_wait failed");
    timers_.updateNow();
    for (int i = 0; i < n; ++i) {
      static_cast<IoHandler*>(events[i].data.ptr)->onIoEvents(events[i].events);
    }
    runDeferred();
    runPosted();
    runDeferred();
    timeout = timers_.advance();
    runDeferred();
  }
  remove(wake_fd_);
}

}  // namespace turnout::core
