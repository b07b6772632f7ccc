#include "proxy/fault_counters.h"

namespace turnout::proxy {

FaultCounters& faultCounters() {
  static FaultCounters counters;
  return counters;
}

}  // namespace turnout::proxy
