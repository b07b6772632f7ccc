"""A real Prometheus (Debian's /usr/bin/prometheus) scrapes turnout's admin /metrics every second
with deploy/prometheus/alerts.yml loaded: after traffic with a known 5xx share and a known
latency distribution, PromQL gives that error ratio and a p95 in the right bucket, the target is
up, and TurnoutErrorRateHigh goes pending for the failing route only.

Skipped without /usr/bin/prometheus, unless TURNOUT_REQUIRE_BIN=1 (CI), which makes that a
failure. Loopback only; Prometheus runs on a free port with a temporary TSDB and is killed at
teardown (its log is printed when the test fails); every wait is bounded, the test < 60 s.
"""
from __future__ import annotations

import concurrent.futures
import os
import random
import subprocess
import time

import pytest
import requests

from harness import LOCALHOST, REPO, RawClient, closed_port, endpoint, service, to_yaml, wait_until

PROMETHEUS = "/usr/bin/prometheus"
ALERTS = REPO / "deploy" / "prometheus" / "alerts.yml"
HOST = "prom.test"
FAST_MS, SLOW_MS = 5, 350
N_FAST, N_SLOW, N_ERR = 240, 60, 100  # 300 answered 200, 100 answered 503: 5xx share 0.25
CLIENTS = 16

pytestmark = pytest.mark.time_budget(60)



class Prometheus:
    """One prometheus process on 127.0.0.1:<free port> with its TSDB under `dir`."""

    def __init__(self, directory, scrape_target: str):
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = closed_port()
        self.log_path = self.dir / "prometheus.log"
        self.config_path = self.dir / "prometheus.yml"
        self.config_path.write_text(to_yaml({
            "global": {"scrape_interval": "1s", "scrape_timeout": "1s",
                       "evaluation_interval": "1s"},
            "rule_files": [str(ALERTS)],
            # job="turnout": the alerts select it
            "scrape_configs": [{"job_name": "turnout", "metrics_path": "/metrics",
                                "static_configs": [{"targets": [scrape_target]}]}],
        }))
        self.proc = None
        self._log = None

    def start(self, timeout: float = 20.0):
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [PROMETHEUS, f"--config.file={self.config_path}",
             f"--storage.tsdb.path={self.dir / 'data'}",
             f"--web.listen-address={LOCALHOST}:{self.port}"],
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT, cwd=str(self.dir))

        def ready():
            assert self.proc.poll() is None, f"prometheus exited rc={self.proc.returncode}"
            try:
                return requests.get(self.url("/-/ready"), timeout=1).status_code == 200
            except requests.RequestException:
                return False

        assert wait_until(ready, timeout, interval=0.1), "prometheus not ready"
        return self

    def url(self, path: str) -> str:
        return f"http://{LOCALHOST}:{self.port}{path}"

    def api(self, path: str, **params):
        r = requests.get(self.url(path), params=params, timeout=5)
        assert r.status_code == 200, (path, params, r.status_code, r.text[:500])
        doc = r.json()
        assert doc["status"] == "success", doc
        return doc["data"]

    def query(self, expr: str) -> list:
        data = self.api("/api/v1/query", query=expr)
        assert data["resultType"] == "vector", data
        return data["result"]

    def scalar(self, expr: str):
        """The value of a one-element vector, or None when the vector is empty."""
        result = self.query(expr)
        assert len(result) <= 1, (expr, result)
        return float(result[0]["value"][1]) if result else None

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if self._log:
            self._log.close()


@pytest.fixture
def prometheus_factory(tmp_path, request):
    if not (os.path.isfile(PROMETHEUS) and os.access(PROMETHEUS, os.X_OK)):
        msg = f"{PROMETHEUS} not found (install the Debian package `prometheus`)"
        if os.environ.get("TURNOUT_REQUIRE_BIN") == "1":
            pytest.fail(msg)
        pytest.skip(msg)
    made: list[Prometheus] = []

    def make(scrape_target: str) -> Prometheus:
        p = Prometheus(tmp_path / f"prometheus{len(made)}", scrape_target)
        made.append(p)
        return p.start()

    yield make
    failed = getattr(request.node, "rep_call", None)
    for p in made:
        p.stop()
        if failed is not None and failed.failed:
            print(f"\n===== {p.dir.name} log =====\n{p.log()[-8000:]}")


def _send_all(port: int, paths: list[str]):
    """Every path once, over CLIENTS keep-alive connections in parallel; returns the statuses."""
    groups = [paths[i::CLIENTS] for i in range(CLIENTS)]

    def run(group):
        out = []
        with RawClient(port, timeout=10) as c:
            for path in group:
                out.append(c.request("GET", path, host=HOST).status)
        return out

    with concurrent.futures.ThreadPoolExecutor(CLIENTS) as pool:
        return [s for statuses in pool.map(run, groups) for s in statuses]


