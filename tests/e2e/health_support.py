"""Shared helpers of test_health_checks.py and test_outlier.py: configurations with checks and
outlier settings, reading an endpoint's health from /v1/status, timing a change of it."""
from __future__ import annotations

import time

from harness import Exposition

INTERVAL_MS = 200
TIMEOUT_MS = 150  # below the interval, as the configuration requires
RISE = 2
FALL = 3
# What a measured bound may add to its configured figure: the status poll period (20 ms), the
# timer wheel's 4 ms ticks, a check's own round trip and the admin call (both ~1 ms on
# loopback, more on a busy 2-core box). Fixed before measuring, never widened to pass.
SLACK_S = 0.15

def http_check(interval_ms=INTERVAL_MS, timeout_ms=TIMEOUT_MS, **extra):
    check = {"type": "http", "path": "/healthz", "interval_ms": interval_ms,
             "timeout_ms": timeout_ms, "healthy": RISE, "unhealthy": FALL}
    check.update(extra)
    return check


def config_with(services, route_service=None):
    first = route_service or services[0]["name"]
    return {"services": services,
            "routes": [{"id": "all", "match": {"path_prefix": "/"}, "split": [{"service": first}]}]}


def checked_service(name, backends, check=None, outlier=None, lb="round_robin"):
    svc = {"name": name, "lb": lb,
           "endpoints": [{"address": b if isinstance(b, str) else b.address} for b in backends]}
    if check is not None:
        svc["health_check"] = check
    if outlier is not None:
        svc["outlier"] = outlier
    return svc


def start(admin_factory, config, workers=1, extra=()):
    return admin_factory(config=config, workers=workers, extra=extra)


def endpoint_status(api, service: str, address: str) -> dict:
    status = api.get("/v1/status").json()
    for svc in status["services"]:
        if svc["name"] != service:
            continue
        for ep in svc["endpoints"]:
            if ep["address"] == address:
                return ep
    raise AssertionError(f"{service}/{address} not in /v1/status: {status['services']}")


def health_of(api, service: str, address: str) -> str:
    return endpoint_status(api, service, address)["health"]


def time_until_health(api, service, address, wanted, limit_s, poll_s=0.02) -> float:
    """Seconds until the endpoint's health is `wanted` (polled), or fails after `limit_s`."""
    start_at = time.monotonic()
    deadline = start_at + limit_s
    last = None
    while time.monotonic() < deadline:
        last = health_of(api, service, address)
        if last == wanted:
            return time.monotonic() - start_at
        time.sleep(poll_s)
    raise AssertionError(f"{address} still {last!r}, not {wanted!r}, after {limit_s} s")


def metrics(api) -> Exposition:
    r = api.get("/metrics")
    assert r.status_code == 200, r.text
    return Exposition(r.text)
