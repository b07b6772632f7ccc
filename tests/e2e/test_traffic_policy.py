"""Traffic policy in the route model: path_separated_prefix, version selectors, sticky versions,
fault injection (delay, abort, drop, header-controlled faults, --max-active-faults), caller
identity (--identity / TURNOUT_IDENTITY / A8_SERVICE), validation and persistence.

Every backend is a harness Backend whose name is its version ("v1", "v2", "v3"), so the
X-Backend header of an answer says which version served it; a local answer (fault abort, 404)
has no X-Backend. Loopback only; every loop is bounded in count and every wait in time.
"""
import collections
import json
import os
import subprocess
import time

import pytest
import requests

from harness import (
    LOCALHOST,
    RawClient,
    api_error,
    assert_subset,
    build_request,
    describe,
    endpoint,
    item_of,
    pattern_bytes,
    run_cli,
    service,
    sha256,
    to_yaml,
)

EXPIRE_SUFFIX = "; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT"


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------
@pytest.fixture
def versions(backend_factory):
    """Three backends named after the version they serve, and a default one."""
    return {name: backend_factory(name) for name in ("v1", "v2", "v3", "other")}


def _hello_service(vb, name="hello"):
    return service(name, endpoint(vb["v1"], "v1"), endpoint(vb["v2"], "v2"),
                   endpoint(vb["v3"], "v3"))


def _t(version, weight=None, match=None, svc="hello"):
    t = {"service": svc, "version": version}
    if weight is not None:
        t["weight"] = weight
    if match is not None:
        t["match"] = match
    return t


def _route(rid, prefix, split, strip=True, **extra):
    r = {"id": rid, "match": {"path_separated_prefix": prefix}}
    if strip:
        r["rewrite"] = {"strip_prefix": True}
    r["split"] = split
    r.update(extra)
    return r


def _default_route():
    return {"id": "default", "priority": -10, "match": {"path_prefix": "/"},
            "split": [{"service": "other"}]}


def _config(vb, *routes, default=True):
    services = [_hello_service(vb), service("other", endpoint(vb["other"]))]
    rs = list(routes) + ([_default_route()] if default else [])
    return {"services": services, "routes": rs}


def _timed(client, path, headers=None, method="GET", body=b""):
    t0 = time.monotonic()
    r = client.request(method, path, headers=headers, body=body)
    return r, time.monotonic() - t0


# --------------------------------------------------------------------------------------------
# path_separated_prefix and strip_prefix
# --------------------------------------------------------------------------------------------
def test_path_separated_prefix_matches_segments_and_strips(turnout_factory, versions):
    cfg = _config(versions, _route("hello", "/hello", [_t("v1")]))
    t = turnout_factory(config=cfg)
    v1, other = versions["v1"], versions["other"]
    cases = [
        ("/hello", "v1", "/"),
        ("/hello/", "v1", "/"),
        ("/hello?q=1", "v1", "/?q=1"),
        ("/hello/x?q=1", "v1", "/x?q=1"),
        ("/hello/x/y", "v1", "/x/y"),
        ("/hellox", "other", "/hellox"),
        ("/hellox/y", "other", "/hellox/y"),
        ("/hell", "other", "/hell"),
        ("/", "other", "/"),
    ]
    with RawClient(t.port) as c:
        for path, who, upstream in cases:
            r = c.request("GET", path)
            assert r.status == 200, (path, r)
            assert r.header("X-Backend") == who, (path, r)
            got = (v1 if who == "v1" else other).last().target
            assert got == upstream, f"{path}: upstream target {got!r}, want {upstream!r}"


def test_path_separated_prefix_without_strip_keeps_path(turnout_factory, versions):
    cfg = _config(versions, _route("hello", "/hello", [_t("v1")], strip=False))
    t = turnout_factory(config=cfg)
    with RawClient(t.port) as c:
        assert c.request("GET", "/hello/x?q=1").header("X-Backend") == "v1"
        assert versions["v1"].last().target == "/hello/x?q=1"
        assert c.request("GET", "/hellox").header("X-Backend") == "other"


# --------------------------------------------------------------------------------------------
# Weighted split and selectors
# --------------------------------------------------------------------------------------------
def test_weighted_split_never_draws_selector_targets(turnout_factory, versions):
    split = [_t("v1", 50), _t("v2", 50), _t("v3", match={"headers": {"X-Canary": "^yes$"}})]
    t = turnout_factory(config=_config(versions, _route("hello", "/hello", split)))
    counts = collections.Counter()
    n = 400
    with requests.Session() as s:
        for _ in range(n):
            r = s.get(t.url("/hello/status/200"), timeout=5)
            assert r.status_code == 200
            counts[r.headers.get("X-Backend")] += 1
        # the selector: every matching request, and only those
        for _ in range(20):
            r = s.get(t.url("/hello/status/200"), headers={"X-Canary": "yes"}, timeout=5)
            assert r.headers.get("X-Backend") == "v3", r.headers
        for value in ("no", "yes please", "oh yes", "YES"):
            for _ in range(5):
                r = s.get(t.url("/hello/status/200"), headers={"X-Canary": value}, timeout=5)
                assert r.headers.get("X-Backend") in ("v1", "v2"), (value, r.headers)
    # p=0.5, n=400: sd = 10; [120, 280] is 8 sd either side.
    assert counts["v3"] == 0, counts
    assert counts["v1"] + counts["v2"] == n, counts
    assert 120 <= counts["v1"] <= 280, counts
    assert versions["v3"].count == 20


def test_selectors_header_search_cookie_exact_first_match_wins(turnout_factory, versions):
    split = [_t("v1", 1),
             _t("v2", match={"cookies": {"user": "jason"}}),
             _t("v3", match={"headers": {"X-Canary": "yes"}})]  # unanchored search
    t = turnout_factory(config=_config(versions, _route("hello", "/hello", split)))
    cases = [
        ({}, "v1"),
        ({"Cookie": "user=jason"}, "v2"),
        ({"Cookie": "a=1; user=jason; b=2"}, "v2"),
        ({"Cookie": "user=jasonx"}, "v1"),
        ({"Cookie": "user=jaso"}, "v1"),
        ({"Cookie": "xuser=jason"}, "v1"),
        ({"Cookie": "User=jason"}, "v1"),
        ({"X-Canary": "oh yes please"}, "v3"),
        ({"x-canary": "yes"}, "v3"),
        ({"X-Canary": "no"}, "v1"),
        # both selectors hold: the first in split order wins
        ({"Cookie": "user=jason", "X-Canary": "yes"}, "v2"),
    ]
    with RawClient(t.port) as c:
        for headers, want in cases:
            for _ in range(3):
                r = c.request("GET", "/hello/status/200", headers=headers)
                assert (r.status, r.header("X-Backend")) == (200, want), (headers, r)


