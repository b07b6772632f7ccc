#include "observe/process_metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "observe/metrics.h"

namespace turnout::observe {
namespace {

void appendValue(std::string& out, const char* name, const char* help, const char* type,
                 double value) {
  appendMetricHeader(out, name, help, type);
  char line[96];
  std::snprintf(line, sizeof line, "%s %.17g\n", name, value);
  out += line;
}

// Fields of /proc/self/stat after the command name (which may hold spaces and parentheses):
// [0] is field 3 (state), so field N is at index N - 3.
bool readStatFields(std::vector<std::string>& fields) {
  std::ifstream file("/proc/self/stat");
  std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  const size_t close = text.rfind(')');
  if (close == std::string::npos) return false;
  std::istringstream rest(text.substr(close + 1));
  for (std::string field; rest >> field;) fields.push_back(field);
  return fields.size() > 21;
}

// Seconds since the epoch at which the system booted (/proc/stat "btime").
bool bootTime(double& seconds) {
  std::ifstream file("/proc/stat");
  for (std::string key; file >> key;) {
    if (key == "btime") return static_cast<bool>(file >> seconds);
    file.ignore(1 << 20, '\n');
  }
  return false;
}

size_t openFds() {
  size_t count = 0;
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return 0;
  while (const dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  ::closedir(dir);
  return count > 0 ? count - 1 : 0;  // the directory stream's own descriptor
}

}  // namespace

void renderProcessMetrics(std::string& out) {
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  std::vector<std::string> stat;
  if (readStatFields(stat) && ticks > 0) {
    // Fields 14/15 utime/stime (ticks), 22 starttime (ticks after boot), 23 vsize, 24 rss pages.
    const double cpu = (std::stod(stat[14 - 3]) + std::stod(stat[15 - 3])) / ticks;
    appendValue(out, "process_cpu_seconds_total", "User and system CPU time spent, in seconds.",
                "counter", cpu);
    appendValue(out, "process_virtual_memory_bytes", "Virtual memory size in bytes.", "gauge",
                std::stod(stat[23 - 3]));
    appendValue(out, "process_resident_memory_bytes", "Resident memory size in bytes.", "gauge",
                std::stod(stat[24 - 3]) * page);
    double boot = 0;
    if (bootTime(boot)) {
      appendValue(out, "process_start_time_seconds",
                  "Start time of the process since the Unix epoch, in seconds.", "gauge",
                  boot + std::stod(stat[22 - 3]) / ticks);
    }
  }
  appendValue(out, "process_open_fds", "Open file descriptors.", "gauge",
              static_cast<double>(openFds()));
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    appendValue(out, "process_max_fds", "Limit on open file descriptors.", "gauge",
                static_cast<double>(limit.rlim_cur));
  }
}

}  // namespace turnout::observe
