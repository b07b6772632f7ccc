#!/usr/bin/env bash
# Traffic policy overhead, end to end (issue 5): turnout's CPU time per request on a plain route
# and on routes with three selectors and two faults that do not fire, in one run, alternating.
# See bench/policy/README.md. Needs: wrk, nginx, curl, taskset, python3 (standard library only).
set -euo pipefail

BIN=${TURNOUT_BIN:-/work/main/build/turnout}
ROUNDS=${ROUNDS:-20}
DURATION=${DURATION:-5}             # seconds per route per round
WARMUP=${WARMUP:-3}                 # seconds per route before the first round
CONNS=${CONNS:-32}
ROUTES=${ROUTES:-"plain policy policy-nosticky policy-nocookie"}
TURNOUT_CPU=${TURNOUT_CPU:-0}       # turnout (all its threads) pinned here
LOAD_CPU=${LOAD_CPU:-1}             # wrk and the nginx upstream pinned here
OUT=${OUT:-/tmp/turnout-policy-$(date -u +%Y%m%d-%H%M%S).tsv}
MAX_TOTAL_S=${MAX_TOTAL_S:-1200}    # hard bound on the whole run

# Per-round table, medians, ratios vs plain (files pooled): the summarizer shared with
# bench/observe (bench/lib/cpu_rounds.py).
LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")/../lib" && pwd)
summarize() { python3 "$LIB/cpu_rounds.py" --baseline plain "$@"; }
# shellcheck source=../lib/upstream.sh
source "$LIB/upstream.sh"

if [[ ${1:-} == --summary ]]; then shift; summarize "$@"; exit 0; fi

for tool in wrk nginx curl taskset python3; do
  command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 1; }
done
[[ -x $BIN ]] || { echo "no turnout binary at $BIN" >&2; exit 1; }

RUN=$(mktemp -d /tmp/turnout-policy.XXXXXX)
NGINX_PID=""
TURNOUT_PID=""
stop() {  # by pid only: SIGTERM, then SIGKILL
  local pid
  for pid in "$TURNOUT_PID" "$NGINX_PID"; do
    [[ -n $pid ]] && kill -TERM "$pid" 2>/dev/null || true
  done
  sleep 0.5
  for pid in "$TURNOUT_PID" "$NGINX_PID"; do
    [[ -n $pid ]] && kill -KILL "$pid" 2>/dev/null || true
  done
  rm -rf "$RUN"
}
trap stop EXIT
trap 'exit 130' INT TERM
START_S=$SECONDS

# The binary is copied first, so a rebuild during the run cannot swap it.
cp "$BIN" "$RUN/turnout"
BIN_SHA=$(sha256sum "$RUN/turnout" | cut -c1-16)

read -r P_V1 P_V2 P_PROXY < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(3)]
for s in socks: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])
for s in socks: s.close()')

# Upstream: one nginx worker answering a fixed 200 on two ports (v1, v2), same length on both.
start_nginx_upstream "$RUN" "$LOAD_CPU" "$P_V1" "$P_V2"

# The issue's route model. `policy` as specified; `policy-nosticky` is the same without the sticky
# cookie, so its selectors run on every request (a valid sticky cookie skips them).
SELECTORS='      - {service: hello, version: v2, match: {headers: {X-Canary: "^yes$"}}}
      - {service: hello, version: v2, match: {cookies: {user: jason}}}
      - {service: hello, version: v2, match: {headers: {X-Beta: "1"}}}
      - {service: hello, version: v1, weight: 100}'
FAULTS='    faults:
      - {match: {headers: {X-Gremlin-Id: "test-"}}, version: v2, delay: {seconds: 3}}
      - {match: {headers: {X-Gremlin-Id: "abort-"}}, abort: {status: 503}}'
cat >"$RUN/config.yaml" <<EOF
services:
  - name: hello
    endpoints: [{address: "127.0.0.1:$P_V1", version: v1}, {address: "127.0.0.1:$P_V2", version: v2}]
routes:
  - id: plain
    match: {path_prefix: /plain/}
    split: [{service: hello, version: v1}]
  - id: policy
    match: {path_prefix: /policy/}
    split:
$SELECTORS
    sticky: {cookie: version}
$FAULTS
  - id: policy-nosticky
    match: {path_prefix: /policy-nosticky/}
    split:
$SELECTORS
$FAULTS
EOF

mkdir -p "$RUN/data"
taskset -c "$TURNOUT_CPU" "$RUN/turnout" run --config "$RUN/config.yaml" --data-dir "$RUN/data" \
  --admin 127.0.0.1:0 --listen "127.0.0.1:$P_PROXY" --workers 1 >"$RUN/turnout.log" 2>&1 &