def test_split_needs_a_positive_weight_outside_selectors(admin_factory, versions):
    t = admin_factory(config={"services": [_hello_service(versions)], "routes": []})
    api = t.api()
    before = api.config()
    only_selectors = _route("hello", "/hello", [
        _t("v1", 5, match={"headers": {"X-A": "."}}),
        _t("v2", 5, match={"cookies": {"user": "jason"}})])
    api_error(api.put("/v1/routes/hello", json=only_selectors), 400, field="split")
    zero = _route("hello", "/hello", [_t("v1", 0), _t("v2", 7, match={"headers": {"X-A": "."}})])
    api_error(api.put("/v1/routes/hello", json=zero), 400, field="split")
    assert api.config() == before
    api_error(api.get("/v1/routes/hello"), 404)


# --------------------------------------------------------------------------------------------
# Sticky versions
# --------------------------------------------------------------------------------------------
def test_sticky_sets_cookie_keeps_valid_and_replaces_stale(turnout_factory, versions):
    split = [_t("v1", 50), _t("v2", 50)]
    t = turnout_factory(config=_config(
        versions, _route("hello", "/hello", split, sticky={"cookie": "version"})))
    seen = collections.Counter()
    with RawClient(t.port) as c:
        for _ in range(40):
            r = c.request("GET", "/hello/status/200")
            who = r.header("X-Backend")
            assert r.status == 200 and who in ("v1", "v2"), r
            assert r.header_all("Set-Cookie") == [f"version={who}; Path=/hello"], r
            seen[who] += 1
        assert set(seen) == {"v1", "v2"}, seen  # P(one side only in 40) ~ 2e-12

        for cookie, want in (("version=v2", "v2"), ("version=v1", "v1"),
                             ("a=1; version=v2; b=2", "v2"), ('version="v1"', "v1")):
            for _ in range(15):
                r = c.request("GET", "/hello/status/200", headers={"Cookie": cookie})
                assert (r.status, r.header("X-Backend")) == (200, want), (cookie, r)
                assert r.header_all("Set-Cookie") == [], (cookie, r)

        # stale or forged: re-picked normally, never an error, and a fresh cookie replaces it
        for cookie in ("version=v9", "version=", "version=v3", "version=hello:v1"):
            for _ in range(8):
                r = c.request("GET", "/hello/status/200", headers={"Cookie": cookie})
                who = r.header("X-Backend")
                assert r.status == 200 and who in ("v1", "v2"), (cookie, r)
                assert r.header_all("Set-Cookie") == [f"version={who}; Path=/hello"], (cookie, r)


def test_sticky_cookie_jar_sticks_for_a_session(turnout_factory, versions):
    split = [_t("v1", 50), _t("v2", 50)]
    t = turnout_factory(config=_config(
        versions, _route("hello", "/hello", split, sticky={"cookie": "version"})))
    firsts = set()
    for _ in range(8):
        with requests.Session() as s:
            r = s.get(t.url("/hello/status/200"), timeout=5)
            first = r.headers["X-Backend"]
            firsts.add(first)
            assert s.cookies.get("version") == first
            for _ in range(15):
                r = s.get(t.url("/hello/x"), timeout=5)
                assert r.headers["X-Backend"] == first
                assert "Set-Cookie" not in r.headers, r.headers


def test_sticky_path_and_single_label_expiry(turnout_factory, versions):
    routes = [
        _route("custom", "/custom", [_t("v1", 1), _t("v2", 1)],
               sticky={"cookie": "ver", "path": "/app"}),
        _route("solo", "/solo", [_t("v1")], sticky={"cookie": "version", "path": "/"}),
        _route("solodefault", "/solodefault", [_t("v2")], sticky={"cookie": "version"}),
    ]
    t = turnout_factory(config=_config(versions, *routes))
    with RawClient(t.port) as c:
        for _ in range(10):
            r = c.request("GET", "/custom/echo")
            assert r.header_all("Set-Cookie") == [f"ver={r.header('X-Backend')}; Path=/app"], r
        # one target label only: nothing to stick to, no cookie set ...
        for _ in range(5):
            r = c.request("GET", "/solo/echo")
            assert (r.status, r.header("X-Backend")) == (200, "v1")
            assert r.header_all("Set-Cookie") == [], r
            r = c.request("GET", "/solodefault/echo", headers={"Cookie": "other=1"})
            assert (r.status, r.header("X-Backend")) == (200, "v2")
            assert r.header_all("Set-Cookie") == [], r
        # ... and a leftover cookie is expired, whatever it says
        for cookie in ("version=v1", "version=v9", "a=b; version=v2"):
            r = c.request("GET", "/solo/echo", headers={"Cookie": cookie})
            assert (r.status, r.header("X-Backend")) == (200, "v1"), r
            assert r.header_all("Set-Cookie") == ["version=; Path=/" + EXPIRE_SUFFIX], (cookie, r)
            r = c.request("GET", "/solodefault/echo", headers={"Cookie": cookie})
            assert (r.status, r.header("X-Backend")) == (200, "v2"), r
            assert r.header_all("Set-Cookie") == ["version=; Path=/solodefault" + EXPIRE_SUFFIX], \
                (cookie, r)


def test_sticky_default_path_is_the_route_prefix(turnout_factory, versions):
    split = [_t("v1", 1), _t("v2", 1)]
    routes = [
        {"id": "pp", "match": {"path_prefix": "/pp/"}, "split": split,
         "sticky": {"cookie": "version"}},
        {"id": "hosted", "match": {"host": "sticky.example.com"}, "split": split,
         "sticky": {"cookie": "version"}},
        _route("sep", "/sep", split, sticky={"cookie": "version"}),
    ]
    t = turnout_factory(config=_config(versions, *routes))
    with RawClient(t.port) as c:
        for path, host, cookie_path in (("/pp/x", "e2e.test", "/pp/"),
                                        ("/any/thing", "sticky.example.com", "/"),
                                        ("/sep/x", "e2e.test", "/sep")):
            for _ in range(4):
                r = c.request("GET", path, host=host)
                who = r.header("X-Backend")
                assert r.status == 200 and who in ("v1", "v2"), (path, r)
                assert r.header_all("Set-Cookie") == [f"version={who}; Path={cookie_path}"], \
                    (path, r)
        # a route without sticky sets nothing
        r = c.request("GET", "/elsewhere")
        assert r.header("X-Backend") == "other" and r.header_all("Set-Cookie") == [], r


