"""Passive outlier detection against a real turnout: a bad endpoint among three (503 to every
request) is ejected after its consecutive failures and comes back after the ejection time;
max_ejection_percent holds (10 % of 3: one may go, a second may not while the first is out);
a passing active check ends an ejection early; gateway and connect failures trigger with their
own thresholds and labels; several workers count on their own and still eject an always-failing
endpoint within workers x (threshold - 1) + 1 failures.

Most tests stop sending once an ejection happened and assert on /v1/status and /metrics; the
last one checks that traffic avoids the ejected endpoint. Loopback only, bounded.
"""
from __future__ import annotations

import time

import pytest
import requests

from harness import SwitchableBackend, closed_port
from health_support import (
    INTERVAL_MS,
    SLACK_S,
    checked_service,
    config_with,
    endpoint_status,
    health_of,
    http_check,
    metrics,
    start,
    time_until_health,
)

BASE_EJECTION_MS = 500
THRESHOLD = 3


@pytest.fixture
def three(request):
    """Three switchable backends: good1, bad, good2 (the bad one answers 503 to traffic)."""
    made = [SwitchableBackend(name) for name in ("good1", "bad", "good2")]
    made[1].set_mode("503")
    yield made
    for backend in made:
        backend.close()


def outlier(**fields):
    settings = {"consecutive_5xx": THRESHOLD, "base_ejection_ms": BASE_EJECTION_MS}
    settings.update(fields)
    return settings


def send_until_ejected(t, api, address, limit=60, session=None):
    """Sends requests one at a time until `address` is ejected; returns how many were sent."""
    own = session is None
    session = session or requests.Session()
    try:
        for sent in range(1, limit + 1):
            session.get(t.url("/traffic"), timeout=5)
            if wait_for_health(api, address, "ejected", 0.05):
                return sent
        raise AssertionError(f"{address} not ejected after {limit} requests")
    finally:
        if own:
            session.close()


def wait_for_health(api, address, wanted, limit_s, service="web") -> bool:
    deadline = time.monotonic() + limit_s
    while True:
        if health_of(api, service, address) == wanted:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.01)


def test_bad_endpoint_is_ejected_and_returns_after_the_ejection_time(admin_factory, three):
    good1, bad, good2 = three
    t = start(admin_factory, config_with([checked_service("web", three, outlier=outlier())]))
    api = t.api()
    assert health_of(api, "web", bad.address) == "unchecked"
    send_until_ejected(t, api, bad.address)
    seen_at = time.monotonic()
    assert bad.traffic_count == THRESHOLD  # one worker: exactly the threshold, in a row
    status = endpoint_status(api, "web", bad.address)
    assert status["health"] == "ejected" and status["times_ejected"] == 1
    assert 0 < status["ejected_for_ms"] <= BASE_EJECTION_MS
    assert health_of(api, "web", good1.address) == "unchecked"
    m = metrics(api)
    assert m.value("turnout_outlier_ejections_total", service="web", reason="consecutive_5xx") == 1
    assert m.value("turnout_outlier_ejections_total", service="web",
                   reason="consecutive_gateway_failure") == 0
    assert m.value("turnout_endpoints_ejected", service="web") == 1
    assert m.value("turnout_endpoint_healthy", service="web", address=bad.address) == 0
    assert m.select("turnout_endpoint_healthy", address=good1.address) == []

    time_until_health(api, "web", bad.address, "healthy", BASE_EJECTION_MS / 1000 + 2)
    back = time.monotonic() - seen_at  # from when the ejection was first seen
    print(f"\nejected for {BASE_EJECTION_MS} ms: back after {back:.3f} s")
    assert BASE_EJECTION_MS / 1000 - 0.1 <= back <= BASE_EJECTION_MS / 1000 + SLACK_S
    m = metrics(api)
    assert m.value("turnout_endpoints_ejected", service="web") == 0
    assert m.value("turnout_endpoint_healthy", service="web", address=bad.address) == 1
    assert "outlier: ejected " + bad.address in t.stderr_text()

    # A second ejection lasts twice as long (base x times ejected).
    send_until_ejected(t, api, bad.address)
    status = endpoint_status(api, "web", bad.address)
    assert status["times_ejected"] == 2
    assert BASE_EJECTION_MS < status["ejected_for_ms"] <= 2 * BASE_EJECTION_MS


