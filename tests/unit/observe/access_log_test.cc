// The access log: the line format (every field, escaping, selection), the options it refuses,
// sampling, and the writer's behaviour with slow, failing, rotated and concurrent use.
#include "observe/access_log.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "observe/access_log_format.h"
#include "observe/access_log_ring.h"

namespace turnout::observe {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;
using nlohmann::ordered_json;

// A fresh directory under the test temp dir, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string pattern = testing::TempDir() + "access_log_XXXXXX";
    if (::mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  bool ok() const { return !path_.empty(); }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::vector<std::string> readLines(const std::string& path) {
  std::vector<std::string> lines;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string readAll(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Polls `done` every few milliseconds for at most `limit`.
bool waitUntil(const std::function<bool()>& done,
               std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  const auto deadline = Clock::now() + limit;
  while (!done()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

AccessRecord fullRecord() {
  AccessRecord r;
  r.timestamp_ms = 1700000000123;
  r.request_id = "req-1";
  r.client = "10.0.0.7:51234";
  r.method = "GET";
  r.path = "/api/v1/items?q=1";
  r.host = "shop.example";
  r.status = 200;
  r.bytes_in = 321;
  r.bytes_out = 4567;
  r.duration_us = 12345;
  r.upstream_us = 2500;
  r.route = "shop-route";
  r.src = "gateway";
  r.service = "shop";
  r.version = "v2";
  r.upstream = "10.0.1.9:8080";
  r.fault = "delay+abort";
  r.gremlin_header_name = "X-Gremlin";
  r.gremlin_header_val = "test-42";
  r.retries = 2;
  return r;
}

std::unique_ptr<AccessLog> openLog(const AccessLogOptions& options, uint32_t workers = 1) {
  std::string error;
  auto log = AccessLog::open(options, workers, error);
  EXPECT_NE(log, nullptr) << error;
  return log;
}

// Writes `records` through a fresh one-worker log to a file and returns the lines it wrote.
std::vector<std::string> logLines(const std::vector<AccessRecord>& records,
                                  std::vector<std::string> fields = {}) {
  TempDir dir;
  EXPECT_TRUE(dir.ok());
  AccessLogOptions options;
  options.path = dir.file("access.log");
  options.fields = std::move(fields);
  {
    auto log = openLog(options);
    if (!log) return {};
    for (const AccessRecord& record : records) log->write(0, record);
  }
  return readLines(options.path);
}

json logOne(const AccessRecord& record) {
  const auto lines = logLines({record});
  EXPECT_EQ(lines.size(), 1u);
  return lines.empty() ? json() : json::parse(lines[0]);
}

std::string openError(const AccessLogOptions& options) {
  std::string error;
  auto log = AccessLog::open(options, 1, error);
  EXPECT_EQ(log, nullptr);
  return error;
}

TEST(AccessLogTest, FullRecordHasEveryFieldInTheDefaultOrder) {
  const auto lines = logLines({fullRecord()});
  ASSERT_EQ(lines.size(), 1u);
  const auto line = ordered_json::parse(lines[0]);
  std::vector<std::string> keys;
  for (const auto& item : line.items()) keys.push_back(item.key());
  EXPECT_EQ(keys, std::vector<std::string>(kAccessLogFields.begin(), kAccessLogFields.end()));

  EXPECT_EQ(line["timestamp_ms"], 1700000000123u);
  EXPECT_TRUE(line["timestamp_ms"].is_number_integer());
  EXPECT_EQ(line["request_id"], "req-1");
  EXPECT_EQ(line["client"], "10.0.0.7:51234");
  EXPECT_EQ(line["method"], "GET");
  EXPECT_EQ(line["path"], "/api/v1/items?q=1");
  EXPECT_EQ(line["host"], "shop.example");
  EXPECT_EQ(line["status"], 200);
  EXPECT_TRUE(line["status"].is_number_integer());
  EXPECT_EQ(line["bytes_in"], 321);
  EXPECT_EQ(line["bytes_out"], 4567);
  EXPECT_DOUBLE_EQ(line["duration_ms"].get<double>(), 12.345);
  EXPECT_DOUBLE_EQ(line["upstream_duration_ms"].get<double>(), 2.5);
  EXPECT_EQ(line["route"], "shop-route");
  EXPECT_EQ(line["src"], "gateway");
  EXPECT_EQ(line["dst"], "shop:v2");
  EXPECT_EQ(line["upstream"], "10.0.1.9:8080");
  EXPECT_EQ(line["fault"], "delay+abort");
  EXPECT_EQ(line["gremlin_header_name"], "X-Gremlin");
  EXPECT_EQ(line["gremlin_header_val"], "test-42");
  EXPECT_EQ(line["retries"], 2);
  // Milliseconds with microsecond precision, written as such.
  EXPECT_NE(lines[0].find("\"duration_ms\":12.345,"), std::string::npos);
  EXPECT_NE(lines[0].find("\"upstream_duration_ms\":2.500,"), std::string::npos);
}

TEST(AccessLogTest, SmallDurationsKeepTheirLeadingZeros) {
  AccessRecord record = fullRecord();
  record.duration_us = 5;
  record.upstream_us = 0;
  const auto lines = logLines({record});
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("\"duration_ms\":0.005,"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("\"upstream_duration_ms\":0.000,"), std::string::npos) << lines[0];
}

TEST(AccessLogTest, UpstreamDurationIsNullWhenNeverSentUpstream) {
  AccessRecord record = fullRecord();
  record.upstream_us = -1;
  record.status = 0;
  const json line = logOne(record);
  ASSERT_TRUE(line.contains("upstream_duration_ms"));
  EXPECT_TRUE(line["upstream_duration_ms"].is_null());
  EXPECT_EQ(line["status"], 0);
}

TEST(AccessLogTest, DstIsServiceAndVersionOrServiceOrEmpty) {
  AccessRecord with_version = fullRecord();
  AccessRecord without_version = fullRecord();
  without_version.version = "";
  AccessRecord without_service = fullRecord();
  without_service.service = "";
  const auto lines = logLines({with_version, without_version, without_service}, {"dst"});
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], R"({"dst":"shop:v2"})");
  EXPECT_EQ(lines[1], R"({"dst":"shop"})");
  EXPECT_EQ(lines[2], R"({"dst":""})");
}

TEST(AccessLogTest, EscapesQuotesBackslashesAndControlBytes) {
  const std::string path = "/a\"b\\c\x01\n\t\x1f\x7f/d";
  AccessRecord record = fullRecord();
  record.path = path;
  const auto lines = logLines({record}, {"path"});
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "{\"path\":\"/a\\\"b\\\\c\\u0001\\u000a\\u0009\\u001f\x7f/d\"}");
  EXPECT_EQ(json::parse(lines[0])["path"], path);
}

TEST(AccessLogTest, InvalidUtf8BecomesTheReplacementCharacter) {
  // A stray byte, a cut sequence, a surrogate, an overlong form, a sequence cut by the end;
  // and valid two-, three- and four-byte characters, which stay as they are.
  const std::string host =
      "a\xff b\xc3 c\xe2\x82 d\xed\xa0\x80 e\xc0\xaf \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 "
      "f\xf0\x9f\x98";
  AccessRecord record = fullRecord();
  record.host = host;
  record.gremlin_header_val = "\x80\x80";
  const json line = logOne(record);  // json::parse throws on invalid UTF-8
  const std::string fffd = "\xef\xbf\xbd";
  EXPECT_EQ(line["host"], "a" + fffd + " b" + fffd + " c" + fffd + " d" + fffd + fffd + fffd +
                              " e" + fffd + fffd + " \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 f" +
                              fffd);
  EXPECT_EQ(line["gremlin_header_val"], fffd + fffd);
}

TEST(AccessLogTest, EscaperAppendsToWhatIsThere) {
  std::string out = "x";
  access_log_detail::appendJsonStringBody(out, "plain");
  access_log_detail::appendJsonStringBody(out, "");
  access_log_detail::appendJsonStringBody(out, std::string("\0", 1));
  EXPECT_EQ(out, "xplain\\u0000");
}

TEST(AccessLogTest, SelectedFieldsComeInTheGivenOrder) {
  const auto lines = logLines({fullRecord()}, {"status", "path", "timestamp_ms", "dst"});
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], R"({"status":200,"path":"/api/v1/items?q=1","timestamp_ms":1700000000123,)"
                      R"("dst":"shop:v2"})");
}

TEST(AccessLogTest, UnknownFieldIsAnErrorListingTheKnownOnes) {
  AccessLogOptions options;
  options.path = "/dev/null";
  options.fields = {"status", "bogus"};
  const std::string error = openError(options);
  EXPECT_NE(error.find("\"bogus\""), std::string::npos) << error;
  for (std::string_view name : kAccessLogFields) {
    EXPECT_NE(error.find(name), std::string::npos) << error;
  }
}

TEST(AccessLogTest, RepeatedFieldIsAnError) {
  AccessLogOptions options;
  options.path = "/dev/null";
  options.fields = {"status", "path", "status"};
  const std::string error = openError(options);
  EXPECT_NE(error.find("\"status\""), std::string::npos) << error;
  EXPECT_NE(error.find("twice"), std::string::npos) << error;
}

TEST(AccessLogTest, SampleOutsideZeroToOneIsAnError) {
  for (double sample : {0.0, -0.5, 1.5, std::nan(""), std::numeric_limits<double>::infinity()}) {
    AccessLogOptions options;
    options.path = "/dev/null";
    options.sample = sample;
    const std::string error = openError(options);
    EXPECT_NE(error.find("sample"), std::string::npos) << sample << ": " << error;
  }
}

TEST(AccessLogTest, EmptyQueueIsAnError) {
  AccessLogOptions options;
  options.path = "/dev/null";
  options.queue_bytes = 0;
  EXPECT_NE(openError(options).find("queue_bytes"), std::string::npos);
}

TEST(AccessLogTest, OpenFailureNamesThePathAndTheReason) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  AccessLogOptions options;
  options.path = dir.path();  // a directory cannot be opened for writing
  EXPECT_EQ(openError(options), "cannot open access log " + dir.path() + ": " + strerror(EISDIR));
}

