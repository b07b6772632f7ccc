// The later Amalgam8 payload, {"instances":[...],"rules":[...]} (reference §1.6).
#include "compat/a8_support.h"

namespace turnout::compat {

A8Objects translateRules(const nlohmann::json&, const config::Identity&) {
  throw Invalid("", "the {\"instances\",\"rules\"} payload is not supported yet; use the "
                    "{\"upstreams\",\"services\",\"faults\"} payload");
}

}  // namespace turnout::compat
