"""Amalgam8's later /a8-admin payload, {"instances":[...],"rules":[...]} (reference
seed-behaviours.md §1.6), against a real turnout and real backends.

turnout runs as the sidecar of `productpage:v1` (`--identity productpage:v1`). Backends (the
harness's recording Backend, which names itself in `X-Backend`): reviews v1 on one instance,
reviews v2 on two, ratings v1 on one, plus one that only DOWN instances point to and one that
only productpage's own instance points to: neither may ever receive a request.

Each test POSTs the full payload it needs (a POST replaces every a8 object), so tests do not
depend on each other's state. Loopback only; every loop is bounded and every wait has a timeout.
"""
from __future__ import annotations

import copy
import json
import socket
import time

import pytest

from harness import (
    LOCALHOST,
    AdminTurnout,
    Backend,
    RawClient,
    build_request,
    describe,
    recv_until_closed,
)

IDENTITY = ["--identity", "productpage:v1"]
JASON = "^(.*?;)?(user=jason)(;.*)?$"

BACKENDS = {
    "r1": "reviews-v1",
    "r2a": "reviews-v2-a",
    "r2b": "reviews-v2-b",
    "t1": "ratings-v1",
    "down": "down-instance",
    "self": "productpage-self",
}


@pytest.fixture(scope="module")
def backs():
    made = {key: Backend(name) for key, name in BACKENDS.items()}
    yield made
    for b in made.values():
        b.close()


@pytest.fixture(scope="module")
def rt(turnout_bin, tmp_path_factory, request):
    t = AdminTurnout(turnout_bin, tmp_path_factory.mktemp("a8rules"), name="rules")
    t.start(workers=2, extra=IDENTITY)
    failed_before = request.session.testsfailed
    yield t
    if request.session.testsfailed > failed_before:
        print(f"\n===== {t.dir.name} =====\n{t.diagnostics()}")
    t.kill()


@pytest.fixture(scope="module")
def api(rt):
    client = rt.api()
    yield client
    client.close()


# --------------------------------------------------------------------------------------------
# Payloads
# --------------------------------------------------------------------------------------------
def inst(service, back, tags, status="UP"):
    doc = {"id": f"{service}-{back.port}-{status}", "service_name": service,
           "endpoint": {"type": "http", "value": f"{LOCALHOST}:{back.port}"}, "tags": tags}
    if status is not None:
        doc["status"] = status
    return doc


def route_rule(rid, priority, destination, backends, match=None, timeout=None):
    rule = {"id": rid, "priority": priority, "destination": destination,
            "route": {"backends": backends}}
    if match is not None:
        rule["match"] = match
    if timeout is not None:
        rule["route"]["http_req_timeout"] = timeout
    return rule


def action_rule(rid, priority, destination, actions, match=None):
    rule = {"id": rid, "priority": priority, "destination": destination, "actions": actions}
    if match is not None:
        rule["match"] = match
    return rule


