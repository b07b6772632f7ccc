#include "config/address.h"
#include "route/snapshot.h"

namespace turnout::route {

// The syntax lives with the configuration checks, so validation and compilation agree.
bool parseSocketAddress(std::string_view text, sockaddr_storage& out, socklen_t& len,
                        std::string* why) {
  return config::parseIpPort(text, out, len, why);
}

}  // namespace turnout::route