def test_sticky_label_is_service_colon_version_across_services(turnout_factory, backend_factory):
    a, b = backend_factory("a"), backend_factory("b")
    cfg = {"services": [service("alpha", endpoint(a, "v1")), service("beta", endpoint(b, "v1"))],
           "routes": [_route("multi", "/multi",
                             [_t("v1", 1, svc="alpha"), _t("v1", 1, svc="beta")],
                             sticky={"cookie": "version"})]}
    t = turnout_factory(config=cfg)
    labels = {"a": "alpha:v1", "b": "beta:v1"}
    seen = set()
    with RawClient(t.port) as c:
        for _ in range(30):
            r = c.request("GET", "/multi/echo")
            who = r.header("X-Backend")
            seen.add(who)
            assert r.header_all("Set-Cookie") == [f"version={labels[who]}; Path=/multi"], r
        assert seen == {"a", "b"}
        for _ in range(10):
            r = c.request("GET", "/multi/echo", headers={"Cookie": "version=beta:v1"})
            assert r.header("X-Backend") == "b" and r.header_all("Set-Cookie") == [], r
        # the bare version is not a label of this split: re-picked, fresh cookie
        r = c.request("GET", "/multi/echo", headers={"Cookie": "version=v1"})
        assert r.status == 200
        assert r.header_all("Set-Cookie") == [f"version={labels[r.header('X-Backend')]}; Path=/multi"]


# --------------------------------------------------------------------------------------------
# Faults: abort, drop, delay, order, percentages
# --------------------------------------------------------------------------------------------
def test_abort_answers_locally_html_and_json(turnout_factory, versions):
    faults = [{"match": {"headers": {"X-Abort": "."}}, "abort": {"status": 503, "percent": 100}},
              {"match": {"headers": {"X-Teapot": "."}}, "abort": {"status": 418}},
              {"match": {"headers": {"X-Ok": "."}}, "abort": {"status": 200}}]
    t = turnout_factory(config=_config(versions, _route("hello", "/hello", [_t("v1")],
                                                        faults=faults)))
    v1 = versions["v1"]
    with RawClient(t.port) as c:
        r = c.request("GET", "/hello/echo", headers={"X-Abort": "1", "X-Request-Id": "rid-abort"})
        assert r.status == 503 and r.header("X-Backend") is None, r
        assert "text/html" in (r.header("Content-Type") or ""), r
        assert b"503" in r.body and b"rid-abort" in r.body, r
        r = c.request("GET", "/hello/echo", headers={"X-Abort": "1", "Accept": "application/json",
                                                     "X-Request-Id": "rid-json"})
        assert r.status == 503 and "application/json" in (r.header("Content-Type") or ""), r
        doc = json.loads(r.body)
        assert doc["error"]["status"] == 503 and doc["error"]["request_id"] == "rid-json", doc
        r = c.request("GET", "/hello/echo", headers={"X-Teapot": "1"})
        assert r.status == 418 and r.header("X-Backend") is None, r
        r = c.request("GET", "/hello/echo", headers={"X-Ok": "1"})
        assert r.status == 200 and r.header("X-Backend") is None, r
        assert v1.count == 0, "an aborted request reached the backend"
        # the connection survives the aborts; no trigger, no fault
        r = c.request("GET", "/hello/echo")
        assert (r.status, r.header("X-Backend")) == (200, "v1")
        r = c.request("GET", "/hello/echo", headers={"X-Abort": ""})  # "." needs a character
        assert (r.status, r.header("X-Backend")) == (200, "v1")
    assert v1.count == 2


@pytest.mark.parametrize("status", [204, 304])
def test_abort_with_bodyless_status_keeps_the_connection_framed(turnout_factory, versions, status):
    """A 204/304 answer has no body (RFC 9110): an abort with such a status must not write one,
    or the next response on the keep-alive connection is garbage."""
    faults = [{"match": {"headers": {"X-Abort": "."}}, "abort": {"status": status}}]
    t = turnout_factory(config=_config(versions, _route("hello", "/hello", [_t("v1")],
                                                        faults=faults)))
    with RawClient(t.port, timeout=3) as c:
        r = c.request("GET", "/hello/echo", headers={"X-Abort": "1"})
        assert r.status == status, r
        r2 = c.request("GET", "/hello/echo")
        assert (r2.status, r2.header("X-Backend")) == (200, "v1"), r2


def test_abort_drop_closes_without_a_byte(turnout_factory, versions):
    faults = [{"match": {"headers": {"X-Drop": "."}}, "abort": {"status": "drop"}}]
    t = turnout_factory(config=_config(versions, _route("hello", "/hello", [_t("v1")],
                                                        faults=faults)))
    for _ in range(3):
        with RawClient(t.port, timeout=3) as c:
            c.send(build_request("GET", "/hello/echo", {"X-Drop": "yes"}))
            closed, got = c.wait_closed(timeout=3)
            assert closed and got == b"", f"drop: closed={closed} bytes={got!r}"
    # after a keep-alive exchange, too
    with RawClient(t.port, timeout=3) as c:
        assert c.request("GET", "/hello/echo").status == 200
        c.send(build_request("GET", "/hello/echo", {"X-Drop": "yes"}))
        closed, got = c.wait_closed(timeout=3)
        assert closed and got == b"", f"drop: closed={closed} bytes={got!r}"
    assert versions["v1"].count == 1
    with RawClient(t.port) as c:  # the proxy is fine
        assert c.request("GET", "/hello/echo").status == 200


def test_fault_version_restriction_follows_version_selection(turnout_factory, versions):
    split = [_t("v1", 50), _t("v2", 50), _t("v3", match={"headers": {"X-Canary": "^yes$"}})]
    faults = [{"match": {"headers": {"X-Gremlin-Id": "test-"}}, "version": "v2",
               "delay": {"seconds": 0.5, "percent": 100}},
              {"version": "v3", "abort": {"status": 503}}]
    t = turnout_factory(config=_config(versions, _route(
        "hello", "/hello", split, sticky={"cookie": "version"}, faults=faults)))
    gremlin = {"X-Gremlin-Id": "xtest-42"}  # unanchored search
    with RawClient(t.port) as c:
        for _ in range(2):
            r, dt = _timed(c, "/hello/echo", {**gremlin, "Cookie": "version=v2"})
            assert (r.status, r.header("X-Backend")) == (200, "v2") and dt >= 0.45, (r, dt)
            r, dt = _timed(c, "/hello/echo", {**gremlin, "Cookie": "version=v1"})
            assert (r.status, r.header("X-Backend")) == (200, "v1") and dt < 0.4, (r, dt)
            r, dt = _timed(c, "/hello/echo", {"Cookie": "version=v2"})
            assert (r.status, r.header("X-Backend")) == (200, "v2") and dt < 0.4, (r, dt)
        # randomly drawn versions: only the requests that picked v2 are slowed
        slow = collections.Counter()
        for _ in range(12):
            r, dt = _timed(c, "/hello/echo", gremlin)
            who = r.header("X-Backend")
            assert r.status == 200 and who in ("v1", "v2"), r
            assert (dt >= 0.45) == (who == "v2"), (who, dt)
            slow[who] += 1
        # the v3 selector picks v3, and the v3-only abort fires for it alone
        for _ in range(5):
            r = c.request("GET", "/hello/echo", headers={"X-Canary": "yes"})
            assert r.status == 503 and r.header("X-Backend") is None, r
    assert versions["v3"].count == 0