def main_payload(b) -> dict:
    v1, v2 = ["version=v1"], ["version=v2"]
    instances = [
        inst("reviews", b["r1"], v1),
        inst("reviews", b["r2a"], v2),
        inst("reviews", b["r2b"], v2),
        inst("reviews", b["down"], v1, status="DOWN"),
        inst("ratings", b["t1"], v1),
        inst("ratings", b["down"], v1, status="OUT_OF_SERVICE"),
        inst("productpage", b["self"], v1),  # this proxy's own service: never a destination
        inst("helloworld", b["r1"], v1),
        inst("helloworld", b["r2a"], v2),
        inst("helloworld", b["r2b"], v2),
        inst("slowsvc", b["r1"], v1),
    ]
    rules = [
        # Listed before the jason rule: priority, not order, decides.
        route_rule("everyone", 1, "reviews", [{"tags": v1}], match={"headers": {"Cookie": "user="}}),
        route_rule("jason", 2, "reviews", [{"tags": v2}], match={"headers": {"Cookie": JASON}}),
        # Only for productpage:v2 callers (not this proxy), with X-PP2.
        route_rule("pp-v2", 3, "reviews", [{"tags": v1}],
                   match={"source": {"name": "productpage", "tags": ["version=v2"]},
                          "headers": {"X-PP2": "^1$"}}),
        action_rule("slow-v2", 10, "reviews",
                    [{"action": "delay", "duration": 0.5, "tags": v2},
                     {"action": "trace", "log_key": "trace", "log_value": "x"}],
                    match={"source": {"name": "productpage", "tags": ["version=v1"]},
                           "headers": {"X-Slow": "^yes$"}}),
        route_rule("split", 1, "helloworld", [{"weight": 0.25, "tags": v2}, {"tags": v1}]),
        action_rule("abort", 5, "ratings", [{"action": "abort", "return_code": 503}],
                    match={"headers": {"X-Fail": "^abort$"}}),
        action_rule("drop", 4, "ratings",
                    [{"action": "abort", "return_code": -5, "probability": 1}],
                    match={"headers": {"X-Fail": "^drop$"}}),
        route_rule("any", 1, "nopods", [{"tags": v1}]),
        action_rule("idle-delay", 1, "idle", [{"action": "delay", "duration": 0.1}]),
        route_rule("timeout", 1, "slowsvc", [{"tags": v1}], timeout=0.3),
    ]
    return {"instances": instances, "rules": rules}


def post_a8(api, doc_or_bytes):
    body = doc_or_bytes if isinstance(doc_or_bytes, (bytes, str)) else json.dumps(doc_or_bytes)
    return api.request("POST", "/a8-admin", data=body, content_type="application/json")


def post_ok(api, doc):
    r = post_a8(api, doc)
    assert r.status_code == 200, describe(r)
    assert r.text == "", describe(r)


def a8_state(api) -> dict:
    r = api.get("/a8-admin")
    assert r.status_code == 200, describe(r)
    return r.json()


# --------------------------------------------------------------------------------------------
# Data path
# --------------------------------------------------------------------------------------------
class Answer:
    def __init__(self, resp, elapsed):
        self.status = resp.status
        self.backend = resp.header("X-Backend")
        self.cookies = resp.header_all("Set-Cookie")
        self.body = resp.body
        self.elapsed = elapsed

    def version_cookie(self):
        """(value, attributes) of the `version` cookie set, or None."""
        found = [c for c in self.cookies if c.strip().startswith("version=")]
        assert len(found) <= 1, self.cookies
        if not found:
            return None
        first, _, attrs = found[0].partition(";")
        return first.strip()[len("version="):], attrs

    def __repr__(self):
        return (f"<{self.status} backend={self.backend} cookies={self.cookies} "
                f"elapsed={self.elapsed:.3f}s body={self.body[:120]!r}>")


def fetch(t, path, headers=None, timeout=8.0) -> Answer:
    start = time.monotonic()
    with RawClient(t.port, timeout=timeout) as c:
        resp = c.request("GET", path, headers=headers or {})
    return Answer(resp, time.monotonic() - start)


def names(b, *keys):
    return {BACKENDS[k] for k in keys}


def read_until_closed(port, path, headers, timeout=5.0) -> bytes:
    with socket.create_connection((LOCALHOST, port), timeout=timeout) as s:
        s.sendall(build_request("GET", path, headers))
        return recv_until_closed(s, timeout)


# --------------------------------------------------------------------------------------------
# Route rules
# --------------------------------------------------------------------------------------------
def test_jason_rule_beats_the_lower_priority_rule(rt, api, backs):
    post_ok(api, main_payload(backs))
    seen = set()
    for i in range(10):
        a = fetch(rt, "/reviews/", {"Cookie": "user=jason"})
        assert a.status == 200 and a.backend in names(backs, "r2a", "r2b"), (i, a)
        seen.add(a.backend)
    assert seen == names(backs, "r2a", "r2b"), f"both v2 instances serve jason: {seen}"
    # the rule's regex (the original's example) wants no space after a ';'
    a = fetch(rt, "/reviews/", {"Cookie": "theme=dark;user=jason;lang=en"})
    assert a.status == 200 and a.backend in names(backs, "r2a", "r2b"), a
    for cookie in ("user=bob", "user=jasonx", "theme=dark; user=alice"):
        for i in range(3):
            a = fetch(rt, "/reviews/", {"Cookie": cookie})
            assert (a.status, a.backend) == (200, BACKENDS["r1"]), (cookie, i, a)
    # the /reviews prefix is stripped, the query kept
    a = fetch(rt, "/reviews/some/path?q=1", {"Cookie": "user=bob"})
    assert (a.status, a.backend) == (200, BACKENDS["r1"]), a
    assert backs["r1"].last().target == "/some/path?q=1"


