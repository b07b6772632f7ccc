"""GET /metrics against real traffic: exact request counts by route, service, version and status
(weighted split, fault abort, direct_response, unmatched host, malformed request), the request
and upstream latency histograms (counts, cumulative buckets, a slow upstream in the right
buckets), byte counters, the active requests/connections gauges, the config change counters
and revision, counters across a route update, `-p PORT`, and `promtool check metrics`.

Every turnout runs 2 workers, so each scrape merges two shards; requests go over many client
connections so that both workers take some (the exact counts then prove the merge). Loopback
only; every loop is bounded in count and every wait in time.
"""
from __future__ import annotations

import concurrent.futures
import os
import shutil
import socket
import subprocess

import pytest
import requests

from harness import (
    LOCALHOST,
    Exposition,
    RawClient,
    api_error,
    build_request,
    endpoint,
    pattern_bytes,
    service,
    wait_until,
)

HOST = "metrics.test"
BOUNDS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
          0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0, 30.0, 60.0, float("inf")]
REQUEST_H = "turnout_request_duration_seconds"
UPSTREAM_H = "turnout_upstream_duration_seconds"
PER_CONNECTION = 4  # requests per client connection: many connections, both workers busy

pytestmark = pytest.mark.time_budget(30)



@pytest.fixture(scope="module")
def promtool() -> str:
    path = shutil.which("promtool") or "/usr/bin/promtool"
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        msg = "promtool not found (install the Debian package `prometheus`)"
        if os.environ.get("TURNOUT_REQUIRE_BIN") == "1":
            pytest.fail(msg)
        pytest.skip(msg)
    return path


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------
def scrape(port: int, path: str = "/metrics") -> Exposition:
    r = requests.get(f"http://{LOCALHOST}:{port}{path}", timeout=5)
    assert r.status_code == 200, (path, r.status_code, r.text[:300])
    assert r.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8", r.headers
    return Exposition(r.text)


def metrics(t) -> Exposition:
    return scrape(t.admin_port)


def send(t, path: str, n: int, host: str = HOST, expect: int = 200, headers=None) -> list:
    """n GET requests, PER_CONNECTION per keep-alive connection; every answer must be `expect`."""
    answers = []
    for start in range(0, n, PER_CONNECTION):
        with RawClient(t.port) as c:
            for _ in range(min(PER_CONNECTION, n - start)):
                r = c.request("GET", path, headers=headers, host=host)
                assert r.status == expect, (path, r)
                answers.append(r)
    return answers


def requests_series(e: Exposition) -> dict:
    """turnout_requests_total as {(route, service, version, code_class, code): count}."""
    out = {}
    for labels, v in e.select("turnout_requests_total"):
        assert set(labels) == {"route", "service", "version", "code_class", "code"}, labels
        out[(labels["route"], labels["service"], labels["version"], labels["code_class"],
             labels["code"])] = v
    return out


def check_histogram(e: Exposition, name: str, route: str, count: int):
    """The histogram of `route` has the documented buckets, cumulative and monotone,
    +Inf == _count == count; returns {le: cumulative}."""
    buckets, total_sum, total_count = e.histogram(name, route=route)
    assert [le for le, _ in buckets] == BOUNDS, buckets
    values = [v for _, v in buckets]
    assert all(a <= b for a, b in zip(values, values[1:])), f"{name}{{route={route!r}}}: {buckets}"
    assert values[-1] == total_count == count, (name, route, buckets, total_count, count)
    assert (total_sum > 0) == (count > 0), (name, route, total_sum, count)
    return dict(buckets)


def split_config(v1, v2, slow=None):
    services = [service("hello", endpoint(v1, "v1"), endpoint(v2, "v2"))]
    routes = [
        {"id": "split", "match": {"host": HOST, "path_prefix": "/split"},
         "rewrite": {"strip_prefix": True},
         "split": [{"service": "hello", "version": "v1", "weight": 50},
                   {"service": "hello", "version": "v2", "weight": 50}]},
        {"id": "abort", "match": {"host": HOST, "path_prefix": "/abort"},
         "split": [{"service": "hello", "version": "v1"}],
         "faults": [{"abort": {"status": 503, "percent": 100}}]},
        {"id": "direct", "match": {"host": HOST, "path_prefix": "/direct"},
         "direct_response": {"status": 200, "body": "direct"}},
    ]
    if slow is not None:
        services.append(service("slow", endpoint(slow, "s1")))
        routes.append({"id": "slow", "match": {"host": HOST, "path_prefix": "/slow"},
                       "split": [{"service": "slow"}]})
    return {"services": services, "routes": routes}