def test_delays_add_and_first_abort_wins(turnout_factory, versions):
    faults = [{"match": {"headers": {"X-F": "."}}, "delay": {"seconds": 0.3}},
              {"match": {"headers": {"X-F": "."}}, "delay": {"seconds": 0.3},
               "abort": {"status": 503}},
              {"match": {"headers": {"X-F": "."}}, "abort": {"status": 429}},
              {"match": {"headers": {"X-G": "."}}, "delay": {"seconds": 0.4},
               "abort": {"status": 429}},
              {"match": {"headers": {"X-D": "."}}, "delay": {"seconds": 0.3},
               "abort": {"status": "drop"}}]
    t = turnout_factory(config=_config(versions, _route("hello", "/hello", [_t("v1")],
                                                        faults=faults)))
    with RawClient(t.port) as c:
        r, dt = _timed(c, "/hello/echo", {"X-F": "1"})
        assert r.status == 503 and 0.58 <= dt < 1.5, (r, dt)
        r, dt = _timed(c, "/hello/echo", {"X-G": "1"})  # delay first, then abort
        assert r.status == 429 and 0.38 <= dt < 1.3, (r, dt)
        r, dt = _timed(c, "/hello/echo", {"X-G": "1", "X-F": "1"})
        assert r.status == 503 and 0.98 <= dt < 2.0, (r, dt)
        r, dt = _timed(c, "/hello/echo")
        assert r.status == 200 and dt < 0.4, (r, dt)
    with RawClient(t.port, timeout=3) as c:  # delay, then drop
        t0 = time.monotonic()
        c.send(build_request("GET", "/hello/echo", {"X-D": "1"}))
        closed, got = c.wait_closed(timeout=3)
        dt = time.monotonic() - t0
        assert closed and got == b"" and 0.28 <= dt < 1.5, (closed, got, dt)
    assert versions["v1"].count == 1


def test_fractional_abort_percent(turnout_factory, versions):
    faults = [{"abort": {"status": 503, "percent": 30.5}}]
    t = turnout_factory(config=_config(versions, _route("hello", "/hello", [_t("v1")],
                                                        faults=faults)))
    n = 1000
    counts = collections.Counter()
    with requests.Session() as s:
        for _ in range(n):
            counts[s.get(t.url("/hello/status/200"), timeout=5).status_code] += 1
    # p=0.305, n=1000: sd = 14.6; [220, 380] is more than 5 sd either side.
    assert set(counts) <= {200, 503}, counts
    assert 220 <= counts[503] <= 380, counts
    assert versions["v1"].count == counts[200]


def test_delay_is_a_timer_not_a_blocked_worker(turnout_factory, versions):
    faults = [{"delay": {"seconds": 1.0}}]
    t = turnout_factory(config=_config(versions, _route("slow", "/slow", [_t("v1")],
                                                        faults=faults)), workers=1)
    with RawClient(t.port, timeout=5) as delayed:
        t0 = time.monotonic()
        delayed.send(build_request("GET", "/slow/echo"))
        time.sleep(0.2)  # one bounded wait: the delayed request is in the worker by now
        with RawClient(t.port, timeout=5) as c:
            for _ in range(3):
                r, dt = _timed(c, "/fast/echo")
                assert (r.status, r.header("X-Backend")) == (200, "other"), r
                assert dt < 0.5, f"a request to another route took {dt:.3f}s during a delay"
        r = delayed.read_response()
        dt = time.monotonic() - t0
        assert (r.status, r.header("X-Backend")) == (200, "v1") and 0.95 <= dt < 3.0, (r, dt)


def test_delayed_request_body_arrives_whole(turnout_factory, versions):
    faults = [{"delay": {"seconds": 0.3}}]
    t = turnout_factory(config=_config(versions, _route("hello", "/hello", [_t("v1")],
                                                        faults=faults)))
    body = pattern_bytes(700 * 1024)
    with RawClient(t.port, timeout=10) as c:
        r, dt = _timed(c, "/hello/echo", method="POST", body=body)
        assert r.status == 200 and dt >= 0.28, (r.status, dt)
        doc = json.loads(r.body)
        assert doc["body_len"] == len(body) and doc["body_sha256"] == sha256(body), doc
        r = c.request("GET", "/hello/echo")  # the connection is still in step
        assert r.status == 200 and json.loads(r.body)["method"] == "GET"


# --------------------------------------------------------------------------------------------
# Header-controlled faults (Envoy's x-envoy-fault-*)
# --------------------------------------------------------------------------------------------
def test_header_controlled_faults(turnout_factory, versions):
    routes = [
        _route("hdr", "/hdr", [_t("v1")],
               faults=[{"delay": {"from_header": True}, "abort": {"from_header": True}}]),
        _route("low", "/low", [_t("v1")],
               faults=[{"abort": {"from_header": True, "percent": 0}}]),
    ]
    t = turnout_factory(config=_config(versions, *routes))
    v1 = versions["v1"]
    ab, dl = "x-envoy-fault-abort-request", "x-envoy-fault-delay-request"
    with RawClient(t.port) as c:
        r, dt = _timed(c, "/hdr/echo")
        assert (r.status, r.header("X-Backend")) == (200, "v1") and dt < 0.4, (r, dt)
        r = c.request("GET", "/hdr/echo", headers={ab: "418"})
        assert r.status == 418 and r.header("X-Backend") is None, r
        r = c.request("GET", "/hdr/echo", headers={"X-Envoy-Fault-Abort-Request": "502"})
        assert r.status == 502 and r.header("X-Backend") is None, r
        r = c.request("GET", "/hdr/echo", headers={ab: "200"})
        assert r.status == 200 and r.header("X-Backend") is None, r
        for bad in ("600", "199", "0", "abc", "-503", ""):
            r = c.request("GET", "/hdr/echo", headers={ab: bad})
            assert (r.status, r.header("X-Backend")) == (200, "v1"), (bad, r)
        r, dt = _timed(c, "/hdr/echo", {dl: "500"})
        assert (r.status, r.header("X-Backend")) == (200, "v1") and 0.48 <= dt < 2.0, (r, dt)
        r, dt = _timed(c, "/hdr/echo", {dl: "500", ab: "503"})
        assert r.status == 503 and 0.48 <= dt < 2.0, (r, dt)
        r, dt = _timed(c, "/hdr/echo", {dl: "500", f"{dl}-percentage": "0"})
        assert (r.status, r.header("X-Backend")) == (200, "v1") and dt < 0.4, (r, dt)
        for bad in ("0", "abc", "-5", "3600001"):
            r, dt = _timed(c, "/hdr/echo", {dl: bad})
            assert (r.status, r.header("X-Backend")) == (200, "v1") and dt < 0.4, (bad, r, dt)
        r = c.request("GET", "/hdr/echo", headers={ab: "503", f"{ab}-percentage": "0"})
        assert (r.status, r.header("X-Backend")) == (200, "v1"), r
        r = c.request("GET", "/hdr/echo", headers={ab: "503", f"{ab}-percentage": "100"})
        assert r.status == 503, r
        # configured 0 %: the percentage header can only lower it
        for _ in range(30):
            r = c.request("GET", "/low/echo", headers={ab: "503", f"{ab}-percentage": "100"})
            assert (r.status, r.header("X-Backend")) == (200, "v1"), r
    counts = collections.Counter()
    before = v1.count
    with requests.Session() as s:
        for _ in range(400):
            r = s.get(t.url("/hdr/status/200"), headers={ab: "503", f"{ab}-percentage": "50"},
                      timeout=5)
            counts[r.status_code] += 1
    # p=0.5, n=400: sd = 10; [120, 280] is 8 sd either side.
    assert set(counts) <= {200, 503} and 120 <= counts[503] <= 280, counts
    assert v1.count - before == counts[200]