def test_source_scoped_rule_ignored_for_another_identity(rt, api, backs):
    post_ok(api, main_payload(backs))
    # pp-v2 (priority 3) names productpage:v2: not this proxy, so jason still gets v2
    for i in range(4):
        a = fetch(rt, "/reviews/", {"Cookie": "user=jason", "X-PP2": "1"})
        assert a.status == 200 and a.backend in names(backs, "r2a", "r2b"), (i, a)
    a = fetch(rt, "/reviews/", {"X-PP2": "1"})
    assert a.status == 412, a


def test_412_when_route_rules_exist_and_none_matches(rt, api, backs):
    post_ok(api, main_payload(backs))
    before = {k: b.count for k, b in backs.items()}
    for headers in ({}, {"Cookie": "theme=dark"}, {"X-Slow": "yes"}):
        a = fetch(rt, "/reviews/", headers)
        assert a.status == 412, (headers, a)
    assert {k: b.count for k, b in backs.items()} == before, "a 412 reaches no backend"


def test_503_for_rules_without_instances(rt, api, backs):
    post_ok(api, main_payload(backs))
    for path in ("/nopods/", "/nopods/x", "/idle/"):
        a = fetch(rt, path)
        assert a.status == 503, (path, a)


def test_404_for_unknown_and_own_service(rt, api, backs):
    post_ok(api, main_payload(backs))
    before = backs["self"].count
    for path in ("/nosuch/", "/productpage/", "/reviewsx/", "/"):
        a = fetch(rt, path, {"Cookie": "user=jason"})
        assert a.status == 404, (path, a)
    assert backs["self"].count == before, "the proxy's own instances are never used"


def test_down_instances_never_used(rt, api, backs):
    post_ok(api, main_payload(backs))
    before = backs["down"].count
    for i in range(12):
        a = fetch(rt, "/ratings/")
        assert (a.status, a.backend) == (200, BACKENDS["t1"]), (i, a)
    for i in range(6):
        a = fetch(rt, "/reviews/", {"Cookie": "user=bob"})
        assert (a.status, a.backend) == (200, BACKENDS["r1"]), (i, a)
    assert backs["down"].count == before


def test_weighted_backends_and_sticky_version_cookie(rt, api, backs):
    post_ok(api, main_payload(backs))
    v1, v2 = names(backs, "r1"), names(backs, "r2a", "r2b")
    counts = {"v1": 0, "v2": 0}
    cookie_of = {}
    for i in range(400):
        a = fetch(rt, "/helloworld/")
        assert a.status == 200 and a.backend in v1 | v2, (i, a)
        version = "v1" if a.backend in v1 else "v2"
        counts[version] += 1
        got = a.version_cookie()
        assert got is not None, f"a route with several backends sets the version cookie: {a}"
        value, attrs = got
        assert "path=/helloworld" in attrs.replace(" ", "").lower(), a
        assert cookie_of.setdefault(version, value) == value, (i, version, value, cookie_of)
    assert 60 <= counts["v2"] <= 140, counts
    assert cookie_of["v1"] != cookie_of["v2"], cookie_of
    # the cookie is honoured
    for version, allowed in (("v2", v2), ("v1", v1)):
        for i in range(10):
            a = fetch(rt, "/helloworld/", {"Cookie": f"version={cookie_of[version]}"})
            assert a.status == 200 and a.backend in allowed, (version, i, a)