def send_malformed(t):
    with RawClient(t.port, timeout=5) as c:
        c.send(b"NOT A REQUEST\r\n\r\n")
        r = c.read_response()
        assert r.status == 400, r


# --------------------------------------------------------------------------------------------
# Request counters and histograms
# --------------------------------------------------------------------------------------------
def test_requests_counted_by_route_version_and_code(turnout_factory, backend_factory):
    v1, v2 = backend_factory("v1"), backend_factory("v2")
    t = turnout_factory(config=split_config(v1, v2), workers=2)
    n_split, n_abort, n_direct, n_unmatched = 40, 12, 8, 8
    for r in send(t, "/split/echo", n_split):
        assert r.header("X-Backend") in ("v1", "v2"), r
    for r in send(t, "/abort/echo", n_abort, expect=503):
        assert r.header("X-Backend") is None, r
    for r in send(t, "/direct", n_direct):
        assert b"direct" in r.body and r.header("X-Backend") is None, r
    send(t, "/split/echo", n_unmatched, host="unmatched.test", expect=404)
    # A request is counted when its exchange ends, which may be just after the client read the
    # answer: poll (bounded) until the total is there, then compare every series exactly.
    want_total = n_split + n_abort + n_direct + n_unmatched
    assert wait_until(lambda: metrics(t).total("turnout_requests_total") >= want_total, 5)
    e = metrics(t)

    assert v1.count > 0 and v2.count > 0 and v1.count + v2.count == n_split, (v1.count, v2.count)
    assert requests_series(e) == {
        ("split", "hello", "v1", "2xx", "200"): v1.count,
        ("split", "hello", "v2", "2xx", "200"): v2.count,
        # an abort happens after the version pick: it carries service and version
        ("abort", "hello", "v1", "5xx", "503"): n_abort,
        # direct_response answers without a version
        ("direct", "", "", "2xx", "200"): n_direct,
        ("", "", "", "4xx", "404"): n_unmatched,
    }
    assert e.value("turnout_faults_injected_total", kind="abort") == n_abort
    assert e.value("turnout_faults_injected_total", kind="delay") == 0
    assert e.value("turnout_faults_injected_total", kind="drop") == 0
    assert e.types["turnout_requests_total"] == "counter"
    assert e.types[REQUEST_H] == e.types[UPSTREAM_H] == "histogram"

    # The full request is timed on every route; the upstream only where a request went upstream.
    for route, count in (("split", n_split), ("abort", n_abort), ("direct", n_direct),
                         ("", n_unmatched)):
        check_histogram(e, REQUEST_H, route, count)
        check_histogram(e, UPSTREAM_H, route, n_split if route == "split" else 0)
    assert {lbl["route"] for lbl, _ in e.select(REQUEST_H + "_count")} == \
        {"split", "abort", "direct", ""}

    # A request that does not parse is counted with no route.
    send_malformed(t)
    assert wait_until(lambda: metrics(t).total("turnout_requests_total") >= want_total + 1, 5)
    after = requests_series(metrics(t))
    assert after.pop(("", "", "", "4xx", "400")) == 1, after
    assert after == requests_series(e)


def test_rejected_request_is_in_the_duration_histogram(turnout_factory, backend_factory):
    v1, v2 = backend_factory("v1"), backend_factory("v2")
    t = turnout_factory(config=split_config(v1, v2), workers=2)
    send(t, "/x", 3, host="unmatched.test", expect=404)
    send_malformed(t)
    assert wait_until(lambda: metrics(t).total("turnout_requests_total", route="") >= 4, 5)
    e = metrics(t)
    assert e.total("turnout_requests_total", route="") == 4
    check_histogram(e, REQUEST_H, "", 4)


