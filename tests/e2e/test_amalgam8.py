"""Amalgam8 compat (seed 000, reference seed-behaviours.md §1): the dynamicupdate README
walkthrough replayed against turnout's POST/PUT/GET /a8-admin, step by step, with its seven
payload files (/work/shared/compat/amalgam8/, ports rewritten in Python to real backends).

The data listener plays the README's :8888, the admin listener its :8080; turnout runs with
`--identity source_v1` (the nginx `server_name`), and for the README's restart with
`--identity source_v2` on a fresh data dir. Five real backends (ThreadingHTTPServer) answer
exactly the README's `Helloworld v1 - instance 1` ... `End of world v1 - instance 1` and
record the path they received.

The walkthrough tests share one turnout process (module scope) and run in file order; every
step POSTs its own payload, which is a full snapshot, so a step's state does not depend on the
steps before it. Loopback only; every loop is bounded in count and every wait in time.
"""
from __future__ import annotations

import json
import re
import signal
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from harness import (
    AdminTurnout,
    Backend,
    LOCALHOST,
    RawClient,
    assert_subset,
    build_request,
    describe,
    endpoint,
    recv_until_closed,
    route,
)

PAYLOAD_DIR = Path("/work/shared/compat/amalgam8")
IDENTITY_V1 = ["--identity", "source_v1"]
IDENTITY_V2 = ["--identity", "source_v2"]

# The README's five test apps, by the port the payload files hard-code.
TEXTS = {
    "h11": "Helloworld v1 - instance 1",
    "h12": "Helloworld v1 - instance 2",
    "h21": "Helloworld v2 - instance 1",
    "h22": "Helloworld v2 - instance 2",
    "e11": "End of world v1 - instance 1",
}
FILE_PORTS = {9091: "h11", 9092: "h12", 9093: "h21", 9094: "h22", 9095: "e11"}
V1 = {TEXTS["h11"], TEXTS["h12"]}
V2 = {TEXTS["h21"], TEXTS["h22"]}
COOKIE_LINE = re.compile(r"version=(v\d+); Path=/helloworld")


