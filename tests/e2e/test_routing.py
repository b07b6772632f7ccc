"""Routing: host, path, headers, priority/specificity, weighted split, LB, 404 pages."""
import collections
import json
import threading

import requests

from harness import RawClient, endpoint, route, service, wait_until


def _names(*backends):
    return [service(b.name, endpoint(b)) for b in backends]


def _who(t, path="/echo", host="e2e.test", headers=None, client=None):
    if client is None:
        with RawClient(t.port) as c:
            r = c.request("GET", path, headers=headers, host=host)
    else:
        r = client.request("GET", path, headers=headers, host=host)
    return r.status, r.header("X-Backend")


def test_host_exact_wildcard_case_and_port(turnout_factory, backend_factory):
    a, w, d = backend_factory("exact"), backend_factory("wild"), backend_factory("default")
    cfg = {"services": _names(a, w, d),
           "routes": [route("default", "default"),
                      route("wild", "wild", match={"host": "*.example.com"}),
                      route("exact", "exact", match={"host": "a.example.com"})]}
    t = turnout_factory(config=cfg)
    with RawClient(t.port) as c:
        cases = {
            "a.example.com": "exact",
            "A.Example.COM": "exact",
            "a.example.com:8080": "exact",
            "b.example.com": "wild",
            "B.EXAMPLE.com:81": "wild",
            "example.com": "default",
            "a.example.org": "default",
            "aexample.com": "default",
        }
        for host, want in cases.items():
            assert _who(t, host=host, client=c) == (200, want), host


def test_path_prefix_with_strip_prefix_keeps_query(turnout_factory, backend_factory):
    api, d = backend_factory("api"), backend_factory("default")
    cfg = {"services": _names(api, d),
           "routes": [route("default", "default"),
                      route("api", "api", match={"path_prefix": "/api"}, strip_prefix=True)]}
    t = turnout_factory(config=cfg)
    with RawClient(t.port) as c:
        r = c.request("GET", "/api/echo?x=1&y=%2F")
        assert r.status == 200 and r.header("X-Backend") == "api"
        assert api.last().target == "/echo?x=1&y=%2F"
        r = c.request("GET", "/api/v2/items")
        assert r.header("X-Backend") == "api"
        assert api.last().target == "/v2/items"
        r = c.request("GET", "/other/api/echo")
        assert r.header("X-Backend") == "default"
        assert d.last().target == "/other/api/echo"


def test_path_prefix_without_strip_keeps_path(turnout_factory, backend_factory):
    api, d = backend_factory("api"), backend_factory("default")
    cfg = {"services": _names(api, d),
           "routes": [route("default", "default"),
                      route("api", "api", match={"path_prefix": "/api/"})]}
    t = turnout_factory(config=cfg)
    with RawClient(t.port) as c:
        assert _who(t, "/api/echo?q=1", client=c) == (200, "api")
        assert api.last().target == "/api/echo?q=1"


def test_exact_path(turnout_factory, backend_factory):
    ex, d = backend_factory("exact"), backend_factory("default")
    cfg = {"services": _names(ex, d),
           "routes": [route("default", "default"),
                      route("exact", "exact", match={"path": "/only"})]}
    t = turnout_factory(config=cfg)
    with RawClient(t.port) as c:
        assert _who(t, "/only", client=c) == (200, "exact")
        assert _who(t, "/only?q=1", client=c) == (200, "exact")
        assert _who(t, "/only/more", client=c) == (200, "default")
        assert _who(t, "/onlyx", client=c) == (200, "default")