TEST(AccessLogTest, SamplingKeepsTheShareAndEveryFailure) {
  AccessLogOptions options;
  options.path = "/dev/null";
  options.sample = 0.1;
  auto log = openLog(options, 2);
  ASSERT_NE(log, nullptr);
  constexpr int kDraws = 20000;
  for (uint32_t worker : {0u, 1u}) {
    int kept = 0;
    for (int i = 0; i < kDraws; ++i) kept += log->sampled(worker, 200) ? 1 : 0;
    EXPECT_GT(kept, kDraws * 8 / 100) << "worker " << worker;
    EXPECT_LT(kept, kDraws * 12 / 100) << "worker " << worker;
  }
  for (int status : {500, 503, 599, 0}) {
    for (int i = 0; i < 1000; ++i) ASSERT_TRUE(log->sampled(0, status)) << status;
  }
}

TEST(AccessLogTest, SampleOneKeepsEverything) {
  AccessLogOptions options;
  options.path = "/dev/null";
  auto log = openLog(options);
  ASSERT_NE(log, nullptr);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(log->sampled(0, 200));
}

TEST(AccessLogTest, DestructorFlushesEverythingQueued) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  AccessLogOptions options;
  options.path = dir.file("access.log");
  constexpr int kLines = 1000;
  {
    auto log = openLog(options);
    ASSERT_NE(log, nullptr);
    AccessRecord record = fullRecord();
    for (int i = 0; i < kLines; ++i) {
      const std::string id = std::to_string(i);
      record.request_id = id;
      log->write(0, record);
    }
    EXPECT_EQ(log->dropped(), 0u);
  }
  const auto lines = readLines(options.path);
  ASSERT_EQ(lines.size(), size_t{kLines});
  for (int i = 0; i < kLines; ++i)
    EXPECT_EQ(json::parse(lines[i])["request_id"], std::to_string(i));
}