def test_slow_upstream_lands_in_its_buckets(turnout_factory, backend_factory):
    v1, v2, slow = backend_factory("v1"), backend_factory("v2"), backend_factory("slow")
    t = turnout_factory(config=split_config(v1, v2, slow=slow), workers=2)
    n = 3
    # Concurrent, one connection each: 0.3 s in all, not 0.9 s.
    with concurrent.futures.ThreadPoolExecutor(n) as pool:
        answers = list(pool.map(lambda _: send(t, "/slow?ms=300", 1), range(n)))
    assert all(a[0].body == b"slow done" for a in answers), answers
    assert wait_until(lambda: metrics(t).total("turnout_requests_total") >= n, 5)
    e = metrics(t)
    # The split names no version: the label is the split's (empty), not the endpoint's.
    assert requests_series(e) == {("slow", "slow", "", "2xx", "200"): n}
    # The backend sleeps 300 ms before its response head: every observation is above 0.25 s,
    # so the cumulative buckets up to le=0.25 hold none; and (on an unloaded loopback) below
    # 1 s, so le=1 holds all of them. Both histograms: the full request includes the upstream.
    for name in (UPSTREAM_H, REQUEST_H):
        buckets = check_histogram(e, name, "slow", n)
        assert all(v == 0 for le, v in buckets.items() if le <= 0.25), (name, buckets)
        assert buckets[1.0] == n, (name, buckets)
        _, total_sum, _ = e.histogram(name, route="slow")
        assert 0.3 * n <= total_sum < 1.0 * n, (name, total_sum)


# --------------------------------------------------------------------------------------------
# Bytes and gauges
# --------------------------------------------------------------------------------------------
def test_byte_counters_count_what_crossed_the_client_socket(turnout_factory, backend_factory):
    v1, v2 = backend_factory("v1"), backend_factory("v2")
    t = turnout_factory(config=split_config(v1, v2), workers=2)
    before = metrics(t)
    body = pattern_bytes(100_000)
    up = build_request("POST", "/split/echo", body=body, host=HOST)
    down_n = 200_000
    down = build_request("GET", f"/split/bytes?n={down_n}", host=HOST)
    with RawClient(t.port, timeout=10) as c:
        c.send(up)
        r1 = c.read_response()
        assert r1.status == 200 and r1.json()["body_len"] == len(body), r1
        c.send(down)
        r2 = c.read_response()
        assert r2.status == 200 and r2.body == pattern_bytes(down_n), r2.status
    received = len(up) + len(down)
    sent = len(r1.head_raw) + len(r1.body) + len(r2.head_raw) + len(r2.body)

    def grown(name):
        return metrics(t).value(name) - before.value(name)

    # Exactly the bytes on the client socket, heads included (both answers have a
    # Content-Length, so head_raw + body is every byte the proxy wrote).
    assert wait_until(lambda: grown("turnout_received_bytes_total") >= received, 5)
    assert grown("turnout_received_bytes_total") == received
    assert wait_until(lambda: grown("turnout_sent_bytes_total") >= sent, 5)
    assert grown("turnout_sent_bytes_total") == sent