def test_envoy_fault_headers_do_nothing_without_from_header(turnout_factory, versions):
    faults = [{"match": {"headers": {"X-Abort": "."}}, "abort": {"status": 503}},
              {"match": {"headers": {"X-Slow": "."}}, "delay": {"seconds": 0.3}}]
    routes = [_route("hello", "/hello", [_t("v1")], faults=faults),
              _route("plain", "/plain", [_t("v2")])]
    t = turnout_factory(config=_config(versions, *routes))
    envoy = {"x-envoy-fault-abort-request": "503", "x-envoy-fault-delay-request": "500",
             "x-envoy-fault-abort-request-percentage": "100",
             "x-envoy-fault-delay-request-percentage": "100"}
    with RawClient(t.port) as c:
        for path, who in (("/hello/echo", "v1"), ("/plain/echo", "v2"), ("/x", "other")):
            for _ in range(3):
                r, dt = _timed(c, path, envoy)
                assert (r.status, r.header("X-Backend")) == (200, who), (path, r)
                assert dt < 0.4, (path, dt)


# --------------------------------------------------------------------------------------------
# --max-active-faults
# --------------------------------------------------------------------------------------------
def test_max_active_faults_lets_requests_pass_untouched(turnout_factory, versions):
    faults = [{"match": {"headers": {"X-Slow": "."}}, "delay": {"seconds": 1.5},
               "abort": {"status": 503}}]
    t = turnout_factory(config=_config(versions, _route("hello", "/hello", [_t("v1")],
                                                        faults=faults)),
                        extra=["--max-active-faults", "1"])
    with RawClient(t.port, timeout=6) as first:
        t0 = time.monotonic()
        first.send(build_request("GET", "/hello/echo", {"X-Slow": "1"}))
        time.sleep(0.3)  # one bounded wait: the first request is being delayed
        with RawClient(t.port, timeout=6) as c:
            r, dt = _timed(c, "/hello/echo", {"X-Slow": "2"})
            assert (r.status, r.header("X-Backend")) == (200, "v1"), \
                f"past --max-active-faults the request must pass untouched: {r}"
            assert dt < 1.0, f"past --max-active-faults the request was delayed {dt:.3f}s"
        r = first.read_response()
        dt = time.monotonic() - t0
        assert r.status == 503 and 1.45 <= dt < 4.0, (r, dt)
    # the slot is free again: the next one gets its fault
    with RawClient(t.port, timeout=6) as c:
        r, dt = _timed(c, "/hello/echo", {"X-Slow": "3"})
        assert r.status == 503 and 1.45 <= dt < 4.0, (r, dt)
    assert versions["v1"].count == 1
    # The counters say what happened: two delays and aborts, one request past the cap.
    metrics = _metrics(t)
    assert metrics['turnout_faults_injected_total{kind="delay"}'] == 2, metrics
    assert metrics['turnout_faults_injected_total{kind="abort"}'] == 2, metrics
    assert metrics['turnout_faults_injected_total{kind="drop"}'] == 0, metrics
    assert metrics["turnout_faults_overflow_total"] == 1, metrics
    assert metrics["turnout_faults_active"] == 0, metrics


def _metrics(t) -> dict:
    """The samples of GET /metrics on the admin listener, by series name with labels."""
    text = requests.get(t.admin_url("/metrics"), timeout=5).text
    samples = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            samples[name] = float(value)
    return samples


def test_client_gone_during_delay_releases_the_fault_slot(turnout_factory, versions):
    faults = [{"match": {"headers": {"X-Slow": "."}}, "delay": {"seconds": 0.5}}]
    t = turnout_factory(config=_config(versions, _route("hello", "/hello", [_t("v1")],
                                                        faults=faults)),
                        extra=["--max-active-faults", "1"], workers=1)
    for _ in range(3):
        with RawClient(t.port, timeout=3) as gone:
            gone.send(build_request("GET", "/hello/echo", {"X-Slow": "1"}))
            time.sleep(0.1)
        time.sleep(0.7)  # bounded: past the abandoned request's delay
        with RawClient(t.port, timeout=5) as c:
            r, dt = _timed(c, "/hello/echo", {"X-Slow": "2"})
            assert (r.status, r.header("X-Backend")) == (200, "v1"), r
            assert dt >= 0.45, f"the slot of a gone client was not released ({dt:.3f}s)"
            r, dt = _timed(c, "/hello/echo")
            assert r.status == 200 and dt < 0.4
    assert t.alive()


# --------------------------------------------------------------------------------------------
# Identity
# --------------------------------------------------------------------------------------------
def _identity_config(vb):
    routes = [
        _route("exact", "/exact", [_t("v1")], match={"path_separated_prefix": "/exact",
                                                     "source": "reviews:v2"}),
        _route("name", "/name", [_t("v1")], match={"path_separated_prefix": "/name",
                                                   "source": "reviews"}),
        _route("a8", "/a8", [_t("v1")], match={"path_separated_prefix": "/a8",
                                               "source": "reviews_v2"}),
        _route("othername", "/othername", [_t("v1")],
               match={"path_separated_prefix": "/othername", "source": "ratings"}),
        _route("otherver", "/otherver", [_t("v1")],
               match={"path_separated_prefix": "/otherver", "source": "reviews:v1"}),
        _route("sel", "/sel", [_t("v1", 1),
                               _t("v2", match={"source": "productpage"}),
                               _t("v3", match={"source": "reviews:v2"})]),
        _route("faults", "/faults", [_t("v1")], faults=[
            {"match": {"source": "reviews:v1"}, "abort": {"status": 503}},
            {"match": {"source": "reviews", "headers": {"X-F": "."}}, "abort": {"status": 418}},
            {"match": {"source": "reviews_v2", "headers": {"X-G": "."}}, "abort": {"status": 429}},
        ]),
    ]
    return {"services": [_hello_service(vb)], "routes": routes}