def test_prometheus_scrapes_error_ratio_latency_and_alert(turnout_factory, backend_factory,
                                                          prometheus_factory):
    b = backend_factory("app")
    config = {
        "services": [service("app", endpoint(b, "v1"))],
        "routes": [
            {"id": "lat", "match": {"host": HOST, "path_prefix": "/lat"},
             "rewrite": {"strip_prefix": True}, "split": [{"service": "app"}]},
            {"id": "err", "match": {"host": HOST, "path_prefix": "/err"},
             "split": [{"service": "app"}],
             "faults": [{"abort": {"status": 503, "percent": 100}}]},
        ]}
    t = turnout_factory(config=config, workers=2)
    prom = prometheus_factory(f"{LOCALHOST}:{t.admin_port}")
    fast, slow, err = f"/lat/slow?ms={FAST_MS}", f"/lat/slow?ms={SLOW_MS}", "/err/x"

    # Warm-up: the series must exist in a scrape *before* the measured traffic, or rate() has
    # no earlier sample to count the traffic from (a series' first sample is not an increase).
    # 3 + 1 keeps the warm-up at the same 5xx share, so the counters' extrapolation towards
    # zero at the window start is the same for both series.
    assert sorted(_send_all(t.port, [fast, fast, fast, err])) == [200, 200, 200, 503]
    warm = 4

    def scraped_total(n):
        return lambda: prom.scalar("sum(turnout_requests_total)") == n

    assert wait_until(scraped_total(warm), 20, interval=0.2), "warm-up not scraped"
    assert prom.scalar('up{job="turnout"}') == 1

    # The measured traffic, interleaved in a fixed random order.
    paths = [fast] * N_FAST + [slow] * N_SLOW + [err] * N_ERR
    random.Random(7).shuffle(paths)
    traffic_start = time.monotonic()
    statuses = _send_all(t.port, paths)
    assert statuses.count(200) == N_FAST + N_SLOW and statuses.count(503) == N_ERR, statuses
    assert b.count == warm - 1 + N_FAST + N_SLOW
    total = warm + N_FAST + N_SLOW + N_ERR
    assert wait_until(scraped_total(total), 15, interval=0.2), \
        f"last scrape: {prom.query('sum(turnout_requests_total)')}"
    assert prom.scalar('up{job="turnout"}') == 1
    # A [1m] window still covers the warm-up scrape and all the traffic.
    assert time.monotonic() - traffic_start < 45

    # rate() over the same window for numerator and denominator: every series comes from the
    # same scrapes, so the extrapolation cancels and the ratio is the sent share, 100 / 400.
    ratio = prom.scalar('sum(rate(turnout_requests_total{code_class="5xx"}[1m]))'
                        ' / sum(rate(turnout_requests_total[1m]))')
    assert ratio is not None and abs(ratio - N_ERR / (N_FAST + N_SLOW + N_ERR)) < 0.02, ratio

    # p95 of the full request, all routes: 100 aborts (< 1 ms) + 240 at ~5 ms are all <= 0.25 s,
    # 60 at ~350 ms are in (0.25, 0.5]. The 0.95 rank (380 of 400) is past the 340 in buckets
    # <= 0.25, so the quantile is in the (0.25, 0.5] bucket; histogram_quantile interpolates
    # linearly inside it (about 0.25 + 0.25 * 40/60 = 0.42), never outside its bounds.
    p95 = prom.scalar("histogram_quantile(0.95, sum by (le) "
                      "(rate(turnout_request_duration_seconds_bucket[1m])))")
    assert p95 is not None and 0.25 < p95 <= 0.5, p95
    # The upstream histogram has only route "lat" (aborts never go upstream): rank 285 of 300,
    # past the 240 fast ones, so again in (0.25, 0.5] (about 0.25 + 0.25 * 45/60 = 0.44).
    up95 = prom.scalar("histogram_quantile(0.95, sum by (le) "
                       "(rate(turnout_upstream_duration_seconds_bucket[1m])))")
    assert up95 is not None and 0.25 < up95 <= 0.5, up95

    # TurnoutErrorRateHigh: 5xx share per route > 1 % for 5m. Route "err" is all 5xx, route
    # "lat" none. With `for: 5m` the alert cannot fire within this test: it must go pending
    # (rules are evaluated every second), for "err" only.
    rules = [r for g in prom.api("/api/v1/rules")["groups"] for r in g["rules"]]
    rule = next(r for r in rules if r["name"] == "TurnoutErrorRateHigh")
    assert rule["duration"] == 300 and "> 0.01" in rule["query"], rule

    def error_alerts():
        return [a for a in prom.api("/api/v1/alerts")["alerts"]
                if a["labels"].get("alertname") == "TurnoutErrorRateHigh"]

    assert wait_until(lambda: len(error_alerts()) > 0, 10, interval=0.2), \
        prom.api("/api/v1/alerts")
    alerts = error_alerts()
    assert [(a["labels"]["route"], a["state"]) for a in alerts] == [("err", "pending")], alerts
    assert alerts[0]["labels"]["severity"] == "warning", alerts
    assert float(alerts[0]["value"]) == pytest.approx(1.0), alerts
