#!/usr/bin/python3
"""Admin API benchmarks for turnout (issue 4, item 8; DESIGN section 4 budgets).

Phases (--phases, default apply,bulk,mem):
  apply  300 single changes with 10,000 routes + 10,000 services loaded: API round trip (client side),
         the server's apply_us {compile, commit, publish}, and first effect seen by keep-alive clients
         on the data port (time from sending the PUT to the first proxied response from the new backend).
  bulk   PUT /v1/config with 10,000 routes + 10,000 services, fresh data dir each run.
  mem    VmRSS of a fresh turnout, with 10k routes + 10k services (1 endpoint each), and with
         10k routes + 10k services of 10 endpoints each (100,000 endpoints); bytes per object.

Python 3 standard library only; loopback only; every loop is bounded in count and time; the script
starts its own turnout and backend processes (temp --data-dir) and always stops them (by pid).
"""
import argparse
import hashlib
import http.client
import json
import os
import selectors
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HOST = "127.0.0.1"
CHILDREN = []          # Popen objects started here, stopped at exit
DEADLINE = [0.0]       # global wall-clock bound (monotonic)


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def check_deadline(what):
    if time.monotonic() > DEADLINE[0]:
        raise TimeoutError(f"global time bound reached during {what}")


# ---------------------------------------------------------------------------------------------
# processes

def stop(p, grace=5.0):
    """Stop one child we started: SIGTERM, then SIGKILL after `grace` s."""
    if p.poll() is not None:
        return
    try:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait(timeout=5)
    except ProcessLookupError:
        pass


def stop_all():
    while CHILDREN:
        p = CHILDREN.pop()
        try:
            stop(p)
        except Exception as e:  # noqa: BLE001
            log(f"stop pid {p.pid}: {e!r}")


def _on_signal(signum, _frame):
    stop_all()
    sys.exit(128 + signum)


BACKEND_SRC = r"""
import http.server, os, socket, sys, threading
name = sys.argv[1].encode(); life = float(sys.argv[2])
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    resp = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n" % len(name)) + name
    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    def do_GET(self):
        # one write, TCP_NODELAY: no Nagle + delayed-ACK stall between headers and body
        self.wfile.write(self.resp)
    def log_message(self, *a):
        pass
class S(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
s = S(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
threading.Timer(life, lambda: os._exit(0)).start()   # never outlive the benchmark
s.serve_forever()
"""