def test_http_req_timeout_is_the_route_timeout(rt, api, backs):
    post_ok(api, main_payload(backs))
    a = fetch(rt, "/slowsvc/slow?ms=2000")
    assert a.status == 504, a
    assert 0.25 <= a.elapsed < 1.5, a
    a = fetch(rt, "/slowsvc/slow?ms=20")
    assert (a.status, a.backend) == (200, BACKENDS["r1"]), a


# --------------------------------------------------------------------------------------------
# Actions
# --------------------------------------------------------------------------------------------
def test_delay_action_for_productpage_v1_with_x_slow_on_v2(rt, api, backs):
    post_ok(api, main_payload(backs))
    for i in range(2):
        a = fetch(rt, "/reviews/", {"Cookie": "user=jason", "X-Slow": "yes"})
        assert a.status == 200 and a.backend in names(backs, "r2a", "r2b"), (i, a)
        assert 0.5 <= a.elapsed <= 0.9, f"productpage:v1 -> reviews v2 with X-Slow: 0.5 s: {a}"
    a = fetch(rt, "/reviews/", {"Cookie": "user=bob", "X-Slow": "yes"})
    assert (a.status, a.backend) == (200, BACKENDS["r1"]), a
    assert a.elapsed < 0.4, f"v1 is not delayed: {a}"
    a = fetch(rt, "/reviews/", {"Cookie": "user=jason"})
    assert a.status == 200 and a.backend in names(backs, "r2a", "r2b"), a
    assert a.elapsed < 0.4, f"no X-Slow, no delay: {a}"
    a = fetch(rt, "/reviews/", {"Cookie": "user=jason", "X-Slow": "yesno"})
    assert a.status == 200 and a.elapsed < 0.4, a


def test_delay_action_not_applied_under_another_identity(admin_factory, backs):
    t = admin_factory(workers=1, extra=["--identity", "productpage:v2"])
    client = t.api()
    try:
        post_ok(client, main_payload(backs))
        a = fetch(t, "/reviews/", {"Cookie": "user=jason", "X-Slow": "yes"})
        assert a.status == 200 and a.backend in names(backs, "r2a", "r2b"), a
        assert a.elapsed < 0.4, f"the delay is productpage:v1's only: {a}"
        # and the pp-v2 rule (priority 3) applies to this proxy
        a = fetch(t, "/reviews/", {"Cookie": "user=jason", "X-PP2": "1"})
        assert (a.status, a.backend) == (200, BACKENDS["r1"]), a
        # this proxy's own service is productpage too
        assert fetch(t, "/productpage/").status == 404
    finally:
        client.close()


def test_abort_action_503(rt, api, backs):
    post_ok(api, main_payload(backs))
    before = backs["t1"].count
    for i in range(3):
        a = fetch(rt, "/ratings/", {"X-Fail": "abort"})
        assert a.status == 503, (i, a)
    assert backs["t1"].count == before, "an aborted request does not reach the backend"
    a = fetch(rt, "/ratings/", {"X-Fail": "aborted"})
    assert (a.status, a.backend) == (200, BACKENDS["t1"]), a


def test_negative_return_code_drops_the_connection(rt, api, backs):
    post_ok(api, main_payload(backs))
    before = backs["t1"].count
    got = read_until_closed(rt.port, "/ratings/", {"X-Fail": "drop"})
    assert got == b"", f"a dropped request gets no byte at all, got {got[:200]!r}"
    assert backs["t1"].count == before
    assert rt.alive()
    a = fetch(rt, "/ratings/")
    assert (a.status, a.backend) == (200, BACKENDS["t1"]), a


def test_action_tags_limit_the_catch_all_route(rt, api, backs):
    """A destination without route rules reaches all its instances; an abort tagged
    version=v2 must hit the requests going to v2, and only those."""
    doc = main_payload(backs)
    doc["instances"] += [inst("details", backs["r1"], ["version=v1"]),
                         inst("details", backs["r2a"], ["version=v2"])]
    doc["rules"].append(action_rule("fail-v2", 1, "details",
                                    [{"action": "abort", "return_code": 503,
                                      "tags": ["version=v2"]}]))
    post_ok(api, doc)
    before_v2 = backs["r2a"].count
    statuses = {200: 0, 503: 0}
    for i in range(20):
        a = fetch(rt, "/details/")
        assert a.status in (200, 503), (i, a)
        statuses[a.status] += 1
        if a.status == 200:
            assert a.backend == BACKENDS["r1"], f"a request that reached v2 was not aborted: {(i, a)}"
    assert backs["r2a"].count == before_v2, "requests drawn to v2 must be aborted"
    assert statuses[200] > 0 and statuses[503] > 0, statuses


