"""Active health checks against a real turnout: an endpoint is marked failed within
interval x unhealthy (+ one interval) of going bad and healthy again within interval x healthy
(+ one interval) of coming back, measured with 200 ms intervals; a hang, a reset, a refused
connect and a TCP check; /v1/status and /metrics say so; checks follow endpoints added and
removed through the API without a restart, and a removed endpoint is checked no more.

Every wait is bounded; everything is on loopback. Run with -s to see the measured figures.
"""
from __future__ import annotations

import time

import pytest
import requests

from harness import SwitchableBackend
from health_support import (
    FALL,
    INTERVAL_MS,
    RISE,
    SLACK_S,
    TIMEOUT_MS,
    checked_service,
    config_with,
    endpoint_status,
    health_of,
    http_check,
    metrics,
    start,
    time_until_health,
)

INTERVAL_S = INTERVAL_MS / 1000
TIMEOUT_S = TIMEOUT_MS / 1000
DOWN_BOUND_S = INTERVAL_S * FALL + INTERVAL_S + SLACK_S
UP_BOUND_S = INTERVAL_S * RISE + INTERVAL_S + SLACK_S
# A failure is only concluded after FALL checks, the first of which may come at once: at least
# FALL - 1 intervals (the wheel's 4 ms ticks and the clocks' granularity aside).
DOWN_AT_LEAST_S = INTERVAL_S * (FALL - 1) - 0.03
UP_AT_LEAST_S = INTERVAL_S * (RISE - 1) - 0.03


@pytest.fixture
def switchable():
    made = []

    def make(name):
        backend = SwitchableBackend(name)
        made.append(backend)
        return backend

    yield make
    for backend in made:
        backend.close()


def test_check_marks_down_and_up_within_its_bounds(admin_factory, switchable):
    backend = switchable("b1")
    t = start(admin_factory, config_with([checked_service("web", [backend], http_check())]))
    api = t.api()
    assert backend_checked(backend, 2)
    assert health_of(api, "web", backend.address) == "healthy"  # starts healthy, then passes
    assert backend.health_hosts[-1] == backend.address  # Host: the endpoint's address

    downs, ups = [], []
    for _ in range(3):
        backend.set_health("503")
        downs.append(time_until_health(api, "web", backend.address, "failed", DOWN_BOUND_S + 2))
        backend.set_health("ok")
        ups.append(time_until_health(api, "web", backend.address, "healthy", UP_BOUND_S + 2))
    print(f"\nmeasured mark-down {fmt(downs)} (bound {DOWN_BOUND_S:.2f} s), "
          f"mark-up {fmt(ups)} (bound {UP_BOUND_S:.2f} s)")
    for down in downs:
        assert DOWN_AT_LEAST_S <= down <= DOWN_BOUND_S
    for up in ups:
        assert UP_AT_LEAST_S <= up <= UP_BOUND_S

    backend.set_health("503")
    time_until_health(api, "web", backend.address, "failed", DOWN_BOUND_S + 2)
    m = metrics(api)
    assert m.value("turnout_endpoint_healthy", service="web", address=backend.address) == 0
    assert m.value("turnout_health_checks_total", service="web", result="failure") >= 4 * FALL
    assert m.value("turnout_health_checks_total", service="web", result="success") >= 3 * RISE
    assert "marked failed" in t.stderr_text() and "healthy again" in t.stderr_text()
    backend.set_health("ok")
    time_until_health(api, "web", backend.address, "healthy", UP_BOUND_S + 2)
    assert metrics(api).value("turnout_endpoint_healthy", service="web",
                              address=backend.address) == 1


@pytest.mark.parametrize("failure", ["hang", "reset", "refuse"])
def test_hang_reset_and_refusal_fail_the_check(admin_factory, switchable, failure):
    backend = switchable("b1")
    t = start(admin_factory, config_with([checked_service("web", [backend], http_check())]))
    api = t.api()
    assert backend_checked(backend, 1)
    if failure == "refuse":
        backend.refuse()
    else:
        backend.set_health(failure)
    # A hanging check fails at its timeout, and the next one starts an interval after that.
    per_check = INTERVAL_S + (TIMEOUT_S if failure == "hang" else 0)
    bound = per_check * FALL + INTERVAL_S + SLACK_S
    down = time_until_health(api, "web", backend.address, "failed", bound + 2)
    print(f"\n{failure}: marked failed after {down:.3f} s (bound {bound:.2f} s)")
    assert down <= bound
    if failure == "refuse":
        backend.restore()
    else:
        backend.set_health("ok")
    up = time_until_health(api, "web", backend.address, "healthy", UP_BOUND_S + 2)
    assert up <= UP_BOUND_S