TEST(AccessLogTest, LineLongerThanTheQueueIsDropped) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  AccessLogOptions options;
  options.path = dir.file("access.log");
  options.queue_bytes = 256;
  options.fields = {"path"};
  const std::string long_path(1000, 'x');
  {
    auto log = openLog(options);
    ASSERT_NE(log, nullptr);
    AccessRecord record = fullRecord();
    record.path = long_path;
    log->write(0, record);
    EXPECT_EQ(log->dropped(), 1u);
    record.path = "/short";
    log->write(0, record);
    ASSERT_TRUE(waitUntil([&] { return log->written() == 1; }));
  }
  EXPECT_EQ(readAll(options.path), "{\"path\":\"/short\"}\n");
}

TEST(AccessLogTest, StdoutIsNeitherReopenedNorClosed) {
  AccessLogOptions options;
  options.path = "-";
  {
    auto log = openLog(options);
    ASSERT_NE(log, nullptr);
    log->reopen();
  }
  EXPECT_NE(::fcntl(1, F_GETFD), -1);
}

TEST(AccessLogTest, ReopenAfterRenameSendsNewLinesToTheNewFile) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  AccessLogOptions options;
  options.path = dir.file("access.log");
  options.fields = {"request_id"};
  auto log = openLog(options);
  ASSERT_NE(log, nullptr);
  AccessRecord record = fullRecord();
  auto writeRange = [&](int from, int to) {
    for (int i = from; i < to; ++i) {
      const std::string id = std::to_string(i);
      record.request_id = id;
      log->write(0, record);
    }
  };
  writeRange(0, 100);
  ASSERT_TRUE(waitUntil([&] { return log->written() == 100; }));
  ASSERT_EQ(::rename(options.path.c_str(), (options.path + ".1").c_str()), 0);
  log->reopen();
  writeRange(100, 200);
  ASSERT_TRUE(waitUntil([&] { return log->written() == 200; }));
  EXPECT_EQ(log->dropped(), 0u);
  log.reset();

  const auto rotated = readLines(options.path + ".1");
  const auto current = readLines(options.path);
  ASSERT_EQ(rotated.size(), 100u);
  ASSERT_EQ(current.size(), 100u);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(json::parse(rotated[i])["request_id"], std::to_string(i));
    EXPECT_EQ(json::parse(current[i])["request_id"], std::to_string(100 + i));
  }
}