# --------------------------------------------------------------------------------------------
# match.none
# --------------------------------------------------------------------------------------------
def none_payload(backs) -> dict:
    doc = main_payload(backs)
    doc["instances"] += [inst("details", backs["r1"], ["version=v1"]),
                         inst("details", backs["r2a"], ["version=v2"])]
    doc["rules"] += [
        route_rule("not-jason", 2, "details", [{"tags": ["version=v2"]}],
                   match={"headers": {"Cookie": "user="},
                          "none": [{"headers": {"Cookie": JASON}},
                                   {"headers": {"X-Test": "^yes$"}}]}),
        route_rule("rest", 1, "details", [{"tags": ["version=v1"]}]),
        action_rule("slow-unless-exempt", 1, "details",
                    [{"action": "delay", "duration": 0.5}],
                    match={"headers": {"X-Slow": "^yes$"},
                           "none": [{"headers": {"X-Exempt": "^1$"}}]}),
    ]
    return doc


def test_none_clauses_on_route_rules(rt, api, backs):
    r = post_a8(api, none_payload(backs))
    assert r.status_code == 200, f"match.none must be accepted: {describe(r)}"
    for cookie, back in (("user=bob", "r2a"), ("user=jason", "r1"), ("a=1;user=jason", "r1"),
                         (None, "r1")):
        headers = {"Cookie": cookie} if cookie else {}
        a = fetch(rt, "/details/", headers)
        assert (a.status, a.backend) == (200, BACKENDS[back]), (cookie, a)
    a = fetch(rt, "/details/", {"Cookie": "user=bob", "X-Test": "yes"})
    assert (a.status, a.backend) == (200, BACKENDS["r1"]), a
    a = fetch(rt, "/details/", {"Cookie": "user=bob", "X-Test": "yess"})
    assert (a.status, a.backend) == (200, BACKENDS["r2a"]), a


