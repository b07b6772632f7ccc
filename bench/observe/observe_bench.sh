#!/usr/bin/env bash
# Observability overhead, end to end (issue 7): turnout's CPU time per request without request
# metrics (`base`: the binary of commit 621ca03, the data path before the metrics were wired into
# the workers), with them (`metrics`: the current binary) and with the metrics and the access log
# (`metrics+log`: the current binary with --access-log FILE), three processes side by side in one
# run, alternating. See bench/observe/README.md. Method and request as bench/policy/policy_bench.sh.
# Needs: wrk, nginx, curl, taskset, python3 (standard library only); git, cmake, ninja to build
# the baseline binary when BASE_BIN is not given.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BIN=${TURNOUT_BIN:-$REPO/build/turnout}   # metrics and metrics+log
BASE_COMMIT=${BASE_COMMIT:-621ca03}        # base: the data path just before the metrics
BASE_CACHE=${BASE_CACHE:-/tmp/turnout-bench-base-$BASE_COMMIT}
BASE_BIN=${BASE_BIN:-}                     # given: used as is; else built (once) in BASE_CACHE
BUILD_TIMEOUT_S=${BUILD_TIMEOUT_S:-2400}   # bound on building the baseline (not in MAX_TOTAL_S)
ROUNDS=${ROUNDS:-20}
DURATION=${DURATION:-5}             # seconds per variant per round
WARMUP=${WARMUP:-3}                 # seconds per variant before the first round
SETTLE=${SETTLE:-0.3}               # seconds after each wrk run before the CPU is read
CONNS=${CONNS:-32}
VARIANTS=${VARIANTS:-"base metrics metrics+log"}
SANITY_N=${SANITY_N:-1000}          # requests of the sanity burst
TURNOUT_CPU=${TURNOUT_CPU:-0}       # the three turnout processes (all their threads) pinned here
LOAD_CPU=${LOAD_CPU:-1}             # wrk and the nginx upstream pinned here
OUT=${OUT:-/tmp/turnout-observe-$(date -u +%Y%m%d-%H%M%S).tsv}
MAX_TOTAL_S=${MAX_TOTAL_S:-1200}    # bound on everything after the binaries are ready
summarize() { python3 "$REPO/bench/lib/cpu_rounds.py" --baseline base "$@"; }
# shellcheck source=../lib/upstream.sh
source "$REPO/bench/lib/upstream.sh"

if [[ ${1:-} == --summary ]]; then shift; summarize "$@"; exit 0; fi

for tool in wrk nginx curl taskset python3; do
  command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 1; }
done
[[ -x $BIN ]] || { echo "no turnout binary at $BIN (TURNOUT_BIN)" >&2; exit 1; }

# --- the baseline binary: BASE_BIN, or commit BASE_COMMIT built Release once into BASE_CACHE ---
if [[ -z $BASE_BIN ]]; then
  want=$(git -C "$REPO" rev-parse --verify "$BASE_COMMIT^{commit}")
  if [[ ! -x $BASE_CACHE/build/turnout || $(cat "$BASE_CACHE/built-commit" 2>/dev/null) != "$want" ]]; then
    for tool in git cmake ninja tar; do
      command -v "$tool" >/dev/null || { echo "missing: $tool (to build the baseline)" >&2; exit 1; }
    done
    echo "building the baseline: $BASE_COMMIT -> $BASE_CACHE (log: $BASE_CACHE/build.log)"
    rm -rf "$BASE_CACHE"
    mkdir -p "$BASE_CACHE/src"
    git -C "$REPO" archive "$want" | tar -x -C "$BASE_CACHE/src"
    timeout "$BUILD_TIMEOUT_S" bash -c '
      cmake -S "$1/src" -B "$1/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTURNOUT_TESTS=OFF \
        -DTURNOUT_BENCH=OFF && ninja -j2 -C "$1/build" turnout' _ "$BASE_CACHE" \
      >"$BASE_CACHE/build.log" 2>&1 || { tail -20 "$BASE_CACHE/build.log" >&2; exit 1; }
    echo "$want" >"$BASE_CACHE/built-commit"  # written last: the cache is complete
  fi
  BASE_BIN=$BASE_CACHE/build/turnout
  BASE_DESC="$BASE_COMMIT (built in $BASE_CACHE)"