# --------------------------------------------------------------------------------------------
# Backends: fixed text, recorded paths
# --------------------------------------------------------------------------------------------
class _HelloHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet
        pass

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        owner = self.server.owner
        owner.record(self.path)
        body = (owner.text + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _answer


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class HelloBackend:
    """Answers `text` + newline to anything; records the request path (target) of each."""

    def __init__(self, text: str):
        self.text = text
        self._lock = threading.Lock()
        self.paths: list[str] = []
        self.server = _Server((LOCALHOST, 0), _HelloHandler)
        self.server.owner = self
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def record(self, path: str):
        with self._lock:
            self.paths.append(path)

    @property
    def count(self) -> int:
        with self._lock:
            return len(self.paths)

    def last_path(self) -> str:
        with self._lock:
            assert self.paths, f"{self.text!r} received no request"
            return self.paths[-1]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def hello():
    backs = {key: HelloBackend(text) for key, text in TEXTS.items()}
    yield backs
    for b in backs.values():
        b.close()


# --------------------------------------------------------------------------------------------
# Payloads
# --------------------------------------------------------------------------------------------
def load_payload(name: str, backs) -> dict:
    """A payload file, parsed, with the README's ports 9091-9095 replaced by the backends'."""
    matches = sorted(PAYLOAD_DIR.glob(f"{name}*.json"))
    assert len(matches) == 1, f"payload {name!r}: {matches}"
    doc = json.loads(matches[0].read_text())
    for upstream in (doc.get("upstreams") or {}).values():
        for server in upstream.get("servers") or []:
            server["port"] = backs[FILE_PORTS[server["port"]]].port
    return doc


def post_a8(api, doc_or_bytes, method="POST"):
    body = doc_or_bytes if isinstance(doc_or_bytes, (bytes, str)) else json.dumps(doc_or_bytes).encode()
    return api.request(method, "/a8-admin", data=body)


def post_ok(api, doc_or_bytes, method="POST"):
    r = post_a8(api, doc_or_bytes, method)
    assert r.status_code == 200, describe(r)
    assert r.text == "", f"a successful POST answers an empty body: {describe(r)}"
    return r


def a8_state(api) -> dict:
    r = api.get("/a8-admin")
    assert r.status_code == 200, describe(r)
    assert "json" in r.headers.get("Content-Type", ""), describe(r)
    doc = r.json()
    assert set(doc) >= {"services", "upstreams", "faults"}, doc
    return doc


# --------------------------------------------------------------------------------------------
# Data-path client (fresh connection per request: no cookie jar, no reuse surprises)
# --------------------------------------------------------------------------------------------
class Answer:
    def __init__(self, resp, elapsed):
        self.resp = resp
        self.status = resp.status
        self.text = resp.body.decode("utf-8", "replace").strip()
        self.elapsed = elapsed
        self.cookies = resp.header_all("Set-Cookie")

    def version_cookie(self):
        """The version a `Set-Cookie: version=vN; Path=/helloworld` sets (None if none)."""
        found = [m.group(1) for c in self.cookies for m in [COOKIE_LINE.fullmatch(c.strip())] if m]
        assert len(found) <= 1, f"several version cookies set: {self.cookies}"
        return found[0] if found else None

    def __repr__(self):
        return (f"<{self.status} {self.text[:80]!r} cookies={self.cookies} "
                f"elapsed={self.elapsed:.3f}s>")


def fetch(t, path, headers=None, timeout=8.0) -> Answer:
    start = time.monotonic()
    with RawClient(t.port, timeout=timeout) as c:
        resp = c.request("GET", path, headers=headers or {})
    return Answer(resp, time.monotonic() - start)


def text_of(t, path, headers=None) -> str:
    a = fetch(t, path, headers)
    assert a.status == 200, a
    return a.text


def version_of(text: str) -> str:
    if text in V1:
        return "v1"
    if text in V2:
        return "v2"
    raise AssertionError(f"not a helloworld answer: {text!r}")


def expired(cookie_line: str) -> bool:
    low = cookie_line.lower()
    return low.startswith("version=") and (
        re.search(r"max-age\s*=\s*0\b", low) is not None or "1970" in low)


# --------------------------------------------------------------------------------------------
# The walkthrough's turnout (module scope, identity source_v1, one worker)
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def walk(turnout_bin, tmp_path_factory, request):
    t = AdminTurnout(turnout_bin, tmp_path_factory.mktemp("a8walk"), name="walk")
    t.start(workers=1, extra=IDENTITY_V1)
    failed_before = request.session.testsfailed
    yield t
    if request.session.testsfailed > failed_before:
        print(f"\n===== {t.dir.name} =====\n{t.diagnostics()}")
    t.kill()


@pytest.fixture(scope="module")
def walk_api(walk):
    api = walk.api()
    yield api
    api.close()


def test_step1_one_service(walk, walk_api, hello):
    post_ok(walk_api, load_payload("1_", hello))
    a = fetch(walk, "/helloworld/")
    assert (a.status, a.text) == (200, TEXTS["h11"]), a
    assert hello["h11"].last_path() == "/", "the /helloworld prefix is stripped"
    # one version, no selectors: nothing to stick to
    assert not any(c.startswith("version=") for c in a.cookies), a
    assert text_of(walk, "/helloworld/some/deeper/path") == TEXTS["h11"]
    assert hello["h11"].last_path() == "/some/deeper/path"
    # unknown service: 404
    assert fetch(walk, "/nosuchservice/").status == 404


def test_step2_scale_out_round_robin(walk, walk_api, hello):
    post_ok(walk_api, load_payload("2_", hello))
    got = [text_of(walk, "/helloworld/") for _ in range(3)]
    assert set(got) <= V1, got
    assert got[0] != got[1] and got[1] != got[2] and got[0] == got[2], \
        f"round robin over two instances must alternate: {got}"


def test_step3_add_version_weighted_and_sticky(walk, walk_api, hello):
    post_ok(walk_api, load_payload("3_", hello))
    counts = {text: 0 for text in TEXTS.values()}
    for i in range(200):
        a = fetch(walk, "/helloworld/")
        assert a.status == 200, (i, a)
        counts[a.text] = counts.get(a.text, 0) + 1
        assert a.version_cookie() == version_of(a.text), \
            f"Set-Cookie must name the version that answered: {a}"
    assert counts[TEXTS["e11"]] == 0, counts
    for key in ("h11", "h12", "h21", "h22"):
        assert counts[TEXTS[key]] > 0, f"{TEXTS[key]} never answered: {counts}"
    v1 = counts[TEXTS["h11"]] + counts[TEXTS["h12"]]
    v2 = counts[TEXTS["h21"]] + counts[TEXTS["h22"]]
    assert v1 + v2 == 200 and 60 <= v1 <= 140 and 60 <= v2 <= 140, counts

    # the sticky cookie is honoured, and not set again
    for i in range(20):
        a = fetch(walk, "/helloworld/", {"Cookie": "version=v2"})
        assert a.status == 200 and a.text in V2, (i, a)
        assert not any(c.startswith("version=") for c in a.cookies), (i, a)
    a = fetch(walk, "/helloworld/", {"Cookie": "other=1; version=v1"})
    assert a.status == 200 and a.text in V1, a

    # a stale or forged version: an ordinary answer with a fresh cookie, never a 5xx
    for i in range(5):
        a = fetch(walk, "/helloworld/", {"Cookie": "version=v9"})
        assert a.status == 200, (i, a)
        assert a.version_cookie() == version_of(a.text), (i, a)


def test_step4_remove_version_and_instance(walk, walk_api, hello):
    post_ok(walk_api, load_payload("4_", hello))
    for i in range(10):
        a = fetch(walk, "/helloworld/")
        assert (a.status, a.text) == (200, TEXTS["h21"]), (i, a)
    # a client still holding the cookie of step 3: served by v2, its cookie expired (the
    # original: `add_cookie("version=; Path=/<svc>; Expires=" .. ngx.cookie_time(0))` when the
    # service has no selectors)
    a = fetch(walk, "/helloworld/", {"Cookie": "version=v1"})
    assert (a.status, a.text) == (200, TEXTS["h21"]), a
    assert any(expired(c) for c in a.cookies), \
        f"the leftover version cookie must be expired (Max-Age=0 / Expires 1970): {a}"


def test_step5_add_new_service(walk, walk_api, hello):
    post_ok(walk_api, load_payload("5_", hello))
    a = fetch(walk, "/endworld/")
    assert (a.status, a.text) == (200, TEXTS["e11"]), a
    assert hello["e11"].last_path() == "/"
    assert text_of(walk, "/helloworld/") == TEXTS["h21"]


def test_step6_delete_service(walk, walk_api, hello):
    post_ok(walk_api, load_payload("6_", hello))
    before = hello["h21"].count
    a = fetch(walk, "/helloworld/")
    assert a.status == 404, a
    assert hello["h21"].count == before, "a deleted service must not reach its old backend"
    assert text_of(walk, "/endworld/") == TEXTS["e11"]


def test_step7_inject_faults_source_v1(walk, walk_api, hello):
    post_ok(walk_api, load_payload("7_inject_faults", hello))
    gremlin = {"X-Gremlin-Id": "test-123"}

    a = fetch(walk, "/helloworld/", {**gremlin, "Cookie": "version=v1"})
    assert (a.status, a.text) == (200, TEXTS["h11"]), a
    assert a.elapsed < 0.5, f"helloworld_v1 has no fault: {a}"

    a = fetch(walk, "/helloworld/", {**gremlin, "Cookie": "version=v2"})
    assert (a.status, a.text) == (200, TEXTS["h21"]), a
    assert 3.0 <= a.elapsed <= 3.5, f"source_v1 -> helloworld_v2 is delayed 3 s: {a}"

    a = fetch(walk, "/helloworld/", {"Cookie": "version=v2"})
    assert (a.status, a.text) == (200, TEXTS["h21"]), a
    assert a.elapsed < 0.5, f"without X-Gremlin-Id there is no fault: {a}"

    before = hello["e11"].count
    a = fetch(walk, "/endworld/", {"X-Gremlin-Id": "endtest-1"})
    assert a.status == 503, a
    assert hello["e11"].count == before, "an aborted request must not reach the backend"

    # the source_v2 fault (return_code -1: drop) does not pertain to source_v1
    a = fetch(walk, "/endworld/", {"X-Gremlin-Id": "other"})
    assert (a.status, a.text) == (200, TEXTS["e11"]), a
    # "endtest2-123" matches the unanchored "endtest-*" of source_v1's abort: a 503 answer,
    # not source_v2's dropped connection
    a = fetch(walk, "/endworld/", {"X-Gremlin-Id": "endtest2-123"})
    assert a.status == 503, a


def test_step8_get_state(walk, walk_api, hello):
    doc = load_payload("7_inject_faults", hello)
    post_ok(walk_api, doc)
    state = a8_state(walk_api)

    services = state["services"]
    assert set(services) == {"helloworld", "endworld"}, services
    hw = services["helloworld"]
    assert hw["default"] == "v1", hw
    sel = hw.get("selectors")
    if isinstance(sel, str):
        assert re.fullmatch(r"\{\s*v2\s*=\s*\{\s*weight\s*=\s*0?\.50*\s*,?\s*\}\s*,?\s*\}", sel), hw
    else:
        assert sel == {"v2": {"weight": 0.5}}, hw
    assert services["endworld"]["default"] == "v1"
    assert not services["endworld"].get("selectors"), services["endworld"]

    ups = state["upstreams"]
    assert set(ups) == {"helloworld_v1", "helloworld_v2", "endworld_v1"}, ups
    for name, key in (("helloworld_v1", "h11"), ("helloworld_v2", "h21"), ("endworld_v1", "e11")):
        assert ups[name]["servers"] == [{"host": "127.0.0.1", "port": hello[key].port}], ups

    def keyed(faults):
        return {(f["source"], f["destination"]): f for f in faults}

    got, want = keyed(state["faults"]), keyed(doc["faults"])
    assert len(state["faults"]) == 3 and set(got) == set(want), state["faults"]
    for k, w in want.items():
        g = got[k]
        for field in ("header", "pattern"):
            assert g[field] == w[field], (k, field, g)
        for field in ("delay", "delay_probability", "abort_probability"):
            assert float(g[field]) == pytest.approx(float(w[field])), (k, field, g)
        if w["abort_probability"] > 0:
            assert g["return_code"] == w["return_code"], (k, g)


def test_step9_restart_as_source_v2(walk, hello, admin_factory):
    # the README: kill nginx, change server_name to source_v2, restart, POST 7 again
    walk.stop()
    assert not walk.alive()
    t = admin_factory(workers=1, extra=IDENTITY_V2)
    assert t.data_dir != walk.data_dir
    api = t.api()
    assert a8_state(api)["services"] == {}, "a fresh data dir starts empty"
    post_ok(api, load_payload("7_inject_faults", hello))
    gremlin = {"X-Gremlin-Id": "test-123"}
    for cookie, key in (("version=v1", "h11"), ("version=v2", "h21")):
        a = fetch(t, "/helloworld/", {**gremlin, "Cookie": cookie})
        assert (a.status, a.text) == (200, TEXTS[key]), a
        assert a.elapsed < 0.5, f"source_v1's delay must not apply to source_v2: {a}"

    # source_v1's abort does not apply either, and source_v2's pattern needs "endtest2"
    a = fetch(t, "/endworld/", {"X-Gremlin-Id": "endtest-1"})
    assert (a.status, a.text) == (200, TEXTS["e11"]), a

    # return_code -1: the connection is closed with no response at all (curl: (52))
    before = hello["e11"].count
    got = b""
    with socket.create_connection((LOCALHOST, t.port), timeout=5) as s:
        s.settimeout(5)
        s.sendall(build_request("GET", "/endworld/", {"X-Gremlin-Id": "endtest2-123"}))
        got = recv_until_closed(s, 5)
    assert got == b"", f"a dropped request gets no bytes at all, got {got[:200]!r}"
    assert hello["e11"].count == before, "a dropped request must not reach the backend"
    assert t.alive()
    assert text_of(t, "/endworld/") == TEXTS["e11"]


# --------------------------------------------------------------------------------------------
# Persistence across kill -9
# --------------------------------------------------------------------------------------------
def test_state_survives_kill_9(admin_factory, hello):
    t = admin_factory(workers=1, extra=IDENTITY_V1)
    api = t.api()
    post_ok(api, load_payload("3_", hello))
    before = a8_state(api)
    assert set(before["upstreams"]) == {"helloworld_v1", "helloworld_v2"}, before
    old = t.proc
    t.restart(kill=True)
    assert old.returncode == -signal.SIGKILL, old.returncode
    assert a8_state(api) == before
    for cookie, allowed in (("version=v1", V1), ("version=v2", V2)):
        for i in range(2):
            a = fetch(t, "/helloworld/", {"Cookie": cookie})
            assert a.status == 200 and a.text in allowed, (cookie, i, a)
    a = fetch(t, "/helloworld/")
    assert a.status == 200 and a.version_cookie() == version_of(a.text), a


# --------------------------------------------------------------------------------------------
# Native objects live beside a8's, untouched
# --------------------------------------------------------------------------------------------
def _routes_by_id(api) -> dict:
    r = api.get("/v1/routes", params={"limit": 100})
    assert r.status_code == 200, describe(r)
    routes = r.json()["routes"]
    return {x["id"]: x for x in routes}


def test_native_objects_untouched(admin_factory, hello):
    native = Backend("native")
    try:
        t = admin_factory(workers=1, extra=IDENTITY_V1)
        api = t.api()
        r = api.put("/v1/services/x", json={"endpoints": [endpoint(native)]})
        assert r.status_code == 201, describe(r)
        x_route = route("x", "x", match={"path_prefix": "/native"})
        r = api.put("/v1/routes/x", json=x_route)
        assert r.status_code == 201, describe(r)

        def native_ok():
            with RawClient(t.port) as c:
                resp = c.request("GET", "/native/echo")
            assert (resp.status, resp.header("X-Backend")) == (200, "native"), resp

        native_ok()
        for step, name, a8_route in (("1_", "helloworld", "helloworld"), ("6_", "endworld", "endworld")):
            post_ok(api, load_payload(step, hello))
            native_ok()
            cfg = api.config()
            routes = {x["id"]: x for x in cfg["routes"]}
            assert "x" in routes, cfg
            assert_subset(x_route, routes["x"])
            assert "x" in {s["name"] for s in cfg["services"]}, cfg
            listed = _routes_by_id(api)
            assert listed[a8_route].get("owner") == "a8", listed[a8_route]
            assert listed["x"].get("owner") != "a8", listed["x"]
            assert set(listed) == {"x", a8_route}, sorted(listed)
        assert text_of(t, "/endworld/") == TEXTS["e11"]
        assert fetch(t, "/helloworld/").status == 404

        # an a8 payload naming the native service is refused and changes nothing
        cfg_before, a8_before = api.config(), a8_state(api)
        clash = {"upstreams": {"x_v1": {"servers": [{"host": "127.0.0.1", "port": hello["h11"].port}]}},
                 "services": {"x": {"default": "v1"}}}
        r = post_a8(api, clash)
        assert r.status_code != 200 and 400 <= r.status_code < 500, describe(r)
        assert api.config() == cfg_before
        assert a8_state(api) == a8_before
        native_ok()
        assert text_of(t, "/endworld/") == TEXTS["e11"]
    finally:
        native.close()


# --------------------------------------------------------------------------------------------
# Errors and selector forms
# --------------------------------------------------------------------------------------------
def _hw(backs, selectors, versions=(("v1", "h11"), ("v2", "h21"))):
    ups = {f"helloworld_{v}": {"servers": [{"host": "127.0.0.1", "port": backs[k].port}]}
           for v, k in versions}
    svc = {"default": "v1"}
    if selectors is not None:
        svc["selectors"] = selectors
    return {"upstreams": ups, "services": {"helloworld": svc}}


def test_errors_change_nothing(admin_factory, hello):
    t = admin_factory(workers=1, extra=IDENTITY_V1)
    api = t.api()
    post_ok(api, load_payload("5_", hello))
    state = a8_state(api)

    def unchanged():
        assert a8_state(api) == state
        assert text_of(t, "/helloworld/") == TEXTS["h21"]
        assert text_of(t, "/endworld/") == TEXTS["e11"]

    zero_fault = load_payload("7_inject_faults", hello)
    zero_fault["faults"] = [{"source": "source_v1", "destination": "helloworld_v2",
                             "header": "X-Gremlin-Id", "pattern": "x", "delay": 0.0,
                             "delay_probability": 0.0, "abort_probability": 0.0, "return_code": 0}]
    cases = [
        ("invalid json", b'{"upstreams": {', None, "error decoding input json:"),
        ("no default", b'{"services":{"s":{}}}', "null entry for default version", None),
        ("no host", b'{"upstreams":{"s_v1":{"servers":[{"port":1}]}}}', "null host for server", None),
        ("zero fault", zero_fault, "Atleast one of abort/delay", None),
        ("weights > 1", _hw(hello, "{v2={weight=0.7},v3={weight=0.6}}",
                            (("v1", "h11"), ("v2", "h21"), ("v3", "h22"))), None, None),
        ("lua code", _hw(hello, "{v2=os.execute('x')}"), None, None),
    ]
    for what, body, contains, starts in cases:
        r = post_a8(api, body)
        assert r.status_code == 400, (what, describe(r))
        if contains:
            assert contains in r.text, (what, describe(r))
        if starts:
            assert r.text.startswith(starts), (what, describe(r))
        unchanged()
    r = api.delete("/a8-admin")
    assert r.status_code == 400, describe(r)
    unchanged()


def test_json_object_selectors_equal_lua_string(admin_factory, hello):
    t = admin_factory(workers=1, extra=IDENTITY_V1)
    api = t.api()
    post_ok(api, load_payload("3_", hello))
    as_string = a8_state(api)
    obj = load_payload("3_", hello)
    obj["services"]["helloworld"]["selectors"] = {"v2": {"weight": 0.5}}
    post_ok(api, obj)
    assert a8_state(api) == as_string
    versions = {"v1": 0, "v2": 0}
    for i in range(100):
        a = fetch(t, "/helloworld/")
        assert a.status == 200 and a.version_cookie() == version_of(a.text), (i, a)
        versions[version_of(a.text)] += 1
    assert 25 <= versions["v1"] <= 75, versions
    for cookie, allowed in (("version=v1", V1), ("version=v2", V2)):
        a = fetch(t, "/helloworld/", {"Cookie": cookie})
        assert a.status == 200 and a.text in allowed and a.version_cookie() is None, a


def test_header_and_user_selectors(admin_factory, hello):
    t = admin_factory(workers=1, extra=IDENTITY_V1)
    api = t.api()
    post_ok(api, _hw(hello, '{v2={header="X-Test:^yes$"}}'))
    for i in range(10):
        a = fetch(t, "/helloworld/", {"X-Test": "yes"})
        assert (a.status, a.text) == (200, TEXTS["h21"]), (i, a)
    for i, hdrs in enumerate([{}, {"X-Test": "no"}, {"X-Test": "yesno"}] * 3):
        a = fetch(t, "/helloworld/", hdrs)
        assert (a.status, a.text) == (200, TEXTS["h11"]), (i, hdrs, a)

    # a v3 upstream served by the "Helloworld v2 - instance 2" app
    post_ok(api, _hw(hello, '{v3={user="jason"}}', (("v1", "h11"), ("v3", "h22"))))
    for i in range(5):
        a = fetch(t, "/helloworld/", {"Cookie": "user=jason"})
        assert (a.status, a.text) == (200, TEXTS["h22"]), (i, a)
        assert any(c.strip() == "version=v3; Path=/helloworld" for c in a.cookies), a
    for i, cookie in enumerate(["user=bob", "user=jasonx", "other=jason"]):
        a = fetch(t, "/helloworld/", {"Cookie": cookie})
        assert (a.status, a.text) == (200, TEXTS["h11"]), (i, cookie, a)
    a = fetch(t, "/helloworld/")
    assert (a.status, a.text) == (200, TEXTS["h11"]), a