def _identity_answers(t):
    out = {}
    with RawClient(t.port) as c:
        for path in ("/exact", "/name", "/a8", "/othername", "/otherver", "/sel", "/faults"):
            r = c.request("GET", path + "/echo")
            out[path] = (r.status, r.header("X-Backend"))
        for h in ("X-F", "X-G"):
            r = c.request("GET", "/faults/echo", headers={h: "1"})
            out["/faults+" + h] = (r.status, r.header("X-Backend"))
    return out


WITH_IDENTITY = {"/exact": (200, "v1"), "/name": (200, "v1"), "/a8": (200, "v1"),
                 "/othername": (404, None), "/otherver": (404, None), "/sel": (200, "v3"),
                 "/faults": (200, "v1"), "/faults+X-F": (418, None), "/faults+X-G": (429, None)}
WITHOUT_IDENTITY = {"/exact": (404, None), "/name": (404, None), "/a8": (404, None),
                    "/othername": (404, None), "/otherver": (404, None), "/sel": (200, "v1"),
                    "/faults": (200, "v1"), "/faults+X-F": (200, "v1"),
                    "/faults+X-G": (200, "v1")}


def test_identity_flag_scopes_routes_selectors_and_faults(turnout_factory, versions, monkeypatch):
    for var in ("TURNOUT_IDENTITY", "A8_SERVICE"):
        monkeypatch.delenv(var, raising=False)
    t = turnout_factory(config=_identity_config(versions), extra=["--identity", "reviews:v2"])
    assert _identity_answers(t) == WITH_IDENTITY
    # the flag wins over the environment
    monkeypatch.setenv("TURNOUT_IDENTITY", "ratings:v1")
    t = turnout_factory(config=_identity_config(versions), extra=["--identity", "reviews:v2"])
    assert _identity_answers(t) == WITH_IDENTITY


def test_no_identity_makes_scoped_objects_inert(turnout_factory, versions, monkeypatch):
    for var in ("TURNOUT_IDENTITY", "A8_SERVICE"):
        monkeypatch.delenv(var, raising=False)
    t = turnout_factory(config=_identity_config(versions))
    assert _identity_answers(t) == WITHOUT_IDENTITY


@pytest.mark.parametrize("var", ["TURNOUT_IDENTITY", "A8_SERVICE"])
def test_identity_from_environment(turnout_factory, versions, monkeypatch, var):
    for v in ("TURNOUT_IDENTITY", "A8_SERVICE"):
        monkeypatch.delenv(v, raising=False)
    monkeypatch.setenv(var, "reviews:v2")
    t = turnout_factory(config=_identity_config(versions))
    assert _identity_answers(t) == WITH_IDENTITY


def test_turnout_identity_wins_over_a8_service(turnout_factory, versions, monkeypatch):
    monkeypatch.setenv("TURNOUT_IDENTITY", "reviews:v2")
    monkeypatch.setenv("A8_SERVICE", "ratings:v1")
    t = turnout_factory(config=_identity_config(versions))
    assert _identity_answers(t) == WITH_IDENTITY


def test_bad_identity_exits_2(turnout_bin, tmp_path):
    base = ["run", "--listen", f"{LOCALHOST}:0", "--admin", f"{LOCALHOST}:0",
            "--data-dir", str(tmp_path / "data"), "--workers", "1"]
    env = {k: v for k, v in os.environ.items() if k not in ("TURNOUT_IDENTITY", "A8_SERVICE")}
    for bad in ("a b", "reviews:", ":v1", "re/views:v1"):
        p = subprocess.run([turnout_bin, *base, "--identity", bad], stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=10, env=env)
        err = p.stderr.decode(errors="replace")
        assert p.returncode == 2, (bad, p.returncode, err)
        assert "identity" in err.lower() and err.strip(), (bad, err)
        assert b"listening" not in p.stdout
    for var in ("TURNOUT_IDENTITY", "A8_SERVICE"):
        p = subprocess.run([turnout_bin, *base], stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=10, env={**env, var: "a b"})
        assert p.returncode == 2, (var, p.returncode, p.stderr)
        assert p.stderr.strip(), var


# --------------------------------------------------------------------------------------------
# Validation: admin API and `turnout check`
# --------------------------------------------------------------------------------------------
def _valid_policy_route():
    return _route("hello", "/hello",
                  [_t("v1", 50), _t("v2", 50), _t("v3", match={"headers": {"X-Canary": "^yes$"}})],
                  sticky={"cookie": "version"},
                  faults=[{"match": {"headers": {"X-Abort": "."}}, "abort": {"status": 503}}])


def _bad_routes():
    """(name, route body, field of the error relative to the route)."""
    base = _valid_policy_route

    def with_(fn):
        r = base()
        fn(r)
        return r

    def fault(f):
        return lambda r: r.__setitem__("faults", [f])

    return [
        ("fault-without-delay-or-abort",
         with_(fault({"match": {"headers": {"X-A": "."}}})), "faults[0]"),
        ("delay-seconds-and-from-header",
         with_(fault({"delay": {"seconds": 1, "from_header": True}})), "faults[0].delay"),
        ("delay-neither-seconds-nor-from-header",
         with_(fault({"delay": {"percent": 50}})), "faults[0].delay"),
        ("abort-status-and-from-header",
         with_(fault({"abort": {"status": 503, "from_header": True}})), "faults[0].abort"),
        ("abort-600", with_(fault({"abort": {"status": 600}})), "faults[0].abort.status"),
        ("abort-199", with_(fault({"abort": {"status": 199}})), "faults[0].abort.status"),
        ("abort-crash", with_(fault({"abort": {"status": "crash"}})), "faults[0].abort.status"),
        ("abort-percent-101", with_(fault({"abort": {"status": 503, "percent": 101}})),
         "faults[0].abort.percent"),
        ("delay-percent-101", with_(fault({"delay": {"seconds": 1, "percent": 101}})),
         "faults[0].delay.percent"),
        ("abort-percent-negative", with_(fault({"abort": {"status": 503, "percent": -1}})),
         "faults[0].abort.percent"),
        ("delay-seconds-negative", with_(fault({"delay": {"seconds": -1}})),
         "faults[0].delay.seconds"),
        ("fault-version-not-in-split", with_(fault({"version": "v9", "abort": {"status": 503}})),
         "faults[0].version"),
        ("fault-version-of-service-not-in-split", with_(lambda r: (
            r.__setitem__("split", [_t("v1", 1), _t("v2", 1)]),
            r.__setitem__("faults", [{"version": "v3", "abort": {"status": 503}}]))),
         "faults[0].version"),
        ("sticky-path-relative", with_(lambda r: r.__setitem__(
            "sticky", {"cookie": "version", "path": "hello"})), "sticky.path"),
        ("sticky-bad-cookie-name", with_(lambda r: r.__setitem__(
            "sticky", {"cookie": "bad name"})), "sticky.cookie"),
        ("sticky-cookie-with-equals", with_(lambda r: r.__setitem__(
            "sticky", {"cookie": "a=b"})), "sticky.cookie"),
        ("route-source-bad", with_(lambda r: r["match"].__setitem__("source", "a b")),
         "match.source"),
        ("fault-source-bad", with_(fault({"match": {"source": "a b"}, "abort": {"status": 503}})),
         "faults[0].match.source"),
        ("selector-source-bad", with_(lambda r: r["split"][2]["match"].__setitem__(
            "source", "a b")), "split[2].match.source"),
        ("selector-cookie-value-semicolon", with_(lambda r: r["split"][2].__setitem__(
            "match", {"cookies": {"user": "a;b"}})), "split[2].match.cookies.user"),
        ("fault-header-bad-regex", with_(fault({"match": {"headers": {"X-A": "("}},
                                                "abort": {"status": 503}})),
         "faults[0].match.headers.X-A"),
        ("selectors-only", with_(lambda r: r.__setitem__("split", [
            _t("v1", 5, match={"headers": {"X-A": "."}}),
            _t("v2", 5, match={"cookies": {"user": "jason"}})])), "split"),
    ]


