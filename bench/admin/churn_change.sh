#!/usr/bin/env bash
# One configuration change through turnout's admin API, for the peers harness's churn phase:
#   CANDIDATE_CHANGE_CMD='bash ../../../main/bench/admin/churn_change.sh {port} {backend_port} {i}'
# The admin API is at 127.0.0.1:PORT+10 (examples/candidate-turnout.sh). On the first change (i=0)
# it creates a service "churn" (one endpoint: the harness backend) and a route "churn" (path prefix
# "/", priority 100, above the --to catch-all) so that wrk's traffic to "/" goes through it; every
# change then replaces the service's endpoints with a new weight (i % 100 + 1): changes hit live traffic.
set -euo pipefail
port=$1 backend=$2 i=$3
api="http://127.0.0.1:$((port + 10))"
# put PATH BODY: exits non-zero on a non-2xx answer; with CHURN_LOG=FILE set, appends one line per call:
# "<i> <path> <curl time_total s> <answer body>" (the answer carries apply_us), to tell an API stall
# from a slow bash/curl start.
put() {
  local out
  out=$(curl -sf --max-time 4 -X PUT -H 'Content-Type: application/json' -w ' %{time_total}' "$api$1" -d "$2")
  if [ -n "${CHURN_LOG:-}" ]; then
    local body=${out% *}
    echo "$i $1 ${out##* } ${body//$'\n'/}" >> "$CHURN_LOG"
  fi
}
if [ "$i" = 0 ]; then
  put /v1/services/churn "{\"name\":\"churn\",\"endpoints\":[{\"address\":\"127.0.0.1:$backend\",\"weight\":1}]}"
  put /v1/routes/churn '{"id":"churn","priority":100,"match":{"path_prefix":"/"},"split":[{"service":"churn","weight":100}]}'
fi
put /v1/services/churn/endpoints "[{\"address\":\"127.0.0.1:$backend\",\"weight\":$(( i % 100 + 1 ))}]"
