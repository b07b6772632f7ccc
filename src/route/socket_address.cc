#include "config/address.h"
#include "route/snapshot.h"

namespace turnout::route {

// The syntax lives with the configuration checks, so validation and compilation agree.
bool parseSocketAddress(std::string_view text, sockaddr_storage& out, socklen_t& len,
                        std::string* why) {
  return config::parseIpPort(text, out, len, why);
}

std::string_view dnsNameOf(std::string_view address) {
  sockaddr_storage ignored;
  socklen_t length = 0;
  if (parseSocketAddress(address, ignored, length)) return {};
  const size_t colon = address.rfind(':');
  return colon == std::string_view::npos ? address : address.substr(0, colon);
}

}  // namespace turnout::route
