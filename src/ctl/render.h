// The readable tables of `get services`, `get routes` and `changes`: one row per object,
// built from the API's JSON objects (docs/admin-api.md), tolerant of missing fields.
#pragma once

#include <nlohmann/json.hpp>

#include <ostream>
#include <string>

#include "ctl/table.h"

namespace turnout::ctl {

// NAME LB ENDPOINTS VERSIONS
void writeServicesTable(std::ostream& out, const nlohmann::json& services);
// ID PRIORITY HOST PATH SPLIT
void writeRoutesTable(std::ostream& out, const nlohmann::json& routes);
// REVISION TIME KIND NAME SOURCE
void writeChangesTable(std::ostream& out, const nlohmann::json& changes);

Row serviceRow(const nlohmann::json& service);
Row routeRow(const nlohmann::json& route);
Row changeRow(const nlohmann::json& change);

// "2024-05-01T12:00:00.123Z" (UTC) from milliseconds since the epoch.
std::string formatTimeMs(long long ms);

}  // namespace turnout::ctl