def test_active_gauges_follow_connections_and_requests(turnout_factory, backend_factory):
    v1, v2, slow = backend_factory("v1"), backend_factory("v2"), backend_factory("slow")
    t = turnout_factory(config=split_config(v1, v2, slow=slow), workers=2)

    def gauge(name):
        return metrics(t).value(name)

    assert gauge("turnout_client_connections_active") == 0
    assert gauge("turnout_requests_active") == 0
    held = RawClient(t.port, timeout=5)
    try:
        assert held.request("GET", "/split/echo", host=HOST).status == 200
        # The keep-alive connection stays open: counted while held.
        assert wait_until(lambda: gauge("turnout_client_connections_active") == 1, 5), \
            metrics(t).text
        second = RawClient(t.port, timeout=5)
        try:
            assert second.request("GET", "/split/echo", host=HOST).status == 200
            assert wait_until(lambda: gauge("turnout_client_connections_active") == 2, 5)
            # A request in flight (the backend sleeps 1.5 s) is an active request.
            second.send(build_request("GET", "/slow?ms=1500", host=HOST))
            assert wait_until(lambda: gauge("turnout_requests_active") == 1, 1.2), \
                metrics(t).text
            r = second.read_response()
            assert r.status == 200 and r.body == b"slow done", r
            assert wait_until(lambda: gauge("turnout_requests_active") == 0, 5)
        finally:
            second.close()
        assert wait_until(lambda: gauge("turnout_client_connections_active") == 1, 5)
    finally:
        held.close()
    assert wait_until(lambda: gauge("turnout_client_connections_active") == 0, 5), metrics(t).text
    e = metrics(t)
    assert e.value("turnout_requests_active") == 0
    # Upstream connections may stay pooled (the gauge counts idle ones too), but never more
    # than the backends accepted; a gauge that went below zero would show as ~2^64.
    accepted = len(v1.connections) + len(v2.connections) + len(slow.connections)
    assert 0 <= e.value("turnout_upstream_connections_active") <= accepted, (accepted, e.text)
    assert e.types["turnout_client_connections_active"] == "gauge"
    assert e.types["turnout_requests_active"] == "gauge"
    assert e.types["turnout_upstream_connections_active"] == "gauge"


# --------------------------------------------------------------------------------------------
# Configuration changes
# --------------------------------------------------------------------------------------------
def _config_values(e: Exposition) -> dict:
    return {
        "applied": e.value("turnout_config_changes_total", result="applied"),
        "rejected": e.value("turnout_config_changes_total", result="rejected"),
        "store": e.value("turnout_config_apply_failures_total", reason="store"),
        "propagation": e.value("turnout_config_apply_failures_total", reason="propagation"),
        "revision": e.value("turnout_config_revision"),
        "apply_count": e.value("turnout_config_apply_duration_seconds_count"),
    }


def test_config_change_counters_revision_and_apply_duration(admin_factory, backend_factory):
    v1, v2 = backend_factory("v1"), backend_factory("v2")
    t = admin_factory(config=split_config(v1, v2), workers=2)
    api = t.api()
    e = metrics(t)
    start = _config_values(e)
    # Exported at 0 from startup (the alert's increase() needs the series before a failure).
    assert start == {"applied": 0, "rejected": 0, "store": 0, "propagation": 0,
                     "revision": api.get("/v1/status").json()["revision"], "apply_count": 0}
    check = e.histogram("turnout_config_apply_duration_seconds")
    assert [le for le, _ in check[0]] == BOUNDS and check[2] == 0, check

    good = {"id": "extra", "match": {"host": HOST, "path_prefix": "/extra"},
            "split": [{"service": "hello", "version": "v2"}]}
    r = api.put("/v1/routes/extra", json=good)
    assert r.status_code == 201, r.text
    after_good = _config_values(metrics(t))
    assert after_good == {**start, "applied": 1, "revision": start["revision"] + 1,
                          "apply_count": 1}
    assert after_good["revision"] == api.get("/v1/status").json()["revision"]
    buckets, total_sum, _ = metrics(t).histogram("turnout_config_apply_duration_seconds")
    assert buckets[-1][1] == 1 and total_sum > 0, buckets

    bad = {**good, "split": [{"service": "nope"}]}
    api_error(api.put("/v1/routes/extra", json=bad), 400, field="split[0].service")
    after_bad = _config_values(metrics(t))
    assert after_bad == {**after_good, "rejected": 1}
    assert after_bad["revision"] == api.get("/v1/status").json()["revision"]


@pytest.mark.parametrize("case", ["invalid-json", "unknown-field", "entries-422"])
def test_every_refused_change_counts_as_rejected(admin_factory, backend_factory, case):
    v1, v2 = backend_factory("v1"), backend_factory("v2")
    t = admin_factory(config=split_config(v1, v2), workers=2)
    api = t.api()
    before = _config_values(metrics(t))
    if case == "invalid-json":
        api_error(api.put("/v1/routes/x", data="{not json", content_type="application/json"), 400)
    elif case == "unknown-field":
        api_error(api.put("/v1/routes/x", json={"id": "x", "split": [{"service": "hello"}],
                                                "bogus": 1}), 400, field="bogus")
    else:
        r = api.post("/entries.json", json={"host": "e.test"})
        assert r.status_code == 422, r.text
    assert _config_values(metrics(t)) == {**before, "rejected": 1}


