#include "dns/resolver.h"

#include <ares.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>

namespace turnout::dns {

using Clock = std::chrono::steady_clock;

struct Resolver::Entry {
  Resolution result;
  Clock::time_point next_query{};
  bool in_flight = false;
};

// The c-ares channel, created and used on the resolver thread only (after start()).
class Resolver::Channel {
 public:
  ~Channel() {
    if (channel_ != nullptr) ares_destroy(channel_);
  }

  bool init(const ResolverOptions& options, std::string& error) {
    static const int library = ares_library_init(ARES_LIB_INIT_ALL);
    if (library != ARES_SUCCESS) {
      error = std::string("c-ares: ") + ares_strerror(library);
      return false;
    }
    ares_options opts{};
    opts.timeout = static_cast<int>(options.query_timeout_ms);
    opts.tries = 2;
    int status = ares_init_options(&channel_, &opts, ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES);
    if (status == ARES_SUCCESS && !options.servers.empty()) {
      std::string csv;
      for (const std::string& server : options.servers) csv += (csv.empty() ? "" : ",") + server;
      status = ares_set_servers_ports_csv(channel_, csv.c_str());
    }
    if (status != ARES_SUCCESS) error = std::string("c-ares: ") + ares_strerror(status);
    return status == ARES_SUCCESS;
  }

  ares_channel get() const { return channel_; }

 private:
  ares_channel channel_ = nullptr;
};

namespace {

struct Query {
  Resolver* resolver;
  std::string name;
};

std::string addressText(const sockaddr* addr) {
  char text[INET6_ADDRSTRLEN] = {};
  if (addr->sa_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(addr)->sin_addr, text, sizeof text);
  } else if (addr->sa_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(addr)->sin6_addr, text, sizeof text);
  }
  return text;
}

}  // namespace

Resolver::Resolver(ResolverOptions options)
    : options_(std::move(options)), channel_(std::make_unique<Channel>()) {}

Resolver::~Resolver() {
  stop();
  channel_.reset();  // cancels what is in flight: callbacks run with ARES_EDESTRUCTION
  for (int fd : wake_) {
    if (fd >= 0) ::close(fd);
  }
}

void Resolver::stop() {
  if (thread_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    char byte = 1;
    [[maybe_unused]] ssize_t n = ::write(wake_[1], &byte, 1);
    thread_.join();
  }
}

bool Resolver::start(std::string& error) {
  if (!channel_->init(options_, error)) return false;
  if (::pipe2(wake_, O_NONBLOCK | O_CLOEXEC) != 0) {
    error = "cannot create the resolver's wake pipe";
    return false;
  }
  thread_ = std::thread([this] { run(); });
  return true;
}

void Resolver::setOnChange(std::function<void(const std::vector<std::string>&)> on_change) {
  std::lock_guard<std::mutex> lock(mutex_);
  on_change_ = std::move(on_change);
}

void Resolver::track(const std::set<std::string>& names, std::chrono::milliseconds wait) {
  watch(names, true, wait);
}

void Resolver::add(const std::set<std::string>& names, std::chrono::milliseconds wait) {
  watch(names, false, wait);
}

void Resolver::watch(const std::set<std::string>& names, bool forget_others,
                     std::chrono::milliseconds wait) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (forget_others) {
    std::erase_if(entries_, [&](const auto& item) { return names.count(item.first) == 0; });
  }
  std::vector<std::string> fresh;
  for (const std::string& name : names) {
    if (entries_.try_emplace(name).second) fresh.push_back(name);
  }
  if (fresh.empty()) return;
  char byte = 1;
  [[maybe_unused]] ssize_t n = ::write(wake_[1], &byte, 1);
  answered_.wait_for(lock, wait, [&] {
    return std::all_of(fresh.begin(), fresh.end(), [&](const std::string& name) {
      auto it = entries_.find(name);
      return it == entries_.end() || it->second.result.answered;
    });
  });
}

Resolution Resolver::lookup(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = entries_.find(name);
  return it == entries_.end() ? Resolution{} : it->second.result;
}