TEST(AccessLogTest, FailedReopenKeepsWritingToTheOldFile) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string sub = dir.file("sub");
  ASSERT_EQ(::mkdir(sub.c_str(), 0755), 0);
  AccessLogOptions options;
  options.path = sub + "/access.log";
  options.fields = {"request_id"};
  auto log = openLog(options);
  ASSERT_NE(log, nullptr);
  // Moving the directory away makes the path unopenable; the open file still takes lines.
  ASSERT_EQ(::rename(sub.c_str(), dir.file("moved").c_str()), 0);
  log->reopen();
  log->write(0, fullRecord());
  ASSERT_TRUE(waitUntil([&] { return log->written() == 1; }));
  log.reset();
  EXPECT_EQ(readAll(dir.file("moved") + "/access.log"), "{\"request_id\":\"req-1\"}\n");
}

// A FIFO the test holds open for reading: the log's writer can open it, and it fills up
// (one page, a few lines) unless the test reads.
class Fifo {
 public:
  explicit Fifo(const std::string& path) : path_(path) {
    if (::mkfifo(path.c_str(), 0600) != 0) return;
    reader_ = ::open(path.c_str(), O_RDONLY | O_NONBLOCK);
    if (reader_ >= 0) ::fcntl(reader_, F_SETPIPE_SZ, 4096);
  }
  ~Fifo() { closeReader(); }
  bool ok() const { return reader_ >= 0; }
  const std::string& path() const { return path_; }
  void closeReader() {
    if (reader_ >= 0) ::close(reader_);
    reader_ = -1;
  }
  // Reads until the writer closes its end (or `limit` passes); returns what was read.
  std::string readToEnd(std::chrono::milliseconds limit) {
    std::string data;
    const auto deadline = Clock::now() + limit;
    char buffer[65536];
    while (Clock::now() < deadline) {
      pollfd p{reader_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const ssize_t n = ::read(reader_, buffer, sizeof buffer);
      if (n == 0) break;  // the writer closed the FIFO
      if (n > 0) data.append(buffer, n);
    }
    return data;
  }

 private:
  std::string path_;
  int reader_ = -1;
};

std::vector<std::string> splitLines(const std::string& data) {
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t end; (end = data.find('\n', start)) != std::string::npos; start = end + 1) {
    lines.push_back(data.substr(start, end - start));
  }
  EXPECT_EQ(start, data.size()) << "a line without its end";
  return lines;
}