def test_header_regex(turnout_factory, backend_factory):
    qa, d = backend_factory("qa"), backend_factory("default")
    cfg = {"services": _names(qa, d),
           "routes": [route("default", "default"),
                      route("qa", "qa", match={"path_prefix": "/", "headers": {"X-User": "^qa-"}})]}
    t = turnout_factory(config=cfg)
    with RawClient(t.port) as c:
        assert _who(t, headers={"X-User": "qa-bob"}, client=c) == (200, "qa")
        assert _who(t, headers={"x-user": "qa-alice"}, client=c) == (200, "qa")
        assert _who(t, headers={"X-User": "bob-qa-"}, client=c) == (200, "default")
        assert _who(t, headers={"X-Other": "qa-bob"}, client=c) == (200, "default")
        assert _who(t, client=c) == (200, "default")


def test_priority_beats_specificity(turnout_factory, backend_factory):
    hi, spec = backend_factory("high"), backend_factory("specific")
    cfg = {"services": _names(hi, spec),
           "routes": [route("specific", "specific", match={"path": "/p/x"}, priority=0),
                      route("high", "high", match={"path_prefix": "/p"}, priority=10)]}
    t = turnout_factory(config=cfg)
    with RawClient(t.port) as c:
        assert _who(t, "/p/x", client=c) == (200, "high")
        assert _who(t, "/p/y", client=c) == (200, "high")
    assert spec.count == 0


def test_longer_prefix_more_specific_at_equal_priority(turnout_factory, backend_factory):
    short, long_ = backend_factory("short"), backend_factory("long")
    cfg = {"services": _names(short, long_),
           "routes": [route("short", "short", match={"path_prefix": "/s"}),
                      route("long", "long", match={"path_prefix": "/s/deeper"})]}
    t = turnout_factory(config=cfg)
    with RawClient(t.port) as c:
        assert _who(t, "/s/deeper/x", client=c) == (200, "long")
        assert _who(t, "/s/other", client=c) == (200, "short")


def test_weighted_split_90_10(turnout_factory, backend_factory):
    v1, v2 = backend_factory("v1"), backend_factory("v2")
    cfg = {"services": [service("svc", endpoint(v1, version="v1"), endpoint(v2, version="v2"))],
           "routes": [route("split", [{"service": "svc", "version": "v1", "weight": 90},
                                      {"service": "svc", "version": "v2", "weight": 10}])]}
    t = turnout_factory(config=cfg)
    n = 2000
    counts = collections.Counter()
    with requests.Session() as s:
        for _ in range(n):
            r = s.get(t.url("/status/200"), timeout=5)
            assert r.status_code == 200
            counts[r.headers["X-Backend"]] += 1
    assert counts["v1"] + counts["v2"] == n, counts
    # p=0.9, n=2000: sd = 0.0067; [0.80, 0.97] is more than 10 sd either side.
    assert 0.80 * n <= counts["v1"] <= 0.97 * n, counts
    assert v1.count == counts["v1"] and v2.count == counts["v2"]


def test_split_across_two_services(turnout_factory, backend_factory):
    a, b = backend_factory("a"), backend_factory("b")
    cfg = {"services": _names(a, b),
           "routes": [route("split", [{"service": "a", "weight": 1}, {"service": "b", "weight": 1}])]}
    t = turnout_factory(config=cfg)
    counts = collections.Counter()
    with requests.Session() as s:
        for _ in range(400):
            counts[s.get(t.url("/status/200"), timeout=5).headers["X-Backend"]] += 1
    # p=0.5, n=400: sd = 10; [140, 260] is 6 sd.
    assert 140 <= counts["a"] <= 260, counts
    assert counts["a"] + counts["b"] == 400


def test_zero_weight_split_target_gets_nothing(turnout_factory, backend_factory):
    a, b = backend_factory("a"), backend_factory("b")
    cfg = {"services": _names(a, b),
           "routes": [route("split", [{"service": "a", "weight": 1}, {"service": "b", "weight": 0}])]}
    t = turnout_factory(config=cfg)
    with requests.Session() as s:
        for _ in range(100):
            assert s.get(t.url("/status/200"), timeout=5).headers["X-Backend"] == "a"
    assert b.count == 0