else
  BASE_DESC="BASE_BIN=$BASE_BIN"
fi
[[ -x $BASE_BIN ]] || { echo "no baseline binary at $BASE_BIN" >&2; exit 1; }

RUN=$(mktemp -d /tmp/turnout-observe.XXXXXX)
NGINX_PID=""
declare -A PID=()
stop() {  # by pid only: SIGTERM, then SIGKILL
  local pid
  for pid in "${PID[@]}" "$NGINX_PID"; do [[ -n $pid ]] && kill -TERM "$pid" 2>/dev/null || true; done
  sleep 0.5
  for pid in "${PID[@]}" "$NGINX_PID"; do [[ -n $pid ]] && kill -KILL "$pid" 2>/dev/null || true; done
  rm -rf "$RUN"
}
trap stop EXIT
trap 'exit 130' INT TERM
START_S=$SECONDS

read -r -a variant_list <<<"$VARIANTS"
n=${#variant_list[@]}
# Rough duration: warm-up, sanity, rounds (wrk + settle + bookkeeping ~0.5 s per run).
estimate=$(python3 -c "print(int(5 + $n * $WARMUP + $ROUNDS * $n * ($DURATION + $SETTLE + 0.5)))")
echo "planned: $ROUNDS rounds x $n variants x ${DURATION}s, about ${estimate}s (bound ${MAX_TOTAL_S}s)"
(( estimate <= MAX_TOTAL_S )) || { echo "the plan exceeds MAX_TOTAL_S" >&2; exit 1; }

# The binaries are copied first, so a rebuild during the run cannot swap them.
cp "$BASE_BIN" "$RUN/turnout-base"
cp "$BIN" "$RUN/turnout-current"
BASE_SHA=$(sha256sum "$RUN/turnout-base" | cut -c1-16)
CUR_SHA=$(sha256sum "$RUN/turnout-current" | cut -c1-16)
LOG_FILE=$RUN/access.log
LOG_FS=$(df --output=fstype "$RUN" | tail -1)
LOG_DEV=$(df --output=source "$RUN" | tail -1)
echo "base: $BASE_DESC sha256 $BASE_SHA; current: $BIN sha256 $CUR_SHA"
echo "access log: $LOG_FILE ($LOG_FS on $LOG_DEV)"

# 2 upstream ports, then a data and an admin port per variant.
read -r -a PORTS < <(python3 -c '
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])
for s in socks: s.close()' $((2 + 2 * n)))
P_V1=${PORTS[0]}; P_V2=${PORTS[1]}

# Upstream: one nginx worker answering a fixed 200 (as bench/policy), pinned to LOAD_CPU.
start_nginx_upstream "$RUN" "$LOAD_CPU" "$P_V1" "$P_V2"

# The same plain route for every variant (bench/policy's `plain`).
cat >"$RUN/config.yaml" <<EOF
services:
  - name: hello
    endpoints: [{address: "127.0.0.1:$P_V1", version: v1}, {address: "127.0.0.1:$P_V2", version: v2}]
routes:
  - id: plain
    match: {path_prefix: /plain/}
    split: [{service: hello, version: v1}]
EOF

declare -A DATA=() ADMIN=()
for ((i = 0; i < n; i++)); do
  v=${variant_list[$i]}
  DATA[$v]=${PORTS[$((2 + 2 * i))]}
  ADMIN[$v]=${PORTS[$((3 + 2 * i))]}
  args=()
  case $v in
    base) bin=$RUN/turnout-base ;;
    metrics) bin=$RUN/turnout-current ;;
    metrics+log) bin=$RUN/turnout-current; args=(--access-log "$LOG_FILE") ;;
    *) echo "unknown variant $v" >&2; exit 1 ;;
  esac
  mkdir -p "$RUN/data-$i"
  taskset -c "$TURNOUT_CPU" "$bin" run --config "$RUN/config.yaml" --data-dir "$RUN/data-$i" \
    --admin "127.0.0.1:${ADMIN[$v]}" --listen "127.0.0.1:${DATA[$v]}" --workers 1 "${args[@]}" \
    >"$RUN/turnout-$i.log" 2>&1 &
  PID[$v]=$!