// Writes `count` lines of about 600 bytes on worker 0, checking each write() returns at once.
// Paced (a millisecond every 4 lines) so that the writer takes some before the queue is full.
void writePaced(AccessLog& log, int count) {
  AccessRecord record = fullRecord();
  const std::string padding(200, 'p');
  record.path = padding;
  for (int i = 0; i < count; ++i) {
    const std::string id = std::to_string(i);
    record.request_id = id;
    const auto start = Clock::now();
    log.write(0, record);
    ASSERT_LT(Clock::now() - start, std::chrono::milliseconds(50)) << "write " << i;
    if (i % 4 == 3) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

TEST(AccessLogTest, StuckSinkDropsLinesWithoutBlockingTheWorker) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  Fifo fifo(dir.file("fifo"));
  ASSERT_TRUE(fifo.ok());
  AccessLogOptions options;
  options.path = fifo.path();
  options.queue_bytes = 4096;
  auto log = openLog(options);
  ASSERT_NE(log, nullptr);
  constexpr int kLines = 1000;  // ~600 KB: far more than the FIFO and the queue hold
  writePaced(*log, kLines);
  EXPECT_GT(log->dropped(), 0u);
  EXPECT_LT(log->written(), 100u);  // the FIFO holds a page

  // Once the reader reads, what was queued arrives; every line is written or dropped.
  std::string received;
  std::thread reader([&] { received = fifo.readToEnd(std::chrono::seconds(15)); });
  EXPECT_TRUE(waitUntil([&] { return log->written() + log->dropped() == kLines; }));
  const uint64_t written = log->written();
  log.reset();  // closes the FIFO: the reader sees its end
  reader.join();
  const auto lines = splitLines(received);
  EXPECT_EQ(lines.size(), written);
  int previous = -1;
  for (const std::string& line : lines) {
    const int id = std::stoi(json::parse(line)["request_id"].get<std::string>());
    EXPECT_GT(id, previous);
    previous = id;
  }
}

TEST(AccessLogTest, DestructorGivesUpOnAStuckSink) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  Fifo fifo(dir.file("fifo"));
  ASSERT_TRUE(fifo.ok());
  AccessLogOptions options;
  options.path = fifo.path();
  options.queue_bytes = 4096;
  auto log = openLog(options);
  ASSERT_NE(log, nullptr);
  writePaced(*log, 1000);
  ASSERT_GT(log->dropped(), 0u);
  // Lines are still queued and the FIFO takes none: the writer tries for its grace period
  // (2 s), then gives up.
  const auto start = Clock::now();
  log.reset();
  EXPECT_GT(Clock::now() - start, std::chrono::seconds(1));
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(4));
}

