// Per-worker metric shards: code slots, histogram buckets, the series registry, and the merged
// Prometheus text (checked by promtool when it is installed).
#include "observe/metrics.h"

#include "observe/process_metrics.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>

namespace turnout::observe {
namespace {

TEST(MetricsTest, CodeSlotsKeepCommonCodesAndClassTheRest) {
  EXPECT_EQ(codeLabel(codeSlot(200)), "200");
  EXPECT_EQ(codeClass(codeSlot(200)), "2xx");
  EXPECT_EQ(codeLabel(codeSlot(503)), "503");
  EXPECT_EQ(codeLabel(codeSlot(418)), "4xx");
  EXPECT_EQ(codeClass(codeSlot(418)), "4xx");
  EXPECT_EQ(codeLabel(codeSlot(101)), "1xx");
  EXPECT_EQ(codeLabel(codeSlot(599)), "5xx");
  EXPECT_EQ(codeLabel(codeSlot(0)), "5xx");  // never a client status; counted as an error
  EXPECT_NE(codeSlot(404), codeSlot(418));
  EXPECT_LT(codeSlot(599), kCodeSlots);
  EXPECT_EQ(codeClass(codeSlot(600)), "5xx");
  EXPECT_EQ(codeClass(codeSlot(-1)), "5xx");
}

TEST(MetricsTest, AnUnlabelledHistogramHasOnlyTheLeLabel) {
  ShardHistogram h;
  h.observe(2000);
  std::string out;
  renderHistogram(out, "x_seconds", "help", h);
  EXPECT_NE(out.find("# TYPE x_seconds histogram\n"), std::string::npos) << out;
  EXPECT_NE(out.find("x_seconds_bucket{le=\"0.001\"} 0\n"), std::string::npos) << out;
  EXPECT_NE(out.find("x_seconds_bucket{le=\"0.0025\"} 1\n"), std::string::npos) << out;
  EXPECT_NE(out.find("x_seconds_bucket{le=\"+Inf\"} 1\n"), std::string::npos) << out;
  EXPECT_NE(out.find("x_seconds_sum 0.002000\n"), std::string::npos) << out;
  EXPECT_NE(out.find("x_seconds_count 1\n"), std::string::npos) << out;
}

// The value of an unlabelled sample `name` in `text`, or -1.
double sampleValue(const std::string& text, const std::string& name) {
  const size_t at = text.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + name.size() + 2));
}

TEST(MetricsTest, ProcessMetricsComeFromProc) {
  std::string out = "\n";
  renderProcessMetrics(out);
  EXPECT_GT(sampleValue(out, "process_resident_memory_bytes"), 1024 * 1024) << out;
  EXPECT_GT(sampleValue(out, "process_virtual_memory_bytes"),
            sampleValue(out, "process_resident_memory_bytes"));
  EXPECT_GE(sampleValue(out, "process_cpu_seconds_total"), 0) << out;
  EXPECT_GE(sampleValue(out, "process_open_fds"), 3) << out;  // stdin, stdout, stderr at least
  EXPECT_GE(sampleValue(out, "process_max_fds"), sampleValue(out, "process_open_fds"));
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  const double started = sampleValue(out, "process_start_time_seconds");
  EXPECT_LE(started, now + 2) << out;  // this test binary started a moment ago
  EXPECT_GT(started, now - 3600) << out;
}

TEST(MetricsTest, HistogramBucketsAreUpperBoundsInclusive) {
  ShardHistogram h;
  h.observe(100);         // exactly 100 us: the first bucket (le=0.0001)
  h.observe(101);         // the second
  h.observe(60'000'000);  // exactly 60 s: the last finite bucket
  h.observe(61'000'000);  // +Inf
  EXPECT_EQ(h.bucket(0), 1u);
  EXPECT_EQ(h.bucket(1), 1u);
  EXPECT_EQ(h.bucket(kLatencyBuckets.size() - 1), 1u);
  EXPECT_EQ(h.bucket(kLatencyBuckets.size()), 1u);
  EXPECT_EQ(h.count(), 4u);
  EXPECT_EQ(h.sumMicros(), 100u + 101u + 60'000'000u + 61'000'000u);
}

TEST(MetricsTest, SeriesAreFoundAgainAndKeptInOrder) {
  WorkerMetrics worker;
  RouteSeries* a = worker.series("r1", "svc", "v1");
  RouteSeries* b = worker.series("r1", "svc", "v2");
  ASSERT_NE(a, nullptr);
  EXPECT_NE(a, b);
  EXPECT_EQ(worker.series("r1", "svc", "v1"), a);
  // The key is not ambiguous when names contain what would join them.
  EXPECT_NE(worker.series("r", "1svc", "v1"), worker.series("r1", "svc", "v1"));
  std::vector<std::string> seen;
  worker.forEachSeries(
      [&](const RouteSeries& s) { seen.push_back(s.key.route + "/" + s.key.version); });
  EXPECT_EQ(seen, (std::vector<std::string>{"r1/v1", "r1/v2", "r/v1"}));
  for (int i = 0; i < 600; ++i) worker.series("many" + std::to_string(i), "s", "");  // 3 chunks
  EXPECT_EQ(worker.seriesCount(), 603u);
}