done

# Same request as bench/policy's `plain`: path, bench/lib's COMMON_HEADERS, the sticky Cookie.
REQ_PATH=/plain/items/42
COMMON_HEADERS+=(-H "Cookie: session=0123456789abcdef; version=v1; theme=dark")

for v in "${variant_list[@]}"; do
  for _ in $(seq 100); do
    curl -s -o /dev/null --max-time 1 "http://127.0.0.1:${DATA[$v]}/plain/" && break
    kill -0 "${PID[$v]}" 2>/dev/null || { cat "$RUN"/turnout-*.log >&2; exit 1; }
    sleep 0.1
  done
done

# Sum of a metric's samples on a variant's /metrics (0 when absent).
metric_sum() {  # metric_sum VARIANT NAME [LABEL-FILTER]
  curl -s --max-time 5 "http://127.0.0.1:${ADMIN[$1]}/metrics" | awk -v name="$2" -v filt="${3:-}" '
    { m = $1; sub(/[{].*/, "", m) } m == name && index($1, filt) { s += $NF } END { printf "%.0f\n", s }'
}
log_lines() { [[ -f $LOG_FILE ]] && wc -l <"$LOG_FILE" || echo 0; }

# --- sanity: 200 from v1 on every variant; a burst of SANITY_N requests is counted exactly ---
for v in "${variant_list[@]}"; do
  status=$(curl -s -o "$RUN/body" -w '%{http_code}' --max-time 2 "${COMMON_HEADERS[@]}" \
    "http://127.0.0.1:${DATA[$v]}$REQ_PATH")
  body=$(cat "$RUN/body")
  echo "check $v: status $status, body '$body'"
  [[ $status == 200 && $body == "hello $P_V1" ]] || { echo "unexpected answer from $v" >&2; exit 1; }
done
sleep 0.5  # the log writer flushes the checks' lines
for v in "${variant_list[@]}"; do
  c0=$(metric_sum "$v" turnout_requests_total); l0=$(log_lines)
  # SANITY_N requests on one keep-alive connection (curl's URL range), each answered 200.
  ok=$(curl -s -o /dev/null -w '%{http_code}\n' --max-time 60 "${COMMON_HEADERS[@]}" \
    "http://127.0.0.1:${DATA[$v]}/plain/items/[1-$SANITY_N]" | grep -c '^200$' || true)
  [[ $ok == "$SANITY_N" ]] || { echo "$v: $ok of $SANITY_N answered 200" >&2; exit 1; }
  sleep 0.5
  c1=$(metric_sum "$v" turnout_requests_total); l1=$(log_lines)
  for _ in $(seq 20); do  # the writer thread may lag: wait up to 2 s more for the file
    [[ $v == metrics+log && $((l1 - l0)) -lt $SANITY_N ]] || break
    sleep 0.1; l1=$(log_lines)
  done
  echo "sanity $v: $SANITY_N requests answered 200; /metrics turnout_requests_total +$((c1 - c0)); access log +$((l1 - l0)) lines"
  case $v in
    base) ;;  # informational: the baseline does not count requests
    metrics) [[ $((c1 - c0)) == "$SANITY_N" && $((l1 - l0)) == 0 ]] || { echo "metrics: not counted exactly" >&2; exit 1; } ;;
    metrics+log)
      [[ $((c1 - c0)) == "$SANITY_N" && $((l1 - l0)) == "$SANITY_N" ]] || { echo "metrics+log: not counted / logged exactly" >&2; exit 1; }
      tail -1 "$LOG_FILE" | python3 -c '
import json, sys
line = json.loads(sys.stdin.read())
assert line["status"] == 200 and line["route"] == "plain", line
print("last log line (%d bytes): %s" % (len(json.dumps(line)), json.dumps(line)))' ;;
  esac
done


