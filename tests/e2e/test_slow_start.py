"""Slow start (issue 8): an endpoint added to a service with slow_start_ms takes a small share
first (10 % of its weight, Envoy's min_weight_percent) and its full share once the window has
passed. Real backends on loopback; round robin, one worker so the shares are exact."""
from __future__ import annotations

import collections
import time

import requests

WINDOW_MS = 3000


def shares(t, n: int) -> collections.Counter:
    seen: collections.Counter = collections.Counter()
    with requests.Session() as s:
        for _ in range(n):
            r = s.get(t.url("/echo"), timeout=5)
            assert r.status_code == 200
            seen[r.headers["X-Backend"]] += 1
    return seen


def test_a_new_endpoint_ramps_up_over_the_window(turnout_factory, backend_factory):
    a, b, c = backend_factory("a"), backend_factory("b"), backend_factory("c")
    service = {"name": "app", "slow_start_ms": WINDOW_MS,
               "endpoints": [{"address": a.address}, {"address": b.address}]}
    cfg = {"services": [service],
           "routes": [{"id": "app", "match": {"path_prefix": "/"}, "split": [{"service": "app"}]}]}
    t = turnout_factory(config=cfg, workers=1)
    time.sleep(WINDOW_MS / 1000 + 0.3)  # a and b are past their own ramp
    body = {"endpoints": [{"address": x.address} for x in (a, b, c)]}
    r = requests.put(t.admin_url("/v1/services/app/endpoints"), json=body, timeout=5)
    assert r.status_code == 200, r.text
    early = shares(t, 210)  # the first few hundred ms: c weighs about 0.1 against 1 and 1
    assert early["c"] <= 0.15 * 210, early
    time.sleep(WINDOW_MS / 1000 + 0.3)
    late = shares(t, 300)
    assert abs(late["c"] - 100) <= 15, late  # a full third once the window is over
