// The metrics-only listener of `-p PORT` (paralarva's Prometheus port): every path answers the
// metrics, as paralarva's exporter did, and no other admin call is reachable through it, so it
// needs no token.
#pragma once

#include "admin/admin_server.h"
#include "admin/api.h"
#include "control/control_plane.h"

namespace turnout::admin {

AdminResponse serveMetricsOnly(control::ControlPlane& control, const ApiOptions& options,
                               const AdminRequest& request);

}  // namespace turnout::admin