def start_backend(name, life_s):
    p = subprocess.Popen([sys.executable, "-c", BACKEND_SRC, name, str(life_s)],
                         stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
    CHILDREN.append(p)
    sel = selectors.DefaultSelector()
    sel.register(p.stdout, selectors.EVENT_READ)
    if not sel.select(timeout=10):
        raise RuntimeError(f"backend {name} did not start")
    port = int(p.stdout.readline())
    return p, port


class Turnout:
    """One turnout process on ephemeral ports, with its own data dir."""

    def __init__(self, binary, data_dir, workers, log_path):
        self.data_dir = data_dir
        os.makedirs(data_dir, exist_ok=True)
        self.log_path = log_path
        self.logf = open(log_path, "ab")
        self.p = subprocess.Popen([binary, "run", "--listen", f"{HOST}:0", "--admin", f"{HOST}:0",
                                   "--workers", str(workers), "--data-dir", data_dir, "--log-level", "warn"],
                                  stdout=self.logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        CHILDREN.append(self.p)
        self.data_port = self.admin_port = None
        t_end = time.monotonic() + 20
        while time.monotonic() < t_end:
            if self.p.poll() is not None:
                raise RuntimeError(f"turnout exited with {self.p.returncode}; see {log_path}")
            with open(log_path, "rb") as f:
                for line in f.read().decode(errors="replace").splitlines():
                    if line.startswith("{") and '"listening"' in line:
                        ev = json.loads(line)
                        self.data_port = int(ev["data"][0].rsplit(":", 1)[1])
                        self.admin_port = int(ev["admin"].rsplit(":", 1)[1])
            if self.admin_port:
                break
            time.sleep(0.02)
        if not self.admin_port:
            raise RuntimeError("turnout did not print its listening line within 20 s")
        for _ in range(200):   # readyz, bounded
            st, _, _ = self.req("GET", "/readyz")
            if st == 200:
                break
            time.sleep(0.05)

    @property
    def pid(self):
        return self.p.pid

    def req(self, method, path, body=None, timeout=30.0):
        """One admin call on a new connection (the admin listener closes after each answer).
        Returns (status, parsed JSON or text, seconds for the whole round trip incl. connect)."""
        data = None
        hdrs = {}
        if body is not None:
            data = body if isinstance(body, (bytes, bytearray)) else json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        t0 = time.perf_counter()
        c = http.client.HTTPConnection(HOST, self.admin_port, timeout=timeout)
        try:
            c.request(method, path, body=data, headers=hdrs)
            r = c.getresponse()
            raw = r.read()
            dt = time.perf_counter() - t0
        finally:
            c.close()
        try:
            obj = json.loads(raw)
        except ValueError:
            obj = raw.decode(errors="replace")
        return r.status, obj, dt

    def rss(self):
        return read_status(self.pid)

    def close(self):
        stop(self.p)
        if self.p in CHILDREN:
            CHILDREN.remove(self.p)
        self.logf.close()


def read_status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "RssAnon", "RssFile", "RssShmem", "VmHWM", "Threads"):
                out[k] = int(v.split()[0]) * (1024 if "kB" in v else 1)
    return out


def settle_rss(t, max_s=5.0):
    """VmRSS once it stopped moving (two equal samples 0.5 s apart), bounded by max_s."""
    prev = t.rss()
    t_end = time.monotonic() + max_s
    while time.monotonic() < t_end:
        time.sleep(0.5)
        cur = t.rss()
        if abs(cur["VmRSS"] - prev["VmRSS"]) <= 4096:
            return cur
        prev = cur
    return prev


# ---------------------------------------------------------------------------------------------
# configuration

def make_config(n_routes, n_services, endpoints_per_service, backend_port, extra_services=()):
    services = []
    for i in range(n_services):
        if endpoints_per_service == 1:
            eps = [{"address": f"{HOST}:{backend_port}", "weight": 1}]
        else:
            eps = [{"address": f"{HOST}:{20000 + j}", "weight": 1} for j in range(endpoints_per_service)]
        services.append({"name": f"s{i}", "endpoints": eps})
    services.extend(extra_services)
    routes = [{"id": f"r{i}", "match": {"host": f"r{i}.example.com"},
               "split": [{"service": f"s{i % n_services}", "weight": 100}]} for i in range(n_routes)]
    return {"services": services, "routes": routes}


# ---------------------------------------------------------------------------------------------
# statistics

def pct(xs, p):
    if not xs:
        return None
    s = sorted(xs)
    k = max(0, min(len(s) - 1, int(round(p / 100.0 * len(s) + 0.5)) - 1))  # nearest rank
    return s[k]


def summ(xs):
    if not xs:
        return {"n": 0}
    return {"n": len(xs), "p50": pct(xs, 50), "p99": pct(xs, 99), "max": max(xs), "min": min(xs),
            "mean": statistics.fmean(xs)}


def med_spread(vals):
    vals = [v for v in vals if v is not None]
    if not vals:
        return None
    return {"median": statistics.median(vals), "min": min(vals), "max": max(vals), "runs": vals}


# ---------------------------------------------------------------------------------------------
# keep-alive prober on the data port

class Prober(threading.Thread):
    """N keep-alive connections on one selector loop, each sending GET / with the current Host back to
    back. Records (t_send, t_recv, body) per connection for the current epoch."""

    def __init__(self, port, nconns, max_s):
        super().__init__(daemon=True)
        self.port, self.nconns, self.max_s = port, nconns, max_s
        self.lock = threading.Lock()
        self.host = None
        self.epoch = 0
        self.events = [[] for _ in range(nconns)]   # per conn: (epoch, t_send, t_recv, status, body)
        self.errors = []
        self.stop_ev = threading.Event()
        self.requests = 0

    def set_host(self, host):
        with self.lock:
            self.host = host
            self.epoch += 1
            self.events = [[] for _ in range(self.nconns)]

    def snapshot(self):
        with self.lock:
            return self.epoch, [list(e) for e in self.events]

    def run(self):
        sel = selectors.DefaultSelector()
        conns = []
        for k in range(self.nconns):
            s = socket.create_connection((HOST, self.port), timeout=5)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            s.setblocking(False)
            st = {"k": k, "s": s, "buf": b"", "t_send": 0.0, "epoch": 0, "busy": False}
            conns.append(st)
            sel.register(s, selectors.EVENT_READ, st)
        t_end = time.monotonic() + self.max_s
        try:
            while not self.stop_ev.is_set() and time.monotonic() < t_end:
                with self.lock:
                    host, epoch = self.host, self.epoch
                if host is None:
                    time.sleep(0.001)
                    continue
                for st in conns:
                    if not st["busy"]:
                        st["epoch"] = epoch
                        st["t_send"] = time.perf_counter()
                        st["s"].sendall(f"GET / HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
                        st["busy"] = True
                for key, _ in sel.select(timeout=0.05):
                    st = key.data
                    try:
                        chunk = st["s"].recv(65536)
                    except BlockingIOError:
                        continue
                    if not chunk:
                        raise ConnectionError(f"data connection {st['k']} closed by turnout")
                    st["buf"] += chunk
                    head, sep, rest = st["buf"].partition(b"\r\n\r\n")
                    if not sep:
                        continue
                    lines = head.split(b"\r\n")
                    status = int(lines[0].split()[1])
                    clen = 0
                    for ln in lines[1:]:
                        if ln.lower().startswith(b"content-length:"):
                            clen = int(ln.split(b":", 1)[1])
                    if len(rest) < clen:
                        continue
                    t_recv = time.perf_counter()
                    body, st["buf"] = rest[:clen], rest[clen:]
                    st["busy"] = False
                    self.requests += 1
                    with self.lock:
                        if st["epoch"] == self.epoch:
                            self.events[st["k"]].append((st["epoch"], st["t_send"], t_recv, status,
                                                         body.decode(errors="replace")[:40]))
        except Exception as e:  # noqa: BLE001
            self.errors.append(repr(e))
        finally:
            for st in conns:
                st["s"].close()


# ---------------------------------------------------------------------------------------------
# phases

def phase_apply(a, tmp, binary, run_no):
    """300 single changes (alternating route / endpoints), 10k routes + 10k services loaded."""
    life = a.max_total_s + 60
    _, port_a = start_backend("A", life)
    _, port_b = start_backend("B", life)
    t = Turnout(binary, os.path.join(tmp, f"apply{run_no}"), a.workers, os.path.join(tmp, f"apply{run_no}.log"))
    prober = None
    try:
        extra = [{"name": "sB", "endpoints": [{"address": f"{HOST}:{port_b}", "weight": 1}]},
                 {"name": "sA", "endpoints": [{"address": f"{HOST}:{port_a}", "weight": 1}]}]
        cfg = make_config(a.routes, a.routes, 1, port_a, extra)
        st, ans, dt = t.req("PUT", "/v1/config", cfg)
        if st != 200:
            raise RuntimeError(f"PUT /v1/config: {st} {str(ans)[:300]}")
        log(f"apply run {run_no}: loaded {a.routes} routes + {a.routes + 2} services in {dt * 1e3:.1f} ms")
        prober = Prober(t.data_port, a.probe_conns, a.max_total_s)
        prober.start()
        recs = []
        stale_after_answer = 0
        bad_status = 0
        t_phase_end = time.monotonic() + a.phase_max_s
        for j in range(a.changes):
            check_deadline("apply")
            if time.monotonic() > t_phase_end:
                log(f"apply run {run_no}: phase time bound reached after {j} changes")
                break
            i = j * (a.routes // max(1, a.changes)) % a.routes   # spread over the table
            kind = "route" if j % 2 == 0 else "endpoints"
            host = f"r{i}.example.com"
            prober.set_host(host)
            # baseline: every connection answered by backend A for this host (bounded)
            t_b = time.monotonic() + 3
            while time.monotonic() < t_b:
                _, ev = prober.snapshot()
                if all(any(e[4] == "A" for e in evs) for evs in ev):
                    break
                time.sleep(0.0005)
            else:
                raise RuntimeError(f"change {j}: no baseline response from A on every connection "
                                   f"({prober.errors or [len(e) for e in prober.snapshot()[1]]})")
            if kind == "route":
                # the split moves all weight from s<i> (backend A) to sB (backend B); weight varies
                w = 1 + j % 100
                body = {"match": {"host": host}, "split": [{"service": f"s{i}", "weight": 0},
                                                          {"service": "sB", "weight": w}]}
                path = f"/v1/routes/r{i}"
            else:
                body = [{"address": f"{HOST}:{port_b}", "weight": 2 + j % 100}]
                path = f"/v1/services/s{i}/endpoints"
            t0 = time.perf_counter()
            st, ans, dt = t.req("PUT", path, body)
            t1 = time.perf_counter()
            if st != 200:
                raise RuntimeError(f"change {j} {path}: {st} {str(ans)[:300]}")
            # wait until every connection saw B (bounded)
            t_w = time.monotonic() + 3
            while time.monotonic() < t_w:
                _, ev = prober.snapshot()
                if all(any(e[4] == "B" and e[2] >= t0 for e in evs) for evs in ev):
                    break
                time.sleep(0.0005)
            _, ev = prober.snapshot()
            firsts = []
            for evs in ev:
                fb = [e[2] for e in evs if e[4] == "B" and e[2] >= t0]
                firsts.append((min(fb) - t0) if fb else None)
                stale_after_answer += sum(1 for e in evs if e[1] > t1 and e[4] == "A")
                bad_status += sum(1 for e in evs if e[3] != 200)
            au = ans.get("apply_us", {})
            recs.append({"j": j, "kind": kind, "rt_us": dt * 1e6, "compile": au.get("compile"),
                         "commit": au.get("commit"), "publish": au.get("publish"),
                         "first_any_us": min(f for f in firsts if f is not None) * 1e6 if any(
                             f is not None for f in firsts) else None,
                         "first_all_us": max(firsts) * 1e6 if all(f is not None for f in firsts) else None,
                         "answer_us": (t1 - t0) * 1e6,
                         "other_us": dt * 1e6 - sum(au.get(k, 0) for k in ("compile", "commit", "publish"))})
            # restore? no: each change uses a fresh route/service index
        prober.stop_ev.set()
        prober.join(timeout=5)

        def col(k, kind=None):
            return [r[k] for r in recs if r[k] is not None and (kind is None or r["kind"] == kind)]
        res = {"changes": len(recs), "probe_conns": a.probe_conns, "probe_requests": prober.requests,
               "probe_errors": prober.errors, "stale_after_answer": stale_after_answer,
               "non_200": bad_status,
               "missing_first_effect": sum(1 for r in recs if r["first_all_us"] is None)}
        for k in ("rt_us", "compile", "commit", "publish", "other_us", "first_any_us", "first_all_us"):
            res[k] = summ(col(k))
            res[k + "_route"] = summ(col(k, "route"))
            res[k + "_endpoints"] = summ(col(k, "endpoints"))
        res["records"] = recs
        return res
    finally:
        if prober:
            prober.stop_ev.set()
        t.close()
        stop_all()


def phase_bulk(a, tmp, binary, run_no):
    t = Turnout(binary, os.path.join(tmp, f"bulk{run_no}"), a.workers, os.path.join(tmp, f"bulk{run_no}.log"))
    try:
        cfg = make_config(a.routes, a.routes, 1, 9)
        body = json.dumps(cfg).encode()
        st, ans, dt = t.req("PUT", "/v1/config", body)
        if st != 200:
            raise RuntimeError(f"PUT /v1/config: {st} {str(ans)[:300]}")
        res = {"body_bytes": len(body), "rt_ms": dt * 1e3, "apply_us": ans.get("apply_us"),
               "revision": ans.get("revision")}
        st, cnt, _ = t.req("GET", "/v1/routes?limit=1")
        res["routes_total"] = cnt.get("total") if isinstance(cnt, dict) else None
        return res
    finally:
        t.close()


def phase_mem(a, tmp, binary, run_no):
    """Three fresh processes: empty, 10k+10k x1 endpoint, 10k+10k x10 endpoints.
    For the loaded ones also the RSS after a restart on the same store (loaded from SQLite at boot)."""
    out = {}
    for label, eps in (("empty", 0), ("x1", 1), ("x10", 10)):
        check_deadline("mem")
        d = os.path.join(tmp, f"mem{run_no}-{label}")
        t = Turnout(binary, d, a.workers, d + ".log")
        try:
            base = settle_rss(t)
            rec = {"fresh": base}
            if eps:
                cfg = make_config(a.routes, a.routes, eps, 9)
                st, ans, dt = t.req("PUT", "/v1/config", cfg)
                if st != 200:
                    raise RuntimeError(f"PUT /v1/config: {st} {str(ans)[:300]}")
                rec["load_ms"] = dt * 1e3
                rec["loaded"] = settle_rss(t)
            db = os.path.join(d, "turnout.db")
            rec["db_bytes"] = sum(os.path.getsize(p) for p in (db, db + "-wal") if os.path.exists(p))
        finally:
            t.close()
        if eps:   # restart on the same store
            t = Turnout(binary, d, a.workers, d + ".log2")
            try:
                rec["restarted"] = settle_rss(t)
            finally:
                t.close()
        out[label] = rec
    n = a.routes
    e, x1, x10 = out["empty"], out["x1"], out["x10"]
    out["derived"] = {
        "per_route_service_B_api": (x1["loaded"]["VmRSS"] - e["fresh"]["VmRSS"]) / n,
        "per_route_service_B_restart": (x1["restarted"]["VmRSS"] - e["fresh"]["VmRSS"]) / n,
        "per_endpoint_B_api": (x10["loaded"]["VmRSS"] - x1["loaded"]["VmRSS"]) / (9 * n),
        "per_endpoint_B_restart": (x10["restarted"]["VmRSS"] - x1["restarted"]["VmRSS"]) / (9 * n),
        # RssAnon only (heap): excludes the binary's and libraries' file pages
        "per_route_service_B_anon_api": (x1["loaded"]["RssAnon"] - e["fresh"]["RssAnon"]) / n,
        "per_endpoint_B_anon_api": (x10["loaded"]["RssAnon"] - x1["loaded"]["RssAnon"]) / (9 * n),
    }
    return out


# ---------------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default="/work/main/build/turnout")
    ap.add_argument("--phases", default="apply,bulk,mem")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--routes", type=int, default=10000, help="routes = services")
    ap.add_argument("--changes", type=int, default=300)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--probe-conns", type=int, default=8, help="keep-alive data connections of the prober")
    ap.add_argument("--phase-max-s", type=float, default=120, help="time bound of one apply run")
    ap.add_argument("--max-total-s", type=float, default=1200, help="time bound of the whole script")
    ap.add_argument("--out", default=None, help="JSON output file (default results/admin-<stamp>.json)")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (logs, stores)")
    a = ap.parse_args()
    if not (1 <= a.runs <= 10 and 1 <= a.routes <= 100000 and 1 <= a.changes <= 10000
            and 1 <= a.probe_conns <= 64 and a.max_total_s <= 7200):
        raise SystemExit("argument out of range")
    DEADLINE[0] = time.monotonic() + a.max_total_s
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)

    tmp = tempfile.mkdtemp(prefix="turnout-admin-bench-")
    # snapshot the binary: another build may relink build/turnout while we measure
    binary = os.path.join(tmp, "turnout")
    shutil.copy2(a.bin, binary)
    with open(binary, "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    out = {"started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "bin": a.bin, "bin_sha256": sha,
           "bin_mtime_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(os.path.getmtime(a.bin))),
           "args": vars(a), "loadavg_start": open("/proc/loadavg").read().split()[:3], "nproc": os.cpu_count()}
    log(f"binary {a.bin} sha256 {sha[:16]}, tmp {tmp}")
    try:
        for ph in a.phases.split(","):
            fn = {"apply": phase_apply, "bulk": phase_bulk, "mem": phase_mem}[ph]
            runs = []
            for r in range(a.runs):
                check_deadline(ph)
                log(f"phase {ph} run {r + 1}/{a.runs} (load {open('/proc/loadavg').read().split()[0]})")
                runs.append(fn(a, tmp, binary, r))
            out[ph] = {"runs": runs}
        out["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
        summarize(out)
    finally:
        stop_all()
        stamp = time.strftime("%Y%m%d-%H%M%S")
        path = a.out or os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", f"admin-{stamp}.json")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            json.dump(out, f, indent=1)
        log(f"wrote {path}")
        if not a.keep:
            shutil.rmtree(tmp, ignore_errors=True)


def summarize(out):
    L = []
    if "apply" in out:
        runs = out["apply"]["runs"]
        L.append(f"## apply: {runs[0]['changes']} single changes, {out['args']['routes']} routes + services, "
                 f"--workers {out['args']['workers']}, {runs[0]['probe_conns']} keep-alive probe connections")
        L.append("median of runs [min..max], us")
        L.append(f"{'metric':<34}{'p50':>22}{'p99':>22}{'max':>22}")
        rows = [("API round trip (client)", "rt_us"), ("apply_us.compile", "compile"),
                ("apply_us.commit (fsync incl.)", "commit"), ("apply_us.publish", "publish"),
                ("rt - sum(apply_us) (parse, I/O)", "other_us"),
                ("first effect, any probe conn", "first_any_us"), ("first effect, all probe conns", "first_all_us"),
                ("  route changes: first, all", "first_all_us_route"),
                ("  endpoint changes: first, all", "first_all_us_endpoints"),
                ("  route changes: publish", "publish_route"), ("  endpoint changes: publish", "publish_endpoints")]
        summary = {}
        for label, k in rows:
            cells = []
            for q in ("p50", "p99", "max"):
                ms = med_spread([r[k].get(q) for r in runs])
                summary.setdefault(k, {})[q] = ms
                cells.append(f"{ms['median']:.0f} [{ms['min']:.0f}..{ms['max']:.0f}]" if ms else "-")
            L.append(f"{label:<34}" + "".join(f"{c:>22}" for c in cells))
        L.append("stale responses after the answer (read-your-writes violations): "
                 + ", ".join(str(r["stale_after_answer"]) for r in runs)
                 + "; non-200: " + ", ".join(str(r["non_200"]) for r in runs)
                 + "; probe errors: " + ", ".join(str(len(r["probe_errors"])) for r in runs)
                 + "; missing first effect: " + ", ".join(str(r["missing_first_effect"]) for r in runs))
        out["apply"]["summary"] = summary
    if "bulk" in out:
        runs = out["bulk"]["runs"]
        L.append(f"## bulk: PUT /v1/config, {out['args']['routes']} routes + services, body {runs[0]['body_bytes']} B")
        for k, get in (("round trip ms", lambda r: r["rt_ms"]),
                       ("compile ms", lambda r: r["apply_us"]["compile"] / 1e3),
                       ("commit ms", lambda r: r["apply_us"]["commit"] / 1e3),
                       ("publish ms", lambda r: r["apply_us"]["publish"] / 1e3),
                       ("other ms (rt - sum)", lambda r: r["rt_ms"] - sum(r["apply_us"].values()) / 1e3)):
            ms = med_spread([get(r) for r in runs])
            out["bulk"].setdefault("summary", {})[k] = ms
            L.append(f"{k:<20} median {ms['median']:.1f} [{ms['min']:.1f}..{ms['max']:.1f}]  runs "
                     + " ".join(f"{v:.1f}" for v in ms["runs"]))
    if "mem" in out:
        runs = out["mem"]["runs"]
        L.append("## mem: VmRSS (KiB), median [min..max] of runs")
        for lab, key in (("fresh", ("empty", "fresh")), ("10k+10k x1 ep (API)", ("x1", "loaded")),
                         ("10k+10k x1 ep (restart)", ("x1", "restarted")), ("10k+10k x10 ep (API)", ("x10", "loaded")),
                         ("10k+10k x10 ep (restart)", ("x10", "restarted"))):
            ms = med_spread([r[key[0]][key[1]]["VmRSS"] / 1024 for r in runs])
            an = med_spread([r[key[0]][key[1]]["RssAnon"] / 1024 for r in runs])
            L.append(f"{lab:<28} VmRSS {ms['median']:.0f} [{ms['min']:.0f}..{ms['max']:.0f}]   "
                     f"RssAnon {an['median']:.0f} [{an['min']:.0f}..{an['max']:.0f}]")
        for k in runs[0]["derived"]:
            ms = med_spread([r["derived"][k] for r in runs])
            out["mem"].setdefault("summary", {})[k] = ms
            L.append(f"{k:<32} {ms['median']:.0f} B [{ms['min']:.0f}..{ms['max']:.0f}]")
        L.append("store size (db+wal): x1 " + ", ".join(str(r["x1"]["db_bytes"]) for r in runs)
                 + "; x10 " + ", ".join(str(r["x10"]["db_bytes"]) for r in runs))
    txt = "\n".join(L)
    out["table"] = txt
    print(txt, flush=True)


if __name__ == "__main__":
    main()
