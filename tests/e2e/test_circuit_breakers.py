"""Circuit breakers per service (issue 8): max_requests, max_connections, max_pending.

A request past a limit is a 503 whose X-Turnout-Overflow header names the limit, counted in
turnout_circuit_breaker_overflows_total{service,limit}; the breaker closes again as soon as the
load drops. Counts are per worker and summed at each check, so the tests run two workers. Real
backends on loopback (harness.Backend: /slow?ms=M holds a request)."""
from __future__ import annotations

import concurrent.futures
import time

import requests

from harness import Exposition, blackhole_address, wait_until

SLOW_MS = 1500


def config(backend, breakers: dict) -> dict:
    return {
        "services": [{"name": "app", "endpoints": [{"address": backend.address}],
                      "circuit_breakers": breakers}],
        "routes": [{"id": "app", "match": {"path_prefix": "/"}, "split": [{"service": "app"}]}],
    }


def metrics(t) -> Exposition:
    r = requests.get(t.admin_url("/metrics"), timeout=5)
    r.raise_for_status()
    return Exposition(r.text)


def slow_requests(t, count: int):
    """Starts `count` held requests, each on its own connection; returns their futures."""
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=count)
    futures = [pool.submit(requests.get, t.url(f"/slow?ms={SLOW_MS}"), timeout=10)
               for _ in range(count)]
    pool.shutdown(wait=False)
    return futures


def load_of(t, limit: str) -> float:
    return metrics(t).value("turnout_service_load", service="app", limit=limit)


def test_max_requests_overflows_with_a_named_503_and_recovers(turnout_factory, backend):
    t = turnout_factory(config=config(backend, {"max_requests": 2}), workers=2)
    held = slow_requests(t, 2)
    assert wait_until(lambda: load_of(t, "max_requests") == 2, 5.0), metrics(t).text
    r = requests.get(t.url("/echo"), timeout=5)
    assert r.status_code == 503, r.text
    assert r.headers.get("X-Turnout-Overflow") == "max_requests", r.headers
    assert "max_requests limit (2)" in r.text
    assert [f.result().status_code for f in held] == [200, 200]
    assert wait_until(lambda: load_of(t, "max_requests") == 0, 5.0), metrics(t).text
    ok = requests.get(t.url("/echo"), timeout=5)
    assert ok.status_code == 200 and "X-Turnout-Overflow" not in ok.headers
    m = metrics(t)
    assert m.value("turnout_circuit_breaker_overflows_total", service="app",
                   limit="max_requests") == 1


def test_max_connections_refuses_a_new_connection_but_reuses_pooled_ones(turnout_factory,
                                                                         backend):
    t = turnout_factory(config=config(backend, {"max_connections": 1}), workers=1)
    first = requests.get(t.url("/echo"), timeout=5)  # opens the one connection, then pools it
    assert first.status_code == 200
    for _ in range(5):  # sequential requests reuse the pooled connection: never an overflow
        assert requests.get(t.url("/echo"), timeout=5).status_code == 200
    held = slow_requests(t, 1)  # takes the pooled connection
    assert wait_until(lambda: load_of(t, "max_requests") == 1, 5.0), metrics(t).text
    r = requests.get(t.url("/echo"), timeout=5)  # would need a second connection
    assert r.status_code == 503, r.text
    assert r.headers.get("X-Turnout-Overflow") == "max_connections", r.headers
    assert held[0].result().status_code == 200
    assert requests.get(t.url("/echo"), timeout=5).status_code == 200  # the pooled one again
    m = metrics(t)
    assert m.value("turnout_circuit_breaker_overflows_total", service="app",
                   limit="max_connections") == 1
    assert m.value("turnout_service_load", service="app", limit="max_connections") == 1


def test_default_limits_do_not_trip_under_ordinary_concurrency(turnout_factory, backend):
    t = turnout_factory(config=config(backend, {}), workers=2)
    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
        codes = list(pool.map(lambda _: requests.get(t.url("/echo"), timeout=5).status_code,
                              range(200)))
    assert codes == [200] * 200
    m = metrics(t)
    for limit in ("max_requests", "max_pending", "max_connections"):
        assert m.value("turnout_circuit_breaker_overflows_total", service="app",
                       limit=limit) == 0
    assert wait_until(lambda: load_of(t, "max_requests") == 0, 5.0)


def test_limits_follow_a_service_update_without_losing_counts(turnout_factory, backend):
    t = turnout_factory(config=config(backend, {"max_requests": 1}), workers=2)
    held = slow_requests(t, 1)
    assert wait_until(lambda: load_of(t, "max_requests") == 1, 5.0)
    assert requests.get(t.url("/echo"), timeout=5).status_code == 503
    body = {"endpoints": [{"address": backend.address}], "circuit_breakers": {"max_requests": 5}}
    r = requests.put(t.admin_url("/v1/services/app"), json=body, timeout=5)
    assert r.status_code == 200, r.text
    # the request in flight still counts against the new limit; one more now fits
    assert requests.get(t.url("/echo"), timeout=5).status_code == 200
    assert held[0].result().status_code == 200
    started = time.monotonic()
    assert wait_until(lambda: load_of(t, "max_requests") == 0, 5.0)
    assert time.monotonic() - started < 5


def test_max_pending_counts_requests_waiting_for_a_connection(turnout_factory):
    # A blackhole: turnout's connects stay pending until its connect timeout (-t 2).
    with blackhole_address() as address:
        cfg = {
            "services": [{"name": "app", "endpoints": [{"address": address}],
                          "circuit_breakers": {"max_pending": 1}}],
            "routes": [{"id": "app", "match": {"path_prefix": "/"},
                        "split": [{"service": "app"}]}],
        }
        t = turnout_factory(config=cfg, workers=1, extra=["-t", "2"])
        waiting = slow_requests(t, 1)
        assert wait_until(lambda: load_of(t, "max_pending") == 1, 5.0), metrics(t).text
        r = requests.get(t.url("/echo"), timeout=5)
        assert r.status_code == 503, r.text
        assert r.headers.get("X-Turnout-Overflow") == "max_pending", r.headers
        assert waiting[0].result().status_code == 504  # its connect timed out
        assert wait_until(lambda: load_of(t, "max_pending") == 0, 5.0)
        assert metrics(t).value("turnout_circuit_breaker_overflows_total", service="app",
                                limit="max_pending") == 1