def test_tcp_check_follows_the_listener(admin_factory, switchable):
    backend = switchable("b1")
    check = {"type": "tcp", "interval_ms": INTERVAL_MS, "timeout_ms": TIMEOUT_MS,
             "healthy": RISE, "unhealthy": FALL}
    t = start(admin_factory, config_with([checked_service("web", [backend], check)]))
    api = t.api()
    assert health_of(api, "web", backend.address) == "healthy"
    backend.set_health("503")  # a TCP check sends no request: answers do not matter
    time.sleep(INTERVAL_S * (FALL + 1))
    assert health_of(api, "web", backend.address) == "healthy"
    assert backend.health_count == 0
    backend.refuse()
    down = time_until_health(api, "web", backend.address, "failed", DOWN_BOUND_S + 2)
    assert down <= DOWN_BOUND_S
    backend.restore()
    up = time_until_health(api, "web", backend.address, "healthy", UP_BOUND_S + 2)
    assert up <= UP_BOUND_S


def test_unchecked_endpoints_say_so_and_have_no_health_series(admin_factory, switchable):
    backend = switchable("b1")
    t = start(admin_factory, config_with([checked_service("web", [backend])]))
    api = t.api()
    assert endpoint_status(api, "web", backend.address) == {
        "address": backend.address, "version": "", "weight": 1, "health": "unchecked"}
    m = metrics(api)
    assert m.types["turnout_endpoint_healthy"] == "gauge"
    assert m.select("turnout_endpoint_healthy") == []
    assert m.select("turnout_health_checks_total") == []
    time.sleep(INTERVAL_S * 2)
    assert backend.health_count == 0


def test_checks_follow_endpoints_added_and_removed_without_restart(admin_factory, switchable):
    first, second = switchable("first"), switchable("second")
    t = start(admin_factory, config_with([checked_service("web", [first], http_check())]))
    api = t.api()
    pid = t.proc.pid
    assert backend_checked(first, 1)
    assert second.health_count == 0

    r = api.put("/v1/services/web/endpoints",
                json=[{"address": first.address}, {"address": second.address}])
    assert r.status_code == 200, r.text
    assert backend_checked(second, 1, limit_s=INTERVAL_S * 2 + 1)  # its first check: within one interval
    assert health_of(api, "web", second.address) == "healthy"
    second.set_health("503")
    time_until_health(api, "web", second.address, "failed", DOWN_BOUND_S + 2)

    r = api.put("/v1/services/web/endpoints", json=[{"address": second.address}])
    assert r.status_code == 200, r.text
    time.sleep(INTERVAL_S + TIMEOUT_S)  # a check already in flight may still land
    settled = first.health_count
    time.sleep(INTERVAL_S * 5)
    assert first.health_count == settled, "a removed endpoint is still being checked"
    assert second.health_count > 0 and health_of(api, "web", second.address) == "failed"
    assert t.proc.pid == pid and t.alive()

    # Removing the check itself stops it too, and the endpoint is no longer failed.
    r = api.put("/v1/services/web", json=checked_service("web", [second]))
    assert r.status_code == 200, r.text
    time.sleep(INTERVAL_S + TIMEOUT_S)
    settled = second.health_count
    time.sleep(INTERVAL_S * 5)
    assert second.health_count == settled
    assert health_of(api, "web", second.address) == "unchecked"


def test_one_check_per_endpoint_whatever_the_workers_and_services(admin_factory, switchable):
    backend = switchable("b1")
    check = http_check(interval_ms=INTERVAL_MS)
    t = start(admin_factory, config_with([checked_service("a", [backend], check),
                                          checked_service("b", [backend], check)]),
              workers=3)
    assert backend_checked(backend, 1)
    begin, first_count = time.monotonic(), backend.health_count
    time.sleep(2.0)
    per_second = (backend.health_count - first_count) / (time.monotonic() - begin)
    # One check every 200 ms plus its round trip: about 5 per second, not 3 x 2 x 5.
    assert 3.5 <= per_second <= 5.5, per_second
    assert t.alive()


def test_traffic_avoids_a_failed_endpoint(admin_factory, switchable):
    good, bad = switchable("good"), switchable("bad")
    t = start(admin_factory, config_with([checked_service("web", [good, bad], http_check())]))
    api = t.api()
    bad.set_health("503")
    time_until_health(api, "web", bad.address, "failed", DOWN_BOUND_S + 2)
    before = bad.traffic_count
    with requests.Session() as session:
        for _ in range(50):
            r = session.get(t.url("/x"), timeout=5)
            assert r.status_code == 200 and r.headers["X-Backend"] == "good"
    assert bad.traffic_count == before
    bad.set_health("ok")
    time_until_health(api, "web", bad.address, "healthy", UP_BOUND_S + 2)
    with requests.Session() as session:
        seen = {session.get(t.url("/x"), timeout=5).headers["X-Backend"] for _ in range(10)}
    assert seen == {"good", "bad"}


def backend_checked(backend, n, limit_s=5.0) -> bool:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if backend.health_count >= n:
            return True
        time.sleep(0.01)
    return backend.health_count >= n


def fmt(values) -> str:
    return "/".join(f"{v:.3f}" for v in values) + " s"