def test_admin_api_refuses_bad_policies_and_changes_nothing(admin_factory, versions):
    t = admin_factory(config={"services": [_hello_service(versions)], "routes": []})
    api = t.api()
    good = _valid_policy_route()
    api.ok("PUT", "/v1/routes/hello", json=good, expect=201)
    before_route = item_of(api.ok("GET", "/v1/routes/hello", expect=200), "route")
    before = api.config()
    failures = []
    for name, body, field in _bad_routes():
        r = api.put("/v1/routes/hello", json=body)
        try:
            api_error(r, 400, field=field)
        except AssertionError as e:
            failures.append(f"{name}: {e}")
        after = item_of(api.ok("GET", "/v1/routes/hello", expect=200), "route")
        if after != before_route:
            failures.append(f"{name}: the route changed: {after}")
        # a new route id fails the same way and is not created
        body2 = dict(body, id="fresh")
        r = api.put("/v1/routes/fresh", json=body2)
        if r.status_code != 400:
            failures.append(f"{name}: new route: {describe(r)}")
    assert api.config() == before
    api_error(api.get("/v1/routes/fresh"), 404)
    assert not failures, "\n".join(failures)
    # and the running behaviour is the good route's
    with RawClient(t.port) as c:
        assert c.request("GET", "/hello/echo", headers={"X-Abort": "1"}).status == 503
        assert c.request("GET", "/hello/echo", headers={"X-Canary": "yes"}).header("X-Backend") == "v3"


def _yaml_scalar(v):
    if v is True:
        return "true"
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return repr(v)
    return json.dumps(str(v))


def _check_yaml(route_body: dict, addresses):
    """A YAML document (one key per line) and {field path: line of its key}."""
    lines = ["services:", "  - name: hello", "    endpoints:"]
    for addr, ver in addresses:
        lines += [f"      - address: {json.dumps(addr)}", f"        version: {ver}"]
    lines += ["routes:"]
    where = {}

    def emit(obj, indent, path, first_prefix=None):
        pad = " " * indent
        for i, (k, v) in enumerate(obj.items()):
            lead = first_prefix if (i == 0 and first_prefix is not None) else pad
            field = f"{path}.{k}" if path else k
            where[field] = len(lines) + 1
            if isinstance(v, dict):
                lines.append(f"{lead}{json.dumps(k) if ' ' in k else k}:")
                emit(v, indent + 2, field)
            elif isinstance(v, list):
                lines.append(f"{lead}{k}:")
                for j, item in enumerate(v):
                    where[f"{field}[{j}]"] = len(lines) + 1
                    emit(item, indent + 4, f"{field}[{j}]", first_prefix=pad + "  - ")
            else:
                lines.append(f"{lead}{k}: {_yaml_scalar(v)}")

    where["routes[0]"] = len(lines) + 1
    emit(route_body, 4, "routes[0]", first_prefix="  - ")
    return "\n".join(lines) + "\n", where


def test_check_reports_bad_policies_with_file_line_and_field(turnout_bin, tmp_path):
    addresses = [("127.0.0.1:9101", "v1"), ("127.0.0.1:9102", "v2"), ("127.0.0.1:9103", "v3")]
    good_text, _ = _check_yaml(_valid_policy_route(), addresses)
    good = tmp_path / "good.yaml"
    good.write_text(good_text)
    p = run_cli(turnout_bin, ["check", "--config", str(good)])
    assert p.returncode == 0, (good_text, p.stdout, p.stderr)
    failures = []
    for name, body, field in _bad_routes():
        text, where = _check_yaml(body, addresses)
        f = tmp_path / f"{name}.yaml"
        f.write_text(text)
        p = run_cli(turnout_bin, ["check", "--config", str(f)])
        err = p.stderr.decode(errors="replace")
        full = f"routes[0].{field}"
        want = f"{f}:{where[full]}: {full}: "
        if p.returncode != 1 or want not in err:
            failures.append(f"{name}: rc={p.returncode}, want a line starting {want!r}, "
                            f"got:\n{err}\n--- file ---\n{text}")
    assert not failures, "\n\n".join(failures)


# --------------------------------------------------------------------------------------------
# Persistence and round trip through the admin API
# --------------------------------------------------------------------------------------------
def _full_policy_route():
    return _route(
        "hello", "/hello",
        [_t("v1", 50), _t("v2", 50),
         _t("v3", 0, match={"headers": {"X-Canary": "^yes$"}, "cookies": {"user": "jason"}})],
        sticky={"cookie": "version", "path": "/hello"},
        faults=[
            {"match": {"headers": {"X-Gremlin-Id": "test-"}}, "version": "v2",
             "delay": {"seconds": 0.5, "percent": 100}},
            {"match": {"headers": {"X-Abort": "."}}, "abort": {"status": 503, "percent": 100}},
            {"match": {"headers": {"X-Drop": "."}}, "abort": {"status": "drop", "percent": 100}},
            {"match": {"headers": {"X-Frac": "."}}, "abort": {"status": 429, "percent": 12.5}},
            {"delay": {"from_header": True, "percent": 100},
             "abort": {"from_header": True, "percent": 100}},
        ],
        timeout_ms=15000)