TEST(AccessLogTest, SinkErrorsAreCountedAsDroppedAndSurvived) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  Fifo fifo(dir.file("fifo"));
  ASSERT_TRUE(fifo.ok());
  AccessLogOptions options;
  options.path = fifo.path();
  auto log = openLog(options);
  ASSERT_NE(log, nullptr);
  fifo.closeReader();  // writes now fail with EPIPE (and raise SIGPIPE, which must not kill us)
  constexpr int kLines = 100;
  writePaced(*log, kLines);
  EXPECT_TRUE(waitUntil([&] { return log->dropped() == kLines; })) << log->dropped();
  EXPECT_EQ(log->written(), 0u);
}

TEST(AccessLogTest, ConcurrentWorkersKeepTheirOrderAndEveryLine) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  AccessLogOptions options;
  options.path = dir.file("access.log");
  constexpr uint32_t kWorkers = 4;
  constexpr int kLinesEach = 5000;
  auto log = openLog(options, kWorkers);
  ASSERT_NE(log, nullptr);
  std::vector<std::thread> workers;
  for (uint32_t w = 0; w < kWorkers; ++w) {
    workers.emplace_back([&log, w] {
      AccessRecord record = fullRecord();
      for (int i = 0; i < kLinesEach; ++i) {
        const std::string id = std::to_string(w) + "-" + std::to_string(i);
        record.request_id = id;
        log->write(w, record);
      }
    });
  }
  for (auto& worker : workers) worker.join();
  const uint64_t total = uint64_t{kWorkers} * kLinesEach;
  ASSERT_TRUE(waitUntil([&] { return log->written() + log->dropped() == total; }));
  const uint64_t written = log->written();
  EXPECT_GT(written, 0u);
  log.reset();

  const auto lines = readLines(options.path);
  EXPECT_EQ(lines.size(), written);
  std::vector<int> last(kWorkers, -1);
  for (const std::string& line : lines) {
    const std::string id = json::parse(line)["request_id"];
    const size_t dash = id.find('-');
    ASSERT_NE(dash, std::string::npos) << line;
    const uint32_t worker = static_cast<uint32_t>(std::stoul(id.substr(0, dash)));
    const int sequence = std::stoi(id.substr(dash + 1));
    ASSERT_LT(worker, kWorkers);
    EXPECT_GT(sequence, last[worker]) << line;
    last[worker] = sequence;
  }
}

TEST(AccessLogRingTest, WrapsAroundAndTakesWholeLinesOnly) {
  access_log_detail::ByteRing ring(10);
  EXPECT_TRUE(ring.push("abcde\n"));
  EXPECT_FALSE(ring.push("ghij\n"));  // 5 bytes, 4 free: nothing is copied
  EXPECT_TRUE(ring.moreThanHalfFull());
  const auto released = ring.release(6);
  EXPECT_EQ(released.lines, 1u);
  EXPECT_TRUE(released.ends_at_line);
  EXPECT_FALSE(ring.moreThanHalfFull());
  EXPECT_TRUE(ring.push("ghij\n"));
  EXPECT_TRUE(ring.push("klmn\n"));  // wraps
  const auto spans = ring.peek();
  EXPECT_EQ(std::string(spans[0]) + std::string(spans[1]), "ghij\nklmn\n");
  EXPECT_EQ(spans[0], "ghij");
  const auto partial = ring.release(7);
  EXPECT_EQ(partial.lines, 1u);
  EXPECT_FALSE(partial.ends_at_line);
  EXPECT_EQ(ring.peek()[0], "mn\n");
}

}  // namespace
}  // namespace turnout::observe