std::string render(const std::vector<const WorkerMetrics*>& workers) {
  std::string out;
  renderRequestMetrics(workers, out);
  return out;
}

bool contains(const std::string& text, const std::string& line) {
  return text.find(line + "\n") != std::string::npos;
}

TEST(MetricsTest, ShardsAreMergedAtScrapeTime) {
  WorkerMetrics one, two;
  RouteSeries* s1 = one.series("web", "app", "v1");
  RouteSeries* s2 = two.series("web", "app", "v1");
  s1->codes[codeSlot(200)].add(3);
  s2->codes[codeSlot(200)].add(2);
  s2->codes[codeSlot(502)].add(1);
  s1->request.observe(200);    // 0.2 ms
  s2->request.observe(3000);   // 3 ms
  s2->upstream.observe(2500);  // 2.5 ms
  gaugeAdd(one.requests_active, 2);
  gaugeAdd(two.requests_active, 1);
  gaugeAdd(one.requests_active, -1);
  one.bytes_out.add(100);
  two.bytes_out.add(50);
  std::string text = render({&one, &two});
  EXPECT_TRUE(contains(text,
                       "turnout_requests_total{route=\"web\",service=\"app\",version=\"v1\","
                       "code_class=\"2xx\",code=\"200\"} 5"))
      << text;
  EXPECT_TRUE(contains(text,
                       "turnout_requests_total{route=\"web\",service=\"app\",version=\"v1\","
                       "code_class=\"5xx\",code=\"502\"} 1"));
  EXPECT_TRUE(
      contains(text, "turnout_request_duration_seconds_bucket{route=\"web\",le=\"0.0001\"} 0"));
  EXPECT_TRUE(
      contains(text, "turnout_request_duration_seconds_bucket{route=\"web\",le=\"0.00025\"} 1"));
  EXPECT_TRUE(
      contains(text, "turnout_request_duration_seconds_bucket{route=\"web\",le=\"0.005\"} 2"));
  EXPECT_TRUE(
      contains(text, "turnout_request_duration_seconds_bucket{route=\"web\",le=\"+Inf\"} 2"));
  EXPECT_TRUE(contains(text, "turnout_request_duration_seconds_count{route=\"web\"} 2"));
  EXPECT_TRUE(contains(text, "turnout_request_duration_seconds_sum{route=\"web\"} 0.003200"));
  EXPECT_TRUE(contains(text, "turnout_upstream_duration_seconds_count{route=\"web\"} 1"));
  EXPECT_TRUE(contains(text, "turnout_requests_active 2"));
  EXPECT_TRUE(contains(text, "turnout_sent_bytes_total 150"));
}

TEST(MetricsTest, LabelValuesAreEscaped) {
  WorkerMetrics worker;
  worker.series("a\"b\\c\nd", "s", "")->codes[codeSlot(404)].add();
  std::string text = render({&worker});
  EXPECT_NE(text.find("route=\"a\\\"b\\\\c\\nd\""), std::string::npos) << text;
}

// A worker counts while the scraper renders: nothing is lost once the worker stops.
TEST(MetricsTest, RenderingWhileAWorkerCountsSeesConsistentTotalsAfterwards) {
  WorkerMetrics worker;
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (int i = 0; i < 20000; ++i) {
      RouteSeries* s = worker.series("r" + std::to_string(i % 50), "s", "");
      s->codes[codeSlot(200)].add();
      s->request.observe(static_cast<uint64_t>(i % 5000));
    }
    done = true;
  });
  for (int rounds = 0; rounds < 200 && !done.load(); ++rounds) render({&worker});
  writer.join();
  uint64_t total = 0;
  worker.forEachSeries([&](const RouteSeries& s) { total += s.codes[codeSlot(200)].get(); });
  EXPECT_EQ(total, 20000u);
}

TEST(MetricsTest, PromtoolAcceptsTheOutput) {
  if (::access("/usr/bin/promtool", X_OK) != 0) GTEST_SKIP() << "promtool is not installed";
  WorkerMetrics worker;
  RouteSeries* s = worker.series("web", "app", "v1");
  s->codes[codeSlot(200)].add(7);
  s->codes[codeSlot(418)].add(1);
  s->request.observe(1234);
  s->upstream.observe(999);
  std::string text = render({&worker});
  ShardHistogram apply;
  apply.observe(1500);
  renderHistogram(text, "turnout_config_apply_duration_seconds", "Apply time.", apply);
  renderProcessMetrics(text);
  char path[] = "/tmp/turnout-metrics-XXXXXX";
  int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  ::close(fd);
  std::string command = std::string("/usr/bin/promtool check metrics < ") + path + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string said;
  char buffer[512];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) said += buffer;
  int status = ::pclose(pipe);
  ::unlink(path);
  EXPECT_EQ(status, 0) << said << "\n" << text;
  EXPECT_EQ(said, "") << text;  // no lint complaint either
}

}  // namespace
}  // namespace turnout::observe