TURNOUT_PID=$!

BASE="http://127.0.0.1:$P_PROXY"
STICKY_COOKIE="session=0123456789abcdef; version=v1; theme=dark"
OTHER_COOKIE="session=0123456789abcdef; theme=dark"
# Path and Cookie per benchmarked route. policy-nocookie: the issue's route without the sticky
# cookie, so every response carries a Set-Cookie (informational: more response work).
path_of() { case $1 in plain) echo /plain/items/42 ;; policy | policy-nocookie) echo /policy/items/42 ;;
  policy-nosticky) echo /policy-nosticky/items/42 ;; *) echo "unknown route $1" >&2; exit 1 ;; esac; }
cookie_of() { [[ $1 == policy-nocookie ]] && echo "$OTHER_COOKIE" || echo "$STICKY_COOKIE"; }
# Requests carry bench/lib's COMMON_HEADERS (none of the selector or fault triggers) and a Cookie.

for _ in $(seq 100); do
  curl -s -o /dev/null --max-time 1 "$BASE/plain/" && break
  kill -0 "$TURNOUT_PID" 2>/dev/null || { cat "$RUN/turnout.log" >&2; exit 1; }
  sleep 0.1
done

# Sanity: every route answers 200 from v1; Set-Cookie only where expected.
for route in $ROUTES; do
  hdr=$(curl -s -D - -o "$RUN/body" --max-time 2 "${COMMON_HEADERS[@]}" -H "Cookie: $(cookie_of "$route")" \
    "$BASE$(path_of "$route")")
  status=$(head -1 <<<"$hdr" | awk '{print $2}')
  setc=$(grep -ci '^set-cookie' <<<"$hdr" || true)
  body=$(cat "$RUN/body")
  echo "check $route: status $status, body '$body', set-cookie lines $setc"
  [[ $status == 200 && $body == "hello $P_V1" ]] || { echo "unexpected answer on $route" >&2; exit 1; }
  want=0; [[ $route == policy-nocookie ]] && want=1
  [[ $setc == "$want" ]] || { echo "unexpected Set-Cookie count on $route" >&2; exit 1; }
done


# One wrk run; prints: requests non2xx errors utime_ticks stime_ticks
run_wrk() {
  local route=$1 secs=$2 u0 s0 u1 s1 out
  read -r u0 s0 < <(cpu_ticks "$TURNOUT_PID")
  out=$(taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d"${secs}s" --timeout 5s "${COMMON_HEADERS[@]}" \
    -H "Cookie: $(cookie_of "$route")" "$BASE$(path_of "$route")")
  read -r u1 s1 < <(cpu_ticks "$TURNOUT_PID")
  local req non2xx errs
  req=$(awk '/requests in/ {print $1}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out"); non2xx=${non2xx:-0}
  errs=$(awk '/Socket errors/ {gsub(",", ""); print $4 + $6 + $8 + $10}' <<<"$out"); errs=${errs:-0}
  echo "$req $non2xx $errs $((u1 - u0)) $((s1 - s0))"
}

echo "warm-up: ${WARMUP}s per route"
for route in $ROUTES; do run_wrk "$route" "$WARMUP" >/dev/null; done

{
  echo "# bin_sha256=$BIN_SHA rounds=$ROUNDS duration=$DURATION conns=$CONNS turnout_cpu=$TURNOUT_CPU load_cpu=$LOAD_CPU clk_tck=$(getconf CLK_TCK) nproc=$(nproc) kernel=$(uname -r) start=$(date -u +%FT%TZ)"
  echo -e "round\troute\trequests\tnon2xx\terrors\tutime_ticks\tstime_ticks\tloadavg"
} >"$OUT"
read -r -a route_list <<<"$ROUTES"
n=${#route_list[@]}
for ((r = 1; r <= ROUNDS; r++)); do
  for ((k = 0; k < n; k++)); do
    (( SECONDS - START_S < MAX_TOTAL_S )) || { echo "time bound reached" >&2; exit 1; }
    route=${route_list[$(((k + r - 1) % n))]}  # rotate the order each round
    read -r req non2xx errs uticks sticks < <(run_wrk "$route" "$DURATION")
    load=$(cut -d' ' -f1 /proc/loadavg)
    echo -e "$r\t$route\t$req\t$non2xx\t$errs\t$uticks\t$sticks\t$load" | tee -a "$OUT"
  done
done
kill -0 "$TURNOUT_PID" 2>/dev/null || { echo "turnout died" >&2; cat "$RUN/turnout.log" >&2; exit 1; }
echo "turnout log lines: $(wc -l <"$RUN/turnout.log")"

summarize "$OUT"
