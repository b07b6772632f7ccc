"""The admin listener serves connections side by side: a client that connects and says nothing
(a browser's preconnect) must not hold up the API for the 5 s I/O deadline. Loopback only;
every wait is bounded."""
from __future__ import annotations

import socket
import time

from harness import LOCALHOST, RawClient


def _healthz(port: int, timeout: float) -> tuple[int, float]:
    started = time.monotonic()
    with RawClient(port, timeout=timeout) as c:
        r = c.request("GET", "/healthz")
    return r.status, time.monotonic() - started


def test_an_idle_connection_does_not_stall_the_admin_api(admin_factory):
    t = admin_factory()
    idle = socket.create_connection((LOCALHOST, t.admin_port), timeout=5)
    try:
        time.sleep(0.2)  # the listener has accepted it and is waiting for its request
        status, took = _healthz(t.admin_port, timeout=3)
        assert status == 200
        assert took < 1.0, f"/healthz took {took:.2f} s beside an idle connection"
    finally:
        idle.close()


def test_many_idle_connections_then_requests_still_answer(admin_factory):
    """More idle clients than connection slots: the extra ones wait in the backlog; once the
    idle ones go, requests are answered again at once."""
    t = admin_factory()
    idle = [socket.create_connection((LOCALHOST, t.admin_port), timeout=5) for _ in range(20)]
    try:
        time.sleep(0.2)
    finally:
        for s in idle:
            s.close()
    for _ in range(5):
        status, took = _healthz(t.admin_port, timeout=3)
        assert status == 200 and took < 1.0, took
