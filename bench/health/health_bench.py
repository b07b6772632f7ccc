#!/usr/bin/python3
"""CPU of active health checking at scale (issue 8, item 7).

turnout checks --endpoints loopback HTTP endpoints (default 10,000: --addresses addresses
127.0.1.1.. times ports from --first-port, each bound explicitly, served by one nginx worker with
one `listen` line per endpoint) at the default interval (2 s), with no traffic. The script
measures turnout's CPU (utime + stime from /proc/PID/stat, and its turnout-health thread's
alone) over --seconds, the checks per second (from turnout_health_checks_total) and RSS, then the
same turnout and endpoints without health checks as the idle baseline.

Python 3 standard library only; loopback only; every process is started here (temp prefix and
--data-dir) and stopped by pid at the end, on error and on Ctrl-C; every wait is bounded.
"""
import argparse
import hashlib
import json
import os
import re
import shutil
import signal
import statistics
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--bin", default="/tmp/build-health/turnout", help="turnout binary")
    p.add_argument("--nginx", default="/usr/sbin/nginx")
    p.add_argument("--endpoints", type=int, default=10000)
    p.add_argument("--addresses", type=int, default=10, help="127.0.1.1 .. 127.0.1.N")
    p.add_argument("--first-port", type=int, default=21000,
                   help="ports first-port .. first-port + endpoints/addresses - 1 (below the "
                        "ephemeral range)")
    p.add_argument("--services", type=int, default=100, help="endpoints are split over them")
    p.add_argument("--interval-ms", type=int, default=2000)
    p.add_argument("--timeout-ms", type=int, default=1000)
    p.add_argument("--seconds", type=float, default=60.0, help="measurement window")
    p.add_argument("--warmup", type=float, default=6.0, help="after start, before measuring")
    p.add_argument("--runs", type=int, default=1, help="measurement windows with checks")
    p.add_argument("--no-baseline", action="store_true", help="skip the run without checks")
    p.add_argument("--log-level", default="warn", help="turnout's (info shows check transitions)")
    p.add_argument("--keep", help="work in this directory and keep it (logs, configs)")
    p.add_argument("--out", help="JSON results file (default bench/health/results/...)")
    return p.parse_args()