void Resolver::run() {
  for (;;) {
    std::vector<std::string> report;
    std::function<void(const std::vector<std::string>&)> notify;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_) return;
      report.swap(changed_);
      notify = on_change_;
    }
    if (!report.empty() && notify) notify(report);
    const Clock::time_point now = Clock::now();
    startDueQueries(now);

    ares_socket_t sockets[ARES_GETSOCK_MAXNUM];
    const int mask = ares_getsock(channel_->get(), sockets, ARES_GETSOCK_MAXNUM);
    std::vector<pollfd> fds{{wake_[0], POLLIN, 0}};
    for (int i = 0; i < ARES_GETSOCK_MAXNUM; ++i) {
      short events = 0;
      if (ARES_GETSOCK_READABLE(mask, i)) events |= POLLIN;
      if (ARES_GETSOCK_WRITABLE(mask, i)) events |= POLLOUT;
      if (events != 0) fds.push_back({sockets[i], events, 0});
    }
    ::poll(fds.data(), fds.size(), pollTimeoutMs(now));
    if (fds[0].revents & POLLIN) {
      char drain[64];
      while (::read(wake_[0], drain, sizeof drain) > 0) {
      }
    }
    bool any_ready = false;
    for (size_t i = 1; i < fds.size(); ++i) {
      if (fds[i].revents == 0) continue;
      any_ready = true;
      const bool readable = (fds[i].revents & (POLLIN | POLLERR | POLLHUP)) != 0;
      const bool writable = (fds[i].revents & POLLOUT) != 0;
      ares_process_fd(channel_->get(), readable ? fds[i].fd : ARES_SOCKET_BAD,
                      writable ? fds[i].fd : ARES_SOCKET_BAD);
    }
    // Lets c-ares time out and retry the queries nothing answered.
    if (!any_ready) ares_process_fd(channel_->get(), ARES_SOCKET_BAD, ARES_SOCKET_BAD);
  }
}

// Queries every tracked name whose answer is due. The queries start without the lock held: a
// c-ares callback may run at once (a hosts-file hit, a bad name) and takes the lock itself.
void Resolver::startDueQueries(Clock::time_point now) {
  std::vector<std::string> due;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [name, entry] : entries_) {
      if (entry.in_flight || entry.next_query > now) continue;
      entry.in_flight = true;
      due.push_back(name);
    }
  }
  for (const std::string& name : due) {
    ares_addrinfo_hints hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_flags = ARES_AI_NOSORT;
    auto* query = new Query{this, name};
    ares_getaddrinfo(
        channel_->get(), name.c_str(), nullptr, &hints,
        [](void* arg, int status, int, ares_addrinfo* info) {
          std::unique_ptr<Query> query(static_cast<Query*>(arg));
          if (status == ARES_EDESTRUCTION) return;  // the resolver is going away
          Resolution result;
          uint32_t ttl = UINT32_MAX;
          if (status == ARES_SUCCESS && info != nullptr) {
            for (ares_addrinfo_node* node = info->nodes; node != nullptr; node = node->ai_next) {
              std::string text = addressText(node->ai_addr);
              if (!text.empty()) result.addresses.push_back(std::move(text));
              ttl = std::min(ttl, static_cast<uint32_t>(std::max(node->ai_ttl, 0)));
            }
          }
          if (result.addresses.empty()) {
            result.error = status == ARES_SUCCESS ? "no address" : ares_strerror(status);
          }
          if (info != nullptr) ares_freeaddrinfo(info);
          std::sort(result.addresses.begin(), result.addresses.end());
          result.addresses.erase(std::unique(result.addresses.begin(), result.addresses.end()),
                                 result.addresses.end());
          query->resolver->finish(query->name, std::move(result), ttl);
        },
        query);
  }
}

// Records an answer. A failure keeps the addresses known before (serving the last good answer
// beats failing every request while a DNS server hiccups) and is retried sooner.
void Resolver::finish(const std::string& name, Resolution result, uint32_t ttl_s) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = entries_.find(name);
  if (it == entries_.end()) return;  // no longer tracked
  Entry& entry = it->second;
  const bool failed = result.addresses.empty();
  const uint32_t wait_s =
      failed ? options_.retry_s : std::clamp(ttl_s, options_.min_ttl_s, options_.max_ttl_s);
  entry.in_flight = false;
  entry.next_query = Clock::now() + std::chrono::seconds(wait_s);
  Resolution& known = entry.result;
  if (failed && !known.addresses.empty()) {
    known.error = result.error;
    return;
  }
  result.answered = true;
  const bool changed = known.answered && (known.addresses != result.addresses ||
                                          (failed && known.error != result.error));
  known = std::move(result);
  if (changed) changed_.push_back(name);
  answered_.notify_all();
}

int Resolver::pollTimeoutMs(Clock::time_point now) const {
  Clock::time_point next = now + std::chrono::seconds(options_.max_ttl_s);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!changed_.empty()) return 0;
    for (const auto& [name, entry] : entries_) {
      if (!entry.in_flight) next = std::min(next, entry.next_query);
    }
  }
  timeval max{};
  max.tv_sec =
      static_cast<time_t>(std::chrono::duration_cast<std::chrono::seconds>(next - now).count() + 1);
  timeval out{};
  timeval* wait = ares_timeout(channel_->get(), &max, &out);
  int ms = static_cast<int>(wait->tv_sec * 1000 + wait->tv_usec / 1000);
  auto until_next = std::chrono::duration_cast<std::chrono::milliseconds>(next - now).count();
  return std::clamp<int>(std::min<int64_t>(ms, until_next), 0, 60000);
}

}  // namespace turnout::dns