def _check_full_policy_behaviour(t, versions):
    with RawClient(t.port, timeout=5) as c:
        r = c.request("GET", "/hello/echo", headers={"Cookie": "version=v2"})
        assert (r.status, r.header("X-Backend")) == (200, "v2") and not r.header_all("Set-Cookie")
        r = c.request("GET", "/hello/echo", headers={"Cookie": "version=v9"})
        assert r.header_all("Set-Cookie") == [f"version={r.header('X-Backend')}; Path=/hello"], r
        r = c.request("GET", "/hello/echo",
                      headers={"X-Canary": "yes", "Cookie": "user=jason"})
        assert r.header("X-Backend") == "v3", r
        r = c.request("GET", "/hello/echo", headers={"X-Canary": "yes"})  # one condition only
        assert r.header("X-Backend") in ("v1", "v2"), r
        r = c.request("GET", "/hello/echo", headers={"X-Abort": "1"})
        assert r.status == 503 and r.header("X-Backend") is None, r
        r, dt = _timed(c, "/hello/echo", {"X-Gremlin-Id": "test-1", "Cookie": "version=v2"})
        assert r.status == 200 and dt >= 0.45, (r, dt)
        r, dt = _timed(c, "/hello/echo", {"X-Gremlin-Id": "test-1", "Cookie": "version=v1"})
        assert r.status == 200 and dt < 0.4, (r, dt)
        r = c.request("GET", "/hello/echo", headers={"x-envoy-fault-abort-request": "451"})
        assert r.status == 451, r
        r = c.request("GET", "/hellox")
        assert r.status == 404, r
    with RawClient(t.port, timeout=3) as c:
        c.send(build_request("GET", "/hello/echo", {"X-Drop": "1"}))
        closed, got = c.wait_closed(timeout=3)
        assert closed and got == b""


def test_policy_round_trips_and_survives_restart(admin_factory, versions):
    t = admin_factory()
    api = t.api()
    api.ok("PUT", "/v1/services/hello", json=_hello_service(versions), expect=201)
    want = _full_policy_route()
    put = api.ok("PUT", "/v1/routes/hello", json=want, expect=201)
    assert_subset(want, put["route"])
    got = item_of(api.ok("GET", "/v1/routes/hello", expect=200), "route")
    assert_subset(want, got)
    listed = api.ok("GET", "/v1/routes", expect=200)["routes"]
    assert_subset(want, listed[0])
    # the GET answer is itself a valid body that changes nothing but the revision
    again = api.ok("PUT", "/v1/routes/hello", json=got, expect=200)
    assert again["route"] == got
    _check_full_policy_behaviour(t, versions)

    t.restart()
    api = t.api()
    after = item_of(api.ok("GET", "/v1/routes/hello", expect=200), "route")
    assert after == got, f"changed across restart:\nbefore={got}\nafter={after}"
    _check_full_policy_behaviour(t, versions)

    t.restart(kill=True)
    api = t.api()
    assert item_of(api.ok("GET", "/v1/routes/hello", expect=200), "route") == got
    _check_full_policy_behaviour(t, versions)


def test_admin_updates_of_separated_prefix_and_policy_take_effect(admin_factory, versions):
    t = admin_factory(config=_config(versions))
    api = t.api()
    api.ok("PUT", "/v1/routes/hello", json=_route("hello", "/hello", [_t("v1")]), expect=201)
    with RawClient(t.port) as c:
        assert c.request("GET", "/hello/x").header("X-Backend") == "v1"
        assert versions["v1"].last().target == "/x"
        assert c.request("GET", "/hellox").header("X-Backend") == "other"
        # same key length, other prefix
        api.ok("PUT", "/v1/routes/hello", json=_route("hello", "/hallo", [_t("v2")]), expect=200)
        assert c.request("GET", "/hello/x").header("X-Backend") == "other"
        assert c.request("GET", "/hallo/x").header("X-Backend") == "v2"
        assert versions["v2"].last().target == "/x"
        assert c.request("GET", "/hallox").header("X-Backend") == "other"
        # add faults and sticky in place, then take them away again
        with_policy = _route("hello", "/hallo", [_t("v1", 1), _t("v2", 1)],
                             sticky={"cookie": "version"},
                             faults=[{"match": {"headers": {"X-Abort": "."}},
                                      "abort": {"status": 503}}])
        api.ok("PUT", "/v1/routes/hello", json=with_policy, expect=200)
        r = c.request("GET", "/hallo/x")
        assert r.header_all("Set-Cookie") == [f"version={r.header('X-Backend')}; Path=/hallo"], r
        assert c.request("GET", "/hallo/x", headers={"X-Abort": "1"}).status == 503
        api.ok("PUT", "/v1/routes/hello", json=_route("hello", "/hallo", [_t("v1", 1), _t("v2", 1)]),
               expect=200)
        got = item_of(api.ok("GET", "/v1/routes/hello", expect=200), "route")
        assert "faults" not in got or got["faults"] == [], got
        assert "sticky" not in got or not got["sticky"].get("cookie"), got
        r = c.request("GET", "/hallo/x", headers={"X-Abort": "1"})
        assert r.status == 200 and r.header_all("Set-Cookie") == [], r


def test_identity_scoped_policy_persists_across_restart(admin_factory, versions, monkeypatch):
    for var in ("TURNOUT_IDENTITY", "A8_SERVICE"):
        monkeypatch.delenv(var, raising=False)
    t = admin_factory(config={"services": [_hello_service(versions)], "routes": []},
                      extra=["--identity", "reviews:v2"])
    api = t.api()
    docs = _identity_config(versions)["routes"]
    for r in docs:
        api.ok("PUT", f"/v1/routes/{r['id']}", json=r, expect=201)
    before = {r["id"]: item_of(api.ok("GET", f"/v1/routes/{r['id']}", expect=200), "route")
              for r in docs}
    for r in docs:
        assert_subset(r, before[r["id"]])
    assert _identity_answers(t) == WITH_IDENTITY
    t.restart()
    api = t.api()
    after = {r["id"]: item_of(api.ok("GET", f"/v1/routes/{r['id']}", expect=200), "route")
             for r in docs}
    assert after == before
    assert _identity_answers(t) == WITH_IDENTITY


def test_yaml_file_and_admin_api_accept_the_same_fields(admin_factory, versions):
    route_doc = _full_policy_route()
    t = admin_factory(config={"services": [_hello_service(versions)], "routes": [route_doc]})
    api = t.api()
    from_file = item_of(api.ok("GET", "/v1/routes/hello", expect=200), "route")
    assert_subset(route_doc, from_file)
    _check_full_policy_behaviour(t, versions)
    # the same object through the API: identical stored form
    api.ok("DELETE", "/v1/routes/hello", expect=200)
    api.ok("PUT", "/v1/routes/hello", json=route_doc, expect=201)
    assert item_of(api.ok("GET", "/v1/routes/hello", expect=200), "route") == from_file
    # and as a YAML body
    r = api.put("/v1/routes/hello", data=to_yaml(route_doc), content_type="application/yaml")
    assert r.status_code == 200, describe(r)
    assert item_of(api.ok("GET", "/v1/routes/hello", expect=200), "route") == from_file
