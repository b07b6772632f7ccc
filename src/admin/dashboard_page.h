// The dashboard's single HTML page (src/admin/dashboard/index.html), compiled into the binary
// so the admin listener serves it with no file to install.
#pragma once

#include <string_view>

namespace turnout::admin {

std::string_view dashboardPage();

}  // namespace turnout::admin
