// The resolver against a real DNS server: dnsmasq on a loopback high port, answering from a
// hosts file the test rewrites (SIGHUP makes dnsmasq reload it), with a 1 s TTL.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "dns/resolver.h"

namespace turnout::dns {
namespace {

using namespace std::chrono_literals;

int freeUdpPort() {
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

class Dnsmasq {
 public:
  static bool installed() { return ::access("/usr/sbin/dnsmasq", X_OK) == 0; }

  // dnsmasq binds UDP and TCP on its port; another process may hold the TCP one, so a few
  // ports are tried.
  bool start(const std::string& hosts) {
    for (int attempt = 0; attempt < 5; ++attempt) {
      if (startOnce(hosts)) return true;
      if (pid_ == -2) return false;  // not installed
    }
    return false;
  }

  bool startOnce(const std::string& hosts) {
    const char* binary = "/usr/sbin/dnsmasq";
    if (::access(binary, X_OK) != 0) {
      pid_ = -2;
      return false;
    }
    dir_ = std::filesystem::temp_directory_path() /
           ("turnout-dns-" + std::to_string(::getpid()) + "-" + std::to_string(++count_));
    std::filesystem::create_directories(dir_);
    writeHosts(hosts);
    port_ = freeUdpPort();
    const std::string port_arg = "--port=" + std::to_string(port_);
    const std::string hosts_arg = "--addn-hosts=" + (dir_ / "hosts").string();
    pid_ = ::fork();
    if (pid_ == 0) {
      ::execl(binary, binary, "--keep-in-foreground", "--no-resolv", "--no-hosts",
              "--bind-interfaces", "--listen-address=127.0.0.1", "--local-ttl=1", "--user=root",
              "--pid-file=", "--log-facility=/dev/null", port_arg.c_str(), hosts_arg.c_str(),
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    std::this_thread::sleep_for(300ms);  // dnsmasq binds at once; a bounded grace period
    if (pid_ > 0 && ::waitpid(pid_, nullptr, WNOHANG) == 0) return true;
    pid_ = -1;  // it exited (port taken): reaped above
    return false;
  }

  void writeHosts(const std::string& hosts) { std::ofstream(dir_ / "hosts") << hosts; }
  void reload() { ::kill(pid_, SIGHUP); }
  std::string server() const { return "127.0.0.1:" + std::to_string(port_); }

  ~Dnsmasq() {
    if (pid_ > 0) {  // -1: not running, -2: not installed
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

 private:
  static inline int count_ = 0;
  std::filesystem::path dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

ResolverOptions optionsFor(const Dnsmasq& dns) {
  ResolverOptions options;
  options.servers = {dns.server()};
  options.retry_s = 1;
  options.query_timeout_ms = 500;
  return options;
}

TEST(ResolverTest, ResolvesEveryAddressOfANameFromTheGivenServer) {
  Dnsmasq dns;
  if (!Dnsmasq::installed()) GTEST_SKIP() << "dnsmasq is not installed";
  ASSERT_TRUE(dns.start("127.0.0.11 multi.test\n127.0.0.12 multi.test\n::1 multi.test\n"));
  Resolver resolver(optionsFor(dns));
  std::string error;
  ASSERT_TRUE(resolver.start(error)) << error;
  resolver.track({"multi.test"}, 3s);
  Resolution got = resolver.lookup("multi.test");
  EXPECT_TRUE(got.answered);
  EXPECT_EQ(got.error, "");
  EXPECT_EQ(got.addresses, (std::vector<std::string>{"127.0.0.11", "127.0.0.12", "::1"}));
}

TEST(ResolverTest, AnUnknownNameIsAnsweredWithAnError) {
  Dnsmasq dns;
  if (!Dnsmasq::installed()) GTEST_SKIP() << "dnsmasq is not installed";
  ASSERT_TRUE(dns.start("127.0.0.11 known.test\n"));
  Resolver resolver(optionsFor(dns));
  std::string error;
  ASSERT_TRUE(resolver.start(error)) << error;
  resolver.track({"unknown.test"}, 3s);
  Resolution got = resolver.lookup("unknown.test");
  EXPECT_TRUE(got.answered);
  EXPECT_TRUE(got.addresses.empty());
  EXPECT_FALSE(got.error.empty());
  EXPECT_FALSE(resolver.lookup("never-tracked.test").answered);
}

TEST(ResolverTest, ReResolvesWhenTheTtlRunsOutAndReportsTheChange) {
  Dnsmasq dns;
  if (!Dnsmasq::installed()) GTEST_SKIP() << "dnsmasq is not installed";
  ASSERT_TRUE(dns.start("127.0.0.11 moving.test\n"));
  Resolver resolver(optionsFor(dns));
  std::atomic<int> changes{0};
  resolver.setOnChange([&](const std::vector<std::string>& names) {
    for (const auto& name : names) {
      if (name == "moving.test") ++changes;
    }
  });
  std::string error;
  ASSERT_TRUE(resolver.start(error)) << error;
  resolver.track({"moving.test"}, 3s);
  ASSERT_EQ(resolver.lookup("moving.test").addresses, std::vector<std::string>{"127.0.0.11"});
  dns.writeHosts("127.0.0.21 moving.test\n127.0.0.22 moving.test\n");
  dns.reload();
  const auto deadline = std::chrono::steady_clock::now() + 10s;  // TTL 1 s: well within
  while (changes.load() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_GE(changes.load(), 1);
  EXPECT_EQ(resolver.lookup("moving.test").addresses,
            (std::vector<std::string>{"127.0.0.21", "127.0.0.22"}));
}

TEST(ResolverTest, UntrackedNamesAreForgotten) {
  Dnsmasq dns;
  if (!Dnsmasq::installed()) GTEST_SKIP() << "dnsmasq is not installed";
  ASSERT_TRUE(dns.start("127.0.0.11 a.test\n127.0.0.12 b.test\n"));
  Resolver resolver(optionsFor(dns));
  std::string error;
  ASSERT_TRUE(resolver.start(error)) << error;
  resolver.track({"a.test", "b.test"}, 3s);
  resolver.track({"b.test"}, 3s);
  EXPECT_FALSE(resolver.lookup("a.test").answered);
  EXPECT_TRUE(resolver.lookup("b.test").answered);
}

TEST(ResolverTest, ABadServerAddressIsRefusedAtStart) {
  ResolverOptions options;
  options.servers = {"not an address"};
  Resolver resolver(options);
  std::string error;
  EXPECT_FALSE(resolver.start(error));
  EXPECT_NE(error.find("c-ares"), std::string::npos) << error;
}

}  // namespace
}  // namespace turnout::dns