def endpoints_of(args):
    per_address = -(-args.endpoints // args.addresses)
    assert args.first_port + per_address <= 32768, "ports would reach the ephemeral range"
    out = []
    for i in range(args.endpoints):
        out.append(f"127.0.1.{1 + i // per_address}:{args.first_port + i % per_address}")
    return out


def nginx_conf(prefix: Path, endpoints) -> str:
    listens = "\n".join(f"        listen {e} backlog=64;" for e in endpoints)
    return f"""worker_processes 1;
worker_rlimit_nofile {len(endpoints) + 4096};
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections {len(endpoints) + 2048}; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    server {{
{listens}
        location = /healthz {{ return 200 "ok\\n"; }}
        location / {{ return 404; }}
    }}
}}
"""


def turnout_conf(args, endpoints, checked: bool) -> dict:
    per_service = -(-len(endpoints) // args.services)
    services = []
    for s in range(args.services):
        chunk = endpoints[s * per_service:(s + 1) * per_service]
        if not chunk:
            break
        svc = {"name": f"s{s}", "endpoints": [{"address": e} for e in chunk]}
        if checked:
            svc["health_check"] = {"type": "http", "path": "/healthz",
                                   "interval_ms": args.interval_ms,
                                   "timeout_ms": args.timeout_ms, "healthy": 2, "unhealthy": 3}
        services.append(svc)
    return {"services": services}


def cpu_split(pid: int, tid: int = None) -> tuple:
    """(utime, stime) in clock ticks: fields 14 and 15 of /proc/PID[/task/TID]/stat."""
    path = f"/proc/{pid}/task/{tid}/stat" if tid else f"/proc/{pid}/stat"
    fields = Path(path).read_text().rsplit(")", 1)[1].split()
    return int(fields[11]), int(fields[12])


def cpu_ticks(pid: int, tid: int = None) -> int:
    return sum(cpu_split(pid, tid))


def rss_kb(pid: int) -> int:
    m = re.search(r"VmRSS:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text())
    return int(m.group(1))


def thread_named(pid: int, name: str):
    for task in Path(f"/proc/{pid}/task").iterdir():
        if (task / "comm").read_text().strip() == name:
            return int(task.name)
    return None


def checks_total(admin: str) -> dict:
    text = urllib.request.urlopen(f"http://{admin}/metrics", timeout=10).read().decode()
    totals = {"success": 0, "failure": 0}
    for m in re.finditer(r'^turnout_health_checks_total\{[^}]*result="(\w+)"\} (\d+)$', text,
                         re.M):
        totals[m.group(1)] += int(m.group(2))
    return totals


def something_listens(address: str) -> bool:
    host, port = address.rsplit(":", 1)
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex((host, int(port))) == 0


def wait_listening(address: str, nginx, limit_s: float = 30):
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline and nginx.poll() is None:
        if something_listens(address):
            return
        time.sleep(0.1)
    raise SystemExit(f"nginx is not listening on {address} after {limit_s} s")


def start_turnout(args, workdir: Path, config: dict):
    conf = workdir / "turnout.json"
    conf.write_text(json.dumps(config))  # JSON is YAML
    data = workdir / "data"
    if data.exists():
        subprocess.run(["rm", "-rf", str(data)], check=True)
    proc = subprocess.Popen(
        [args.bin, "run", "--config", str(conf), "--listen", "127.0.0.1:0", "--admin",
         "127.0.0.1:0", "--workers", "1", "--data-dir", str(data), "--log-level", args.log_level],
        stdout=subprocess.PIPE, stderr=open(workdir / "turnout.err", "ab"), text=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if event.get("event") == "listening":
            return proc, event["admin"]
    stop(proc)
    raise SystemExit(f"turnout did not start; see {workdir / 'turnout.err'}")


def stop(proc):
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


def nginx_ticks(master: int) -> int:
    """CPU ticks of nginx's master and its workers (the children of the master)."""
    pids = [master]
    for task in Path(f"/proc/{master}/task").iterdir():
        pids += [int(p) for p in (task / "children").read_text().split()]
    return sum(cpu_ticks(pid) for pid in pids)


def measure(args, proc, admin: str, checked: bool, nginx_pid: int) -> dict:
    time.sleep(args.warmup)
    tid = thread_named(proc.pid, "turnout-health")
    before = checks_total(admin) if checked else None
    t0, (u0, s0) = time.monotonic(), cpu_split(proc.pid)
    h0 = cpu_ticks(proc.pid, tid) if tid else 0
    n0 = nginx_ticks(nginx_pid)
    time.sleep(args.seconds)
    t1, (u1, s1) = time.monotonic(), cpu_split(proc.pid)
    h1 = cpu_ticks(proc.pid, tid) if tid else 0
    n1 = nginx_ticks(nginx_pid)
    wall = t1 - t0
    c0, c1 = u0 + s0, u1 + s1
    result = {"wall_s": round(wall, 3),
              "cpu_percent_of_one_core": round(100 * (c1 - c0) / CLK_TCK / wall, 2),
              "user_percent": round(100 * (u1 - u0) / CLK_TCK / wall, 2),
              "system_percent": round(100 * (s1 - s0) / CLK_TCK / wall, 2),
              "health_thread_cpu_percent": round(100 * (h1 - h0) / CLK_TCK / wall, 2),
              "rss_kb": rss_kb(proc.pid),
              "nginx_cpu_percent": round(100 * (n1 - n0) / CLK_TCK / wall, 2)}
    if checked:
        after = checks_total(admin)
        done = sum(after.values()) - sum(before.values())
        result["checks_per_s"] = round(done / wall, 1)
        result["failed_checks"] = after["failure"] - before["failure"]
        result["cpu_us_per_check"] = round((c1 - c0) / CLK_TCK * 1e6 / max(done, 1), 2)
    return result


def main():
    args = parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # through the finally: stop by pid
    endpoints = endpoints_of(args)
    results = {"endpoints": len(endpoints), "services": args.services,
               "interval_ms": args.interval_ms, "seconds": args.seconds, "bin": args.bin,
               "loadavg_before": Path("/proc/loadavg").read_text().split()[:3]}
    nginx = turnout = None
    with tempfile.TemporaryDirectory(prefix="turnout-health-bench-") as tmp:
        workdir = Path(args.keep) if args.keep else Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        for sub in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (workdir / sub).mkdir()
        (workdir / "nginx.conf").write_text(nginx_conf(workdir, endpoints))
        # A copy: a rebuild during the run cannot swap the binary under test.
        binary = workdir / "turnout"
        shutil.copy2(args.bin, binary)
        results["sha256"] = hashlib.sha256(binary.read_bytes()).hexdigest()
        args.bin = str(binary)
        if something_listens(endpoints[0]) or something_listens(endpoints[-1]):
            raise SystemExit(f"something already listens on {endpoints[0]} or {endpoints[-1]}")
        try:
            nginx = subprocess.Popen([args.nginx, "-p", str(workdir), "-c",
                                      str(workdir / "nginx.conf"), "-e",
                                      str(workdir / "error.log"), "-g", "daemon off;"])
            wait_listening(endpoints[-1], nginx)
            if nginx.poll() is not None or "[emerg]" in (workdir / "error.log").read_text():
                raise SystemExit("nginx did not start cleanly:\n" +
                                 (workdir / "error.log").read_text()[-2000:])
            plan = [("checked", True)] * args.runs + ([] if args.no_baseline else
                                                      [("baseline", False)])
            for key, checked in plan:
                turnout, admin = start_turnout(args, workdir,
                                               turnout_conf(args, endpoints, checked))
                result = measure(args, turnout, admin, checked, nginx.pid)
                results.setdefault(key, []).append(result)
                print(key, json.dumps(result), flush=True)
                stop(turnout)
                turnout = None
        finally:
            stop(turnout)
            stop(nginx)
    for key in ("checked", "baseline"):
        runs = results.get(key, [])
        if runs:
            results[key + "_median"] = {name: statistics.median(run[name] for run in runs)
                                        for name in runs[0]}
            print(key, "median of", len(runs), json.dumps(results[key + "_median"]))
    out = Path(args.out) if args.out else (
        Path(__file__).resolve().parent / "results" /
        time.strftime("health-%Y%m%d-%H%M%S.json"))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"results in {out}")


if __name__ == "__main__":
    sys.exit(main())