# One wrk run on a variant; prints: requests non2xx errors utime_ticks stime_ticks
run_wrk() {
  local v=$1 secs=$2 u0 s0 u1 s1 out req non2xx errs
  read -r u0 s0 < <(cpu_ticks "${PID[$v]}")
  out=$(taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d"${secs}s" --timeout 5s "${COMMON_HEADERS[@]}" \
    "http://127.0.0.1:${DATA[$v]}$REQ_PATH")
  sleep "$SETTLE"  # the log writer's last batch lands in this window
  read -r u1 s1 < <(cpu_ticks "${PID[$v]}")
  req=$(awk '/requests in/ {print $1}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out"); non2xx=${non2xx:-0}
  errs=$(awk '/Socket errors/ {gsub(",", ""); print $4 + $6 + $8 + $10}' <<<"$out"); errs=${errs:-0}
  echo "$req $non2xx $errs $((u1 - u0)) $((s1 - s0))"
}

echo "warm-up: ${WARMUP}s per variant"
for v in "${variant_list[@]}"; do run_wrk "$v" "$WARMUP" >/dev/null; done

# Counters read after each run (outside every measurement window): requests counted by /metrics,
# access log lines written and dropped (turnout_access_log_lines_total).
declare -A COUNTED=() WRITTEN=() DROPPED=()
for v in "${variant_list[@]}"; do
  COUNTED[$v]=$(metric_sum "$v" turnout_requests_total)
  WRITTEN[$v]=$(metric_sum "$v" turnout_access_log_lines_total 'result="written"')
  DROPPED[$v]=$(metric_sum "$v" turnout_access_log_lines_total 'result="dropped"')
done

{
  echo "# base=$BASE_COMMIT base_sha256=$BASE_SHA bin_sha256=$CUR_SHA rounds=$ROUNDS duration=$DURATION settle=$SETTLE conns=$CONNS turnout_cpu=$TURNOUT_CPU load_cpu=$LOAD_CPU clk_tck=$(getconf CLK_TCK) nproc=$(nproc) kernel=$(uname -r) log_fs=$LOG_FS start=$(date -u +%FT%TZ)"
  echo -e "round\tvariant\trequests\tnon2xx\terrors\tutime_ticks\tstime_ticks\tloadavg\tcounted\tlogged\tdropped"
} >"$OUT"
status=0
for ((r = 1; r <= ROUNDS && status == 0; r++)); do
  for ((k = 0; k < n; k++)); do
    if (( SECONDS - START_S + DURATION + 2 > MAX_TOTAL_S )); then
      echo "time bound reached in round $r: summarizing the rounds done" >&2; status=2; break
    fi
    v=${variant_list[$(((k + r - 1) % n))]}  # rotate the order each round
    read -r req non2xx errs uticks sticks < <(run_wrk "$v" "$DURATION")
    load=$(cut -d' ' -f1 /proc/loadavg)
    c=$(metric_sum "$v" turnout_requests_total)
    w=$(metric_sum "$v" turnout_access_log_lines_total 'result="written"')
    d=$(metric_sum "$v" turnout_access_log_lines_total 'result="dropped"')
    counted=-; logged=-; dropped=-
    [[ $v == base ]] || counted=$((c - ${COUNTED[$v]}))
    [[ $v == metrics+log ]] && { logged=$((w - ${WRITTEN[$v]})); dropped=$((d - ${DROPPED[$v]})); }
    COUNTED[$v]=$c; WRITTEN[$v]=$w; DROPPED[$v]=$d
    echo -e "$r\t$v\t$req\t$non2xx\t$errs\t$uticks\t$sticks\t$load\t$counted\t$logged\t$dropped" | tee -a "$OUT"
  done
done
for v in "${variant_list[@]}"; do
  kill -0 "${PID[$v]}" 2>/dev/null || { echo "turnout $v died" >&2; cat "$RUN"/turnout-*.log >&2; exit 1; }
done
echo "access log: $(log_lines) lines, $(stat -c %s "$LOG_FILE" 2>/dev/null || echo 0) bytes on $LOG_FS"
echo "raw rounds: $OUT"

summarize "$OUT"
exit "$status"