def test_round_robin_alternates_exactly(turnout_factory, backend_factory):
    a, b = backend_factory("a"), backend_factory("b")
    cfg = {"services": [service("svc", endpoint(a), endpoint(b), lb="round_robin")],
           "routes": [route("rr", "svc")]}
    t = turnout_factory(config=cfg)
    seq = []
    with RawClient(t.port) as c:
        for _ in range(20):
            r = c.request("GET", "/status/200")
            assert r.status == 200
            seq.append(r.header("X-Backend"))
    assert set(seq) == {"a", "b"}, seq
    assert all(x != y for x, y in zip(seq, seq[1:])), f"not alternating: {seq}"


def test_random_serves_all_endpoints(turnout_factory, backend_factory):
    a, b = backend_factory("a"), backend_factory("b")
    cfg = {"services": [service("svc", endpoint(a), endpoint(b), lb="random")],
           "routes": [route("r", "svc")]}
    t = turnout_factory(config=cfg)
    with requests.Session() as s:
        for _ in range(200):
            assert s.get(t.url("/status/200"), timeout=5).status_code == 200
    # P(fewer than 50 of 200 on one side) at p=0.5 is below 1e-12
    assert 50 <= a.count <= 150 and a.count + b.count == 200, (a.count, b.count)


def test_least_request_avoids_busy_endpoint(turnout_factory, backend_factory):
    a, b = backend_factory("a"), backend_factory("b")
    cfg = {"services": [service("svc", endpoint(a), endpoint(b), lb="least_request")],
           "routes": [route("r", "svc")]}
    # one worker, so "requests in flight" is one well-defined number per endpoint
    t = turnout_factory(config=cfg, workers=1)
    for _ in range(3):
        box = {}
        th = threading.Thread(target=lambda: box.setdefault(
            "r", requests.get(t.url("/slow?ms=1000"), timeout=10)), daemon=True)
        before = (a.count, b.count)
        th.start()
        assert wait_until(lambda: a.count + b.count > sum(before), 3), "slow request not forwarded"
        busy = "a" if a.count > before[0] else "b"
        r = requests.get(t.url("/status/200"), timeout=5)
        assert r.status_code == 200
        assert r.headers["X-Backend"] != busy, "least_request picked the endpoint with a request in flight"
        th.join(10)
        assert box["r"].status_code == 200


def test_no_route_404_html_and_json(turnout_factory, backend):
    cfg = {"services": [service("b1", endpoint(backend))],
           "routes": [route("only", "b1", match={"host": "only.example.com"})]}
    t = turnout_factory(config=cfg)
    with RawClient(t.port) as c:
        r = c.request("GET", "/echo", host="other.example.com",
                      headers={"X-Request-Id": "rid-404-html"})
        assert r.status == 404
        assert "text/html" in (r.header("Content-Type") or "")
        text = r.body.decode("utf-8", "replace")
        assert "404" in text and "rid-404-html" in text

        r = c.request("GET", "/echo", host="other.example.com",
                      headers={"X-Request-Id": "rid-404-json", "Accept": "text/plain, application/json"})
        assert r.status == 404
        assert "application/json" in (r.header("Content-Type") or "")
        doc = json.loads(r.body)
        assert doc["error"]["status"] == 404
        assert doc["error"]["request_id"] == "rid-404-json"
        assert isinstance(doc["error"]["reason"], str) and doc["error"]["reason"]

        # no client id: a generated one, same in the header (if returned) and the page
        r = c.request("GET", "/echo", host="other.example.com", headers={"Accept": "application/json"})
        assert r.status == 404
        rid = json.loads(r.body)["error"]["request_id"]
        assert isinstance(rid, str) and rid
        if r.header("X-Request-Id") is not None:
            assert r.header("X-Request-Id") == rid

        # the connection survives a 404 (not a protocol error)
        assert c.request("GET", "/echo", host="only.example.com").status == 200
    assert backend.count == 1
