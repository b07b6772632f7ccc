// The process's own resource use, read from /proc at scrape time, under the names every
// Prometheus client library exports (process_*), so stock dashboards and alerts apply.
#pragma once

#include <string>

namespace turnout::observe {

// Appends process_resident_memory_bytes, process_virtual_memory_bytes,
// process_cpu_seconds_total, process_open_fds, process_max_fds and process_start_time_seconds.
// A file /proc does not offer (another OS, a hardened mount) leaves its metric out.
void renderProcessMetrics(std::string& out);

}  // namespace turnout::observe