def test_none_clauses_on_action_rules(rt, api, backs):
    r = post_a8(api, none_payload(backs))
    assert r.status_code == 200, f"match.none must be accepted: {describe(r)}"
    a = fetch(rt, "/details/", {"X-Slow": "yes"})
    assert a.status == 200 and 0.5 <= a.elapsed <= 0.9, a
    a = fetch(rt, "/details/", {"X-Slow": "yes", "X-Exempt": "10"})
    assert a.status == 200 and 0.5 <= a.elapsed <= 0.9, a
    a = fetch(rt, "/details/", {"X-Slow": "yes", "X-Exempt": "1"})
    assert a.status == 200 and a.elapsed < 0.4, f"the none clause holds: no delay: {a}"


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------
def test_errors_are_400_and_change_nothing(rt, api, backs):
    good = main_payload(backs)
    post_ok(api, good)
    state = a8_state(api)

    def unchanged(what):
        assert a8_state(api) == state, what
        a = fetch(rt, "/reviews/", {"Cookie": "user=jason"})
        assert a.status == 200 and a.backend in names(backs, "r2a", "r2b"), (what, a)
        a = fetch(rt, "/reviews/")
        assert a.status == 412, (what, a)
        a = fetch(rt, "/ratings/")
        assert (a.status, a.backend) == (200, BACKENDS["t1"]), (what, a)
        assert fetch(rt, "/details/").status == 404, what

    n = len(good["rules"])
    v1 = [{"tags": ["version=v1"]}]

    def with_rule(rule):
        doc = copy.deepcopy(good)
        doc["instances"].append(inst("details", backs["r1"], ["version=v1"]))
        doc["rules"].append(rule)
        return doc

    def with_instance(instance):
        doc = copy.deepcopy(good)
        doc["instances"].append(instance)
        doc["rules"].append(route_rule("d", 1, "details", v1))
        return doc

    https = inst("details", backs["r1"], ["version=v1"])
    https["endpoint"]["type"] = "https"
    tcp = inst("details", backs["r1"], ["version=v1"])
    tcp["endpoint"]["type"] = "tcp"
    dns = inst("details", backs["r1"], ["version=v1"])
    dns["endpoint"]["value"] = f"localhost:{backs['r1'].port}"
    m = len(good["instances"])
    prefix = "error updating internal state: "
    cases = [
        ("route and actions",
         with_rule({"id": "x", "destination": "details", "route": {"backends": v1},
                    "actions": [{"action": "delay", "duration": 1}]}),
         prefix + f"rules[{n}]: "),
        ("neither", with_rule({"id": "x", "destination": "details"}), prefix + f"rules[{n}]: "),
        ("no destination", with_rule({"id": "x", "route": {"backends": v1}}),
         prefix + f"rules[{n}].destination: missing"),
        ("priority type", with_rule({"id": "x", "priority": "high", "destination": "details",
                                     "route": {"backends": v1}}),
         prefix + f"rules[{n}].priority: "),
        ("unknown rule field", with_rule({"id": "x", "destination": "details",
                                          "route": {"backends": v1}, "colour": "red"}),
         prefix + f"rules[{n}].colour: unknown field"),
        ("unknown top field", {**good, "bogus": 1}, prefix + "bogus: unknown field"),
        ("weights over 1",
         with_rule(route_rule("x", 1, "details", [{"tags": ["version=v1"], "weight": 0.7},
                                                  {"tags": ["version=v2"], "weight": 0.6}])),
         prefix + f"rules[{n}].route.backends"),
        ("https endpoint", with_instance(https), prefix + f"instances[{m}].endpoint.type: "),
        ("tcp endpoint", with_instance(tcp), prefix + f"instances[{m}].endpoint.type: "),
        ("invalid json", b'{"instances": [', "error decoding input json: "),
    ]
    for what, body, starts in cases:
        r = post_a8(api, body)
        assert r.status_code == 400, (what, describe(r))
        assert r.text.startswith(starts), (what, starts, describe(r))
        unchanged(what)
    # PUT does the same as POST
    r = api.request("PUT", "/a8-admin", data=json.dumps({**good, "bogus": 1}),
                    content_type="application/json")
    assert r.status_code == 400 and r.text.startswith(prefix + "bogus: unknown field"), describe(r)
    unchanged("put")


# --------------------------------------------------------------------------------------------
# Persistence
# --------------------------------------------------------------------------------------------
def test_rules_survive_kill_9(admin_factory, backs):
    t = admin_factory(workers=1, extra=IDENTITY)
    client = t.api()
    try:
        post_ok(client, main_payload(backs))
        before = a8_state(client)
        t.restart(kill=True)
        assert a8_state(client) == before
        a = fetch(t, "/reviews/", {"Cookie": "user=jason"})
        assert a.status == 200 and a.backend in names(backs, "r2a", "r2b"), a
        a = fetch(t, "/reviews/", {"Cookie": "user=bob"})
        assert (a.status, a.backend) == (200, BACKENDS["r1"]), a
        assert fetch(t, "/reviews/").status == 412
        assert fetch(t, "/nopods/").status == 503
        assert fetch(t, "/nosuch/").status == 404
        a = fetch(t, "/reviews/", {"Cookie": "user=jason", "X-Slow": "yes"})
        assert a.status == 200 and 0.5 <= a.elapsed <= 0.9, a
        assert fetch(t, "/ratings/", {"X-Fail": "abort"}).status == 503
        assert read_until_closed(t.port, "/ratings/", {"X-Fail": "drop"}) == b""
        assert fetch(t, "/slowsvc/slow?ms=2000").status == 504
        a = fetch(t, "/helloworld/")
        assert a.status == 200 and a.version_cookie() is not None, a
    finally:
        client.close()