def test_max_ejection_percent_keeps_a_second_bad_endpoint_in(admin_factory, three):
    good1, bad, other_bad = three
    other_bad.set_mode("503")
    config = config_with([checked_service(
        "web", three, outlier=outlier(base_ejection_ms=10000, max_ejection_percent=10))])
    t = start(admin_factory, config)
    api = t.api()
    with requests.Session() as session:
        send_until_ejected(t, api, bad.address, session=session)
        # The other bad one fails THRESHOLD times in a row again and again: refused each time,
        # since 10 % of 3 allows one ejection and one is out.
        before = other_bad.traffic_count
        for _ in range(6 * THRESHOLD):
            session.get(t.url("/traffic"), timeout=5)
        assert other_bad.traffic_count - before >= 2 * THRESHOLD
    time.sleep(0.1)  # requests queued for the health thread are decided
    assert health_of(api, "web", bad.address) == "ejected"
    assert health_of(api, "web", other_bad.address) == "unchecked"
    m = metrics(api)
    assert m.total("turnout_outlier_ejections_total", service="web") == 1
    assert m.value("turnout_endpoints_ejected", service="web") == 1


def test_a_passing_active_check_ends_an_ejection(admin_factory, three):
    good1, bad, good2 = three  # bad answers 503 to traffic, 200 to its health checks
    config = config_with([checked_service("web", three, check=http_check(),
                                          outlier=outlier(base_ejection_ms=60000))])
    t = start(admin_factory, config)
    api = t.api()
    send_until_ejected(t, api, bad.address)
    back = time_until_health(api, "web", bad.address, "healthy", 5)
    bound = INTERVAL_MS / 1000 + SLACK_S
    print(f"\nejected for 60 s, back at the next passing check after {back:.3f} s "
          f"(bound {bound:.2f} s)")
    assert back <= bound
    assert "its active check passed" in t.stderr_text()


@pytest.mark.parametrize("trigger", ["gateway", "connect"])
def test_gateway_and_connect_failures_have_their_own_thresholds(admin_factory, three, trigger):
    good1, bad, good2 = three
    if trigger == "gateway":
        settings = outlier(consecutive_5xx=0, consecutive_gateway_failure=2)
        address, reason = bad.address, "consecutive_gateway_failure"
        endpoints = three
    else:
        settings = outlier(consecutive_5xx=0, consecutive_connect_failure=2)
        address, reason = f"127.0.0.1:{closed_port()}", "consecutive_connect_failure"
        endpoints = [good1, address, good2]
        bad.set_mode("ok")
    t = start(admin_factory, config_with([checked_service("web", endpoints, outlier=settings)]))
    api = t.api()
    send_until_ejected(t, api, address, limit=20)
    m = metrics(api)
    assert m.value("turnout_outlier_ejections_total", service="web", reason=reason) == 1
    assert m.total("turnout_outlier_ejections_total", service="web") == 1


def test_a_success_breaks_a_run_of_failures(admin_factory, three):
    good1, bad, good2 = three
    t = start(admin_factory, config_with([checked_service(
        "web", [bad], outlier=outlier(consecutive_5xx=2, consecutive_gateway_failure=2))]))
    api = t.api()
    with requests.Session() as session:
        for _ in range(5):  # 503, 200, 503, 200...: never two failures in a row
            assert session.get(t.url("/traffic"), timeout=5).status_code == 503
            bad.set_mode("ok")
            assert session.get(t.url("/traffic"), timeout=5).status_code == 200
            bad.set_mode("503")
    time.sleep(0.1)
    assert health_of(api, "web", bad.address) == "unchecked"
    assert metrics(api).select("turnout_outlier_ejections_total") == []


def test_several_workers_count_on_their_own(admin_factory, three):
    good1, bad, good2 = three
    workers = 2
    t = start(admin_factory, config_with([checked_service("web", three, outlier=outlier())]),
              workers=workers)
    api = t.api()
    for _ in range(60):  # a new connection each time: the kernel spreads them over the workers
        r = requests.get(t.url("/traffic"), headers={"Connection": "close"}, timeout=5)
        if r.headers.get("X-Backend") == "bad" and wait_for_health(api, bad.address, "ejected",
                                                                   0.2):
            break
    assert health_of(api, "web", bad.address) == "ejected"
    assert bad.traffic_count <= workers * (THRESHOLD - 1) + 1


def test_traffic_avoids_an_ejected_endpoint(admin_factory, three):
    good1, bad, good2 = three
    t = start(admin_factory, config_with([checked_service(
        "web", three, outlier=outlier(base_ejection_ms=2000))]))
    api = t.api()
    send_until_ejected(t, api, bad.address)
    before = bad.traffic_count
    with requests.Session() as session:
        for _ in range(30):
            r = session.get(t.url("/traffic"), timeout=5)
            assert r.status_code == 200 and r.headers["X-Backend"] in ("good1", "good2")
    assert bad.traffic_count == before
    time_until_health(api, "web", bad.address, "healthy", 4)
    with requests.Session() as session:
        seen = {session.get(t.url("/traffic"), timeout=5).headers["X-Backend"]
                for _ in range(6)}
    assert "bad" in seen