def test_counters_survive_a_route_update(admin_factory, backend_factory):
    v1, v2 = backend_factory("v1"), backend_factory("v2")
    t = admin_factory(config=split_config(v1, v2), workers=2)
    api = t.api()
    first = 20
    send(t, "/split/echo", first)
    assert wait_until(lambda: metrics(t).total("turnout_requests_total") >= first, 5)
    e1 = metrics(t)
    c1 = requests_series(e1)
    assert c1 == {("split", "hello", "v1", "2xx", "200"): v1.count,
                  ("split", "hello", "v2", "2xx", "200"): v2.count}, c1
    # The same route, recompiled with new weights: v2 only.
    route = api.get("/v1/routes/split").json()
    route = route.get("route", route)
    route["split"] = [{"service": "hello", "version": "v1", "weight": 0},
                      {"service": "hello", "version": "v2", "weight": 100}]
    r = api.put("/v1/routes/split", json={k: v for k, v in route.items() if k != "owner"})
    assert r.status_code == 200, r.text
    v1_before, v2_before = v1.count, v2.count
    second = 12
    for answer in send(t, "/split/echo", second):
        assert answer.header("X-Backend") == "v2", answer
    assert (v1.count, v2.count) == (v1_before, v2_before + second)
    assert wait_until(lambda: metrics(t).total("turnout_requests_total") >= first + second, 5)
    e2 = metrics(t)
    assert requests_series(e2) == {("split", "hello", "v1", "2xx", "200"): v1_before,
                                   ("split", "hello", "v2", "2xx", "200"): v2_before + second}
    check_histogram(e2, REQUEST_H, "split", first + second)
    check_histogram(e2, UPSTREAM_H, "split", first + second)


# --------------------------------------------------------------------------------------------
# -p PORT and promtool
# --------------------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind((LOCALHOST, 0))
        return s.getsockname()[1]


def _stable(e: Exposition) -> dict:
    """The samples two scrapes a moment apart must agree on (process_* move by themselves)."""
    return {k: v for k, v in e.samples.items() if not k[0].startswith("process_")}


def test_metrics_port_serves_the_same_metrics_on_every_path(turnout_factory, backend_factory):
    v1, v2 = backend_factory("v1"), backend_factory("v2")
    port = _free_port()
    t = turnout_factory(config=split_config(v1, v2), workers=2, extra=["-p", str(port)])
    assert t.listening_event.get("metrics") == f"{LOCALHOST}:{port}"
    send(t, "/split/echo", 10)
    send(t, "/abort/echo", 3, expect=503)
    assert wait_until(lambda: metrics(t).total("turnout_requests_total") >= 13, 5)
    admin = metrics(t)
    assert admin.total("turnout_requests_total") == 13
    for path in ("/metrics", "/", "/anything/else?x=1"):
        e = scrape(port, path)
        assert _stable(e) == _stable(admin), path
        assert set(e.types) == set(admin.types), path


def test_promtool_accepts_the_output_after_traffic(turnout_factory, backend_factory, promtool,
                                                     tmp_path):
    v1, v2, slow = backend_factory("v1"), backend_factory("v2"), backend_factory("slow")
    t = turnout_factory(config=split_config(v1, v2, slow=slow), workers=2,
                        extra=["--access-log", str(tmp_path / "access.log")])
    send(t, "/split/echo", 8)
    send(t, "/abort/echo", 2, expect=503)
    send(t, "/direct", 2)
    send(t, "/slow?ms=20", 1)
    send(t, "/", 2, host="unmatched.test", expect=404)
    send_malformed(t)
    assert wait_until(lambda: metrics(t).total("turnout_requests_total") >= 16, 5)
    text = metrics(t).text
    proc = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True,
                          text=True, timeout=30)
    # promtool prints one line per lint problem (and exits 1 for any); none is acceptable.
    assert proc.returncode == 0 and proc.stdout == "" and proc.stderr == "", \
        f"rc={proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}\n--- input ---\n{text}"
