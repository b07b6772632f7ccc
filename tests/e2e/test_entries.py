"""ngx_http_set_backend compat (seed 001, reference seed-behaviours.md §2): the original's REST
API on the admin listener, GET/POST /entries.json and DELETE /entries/{host}.json, and its
integration test replayed against turnout's data listener.

The original's provider test sent `Host: success.com` through nginx to www.apple.com and
checked Apple's "Success" page. Here a loopback backend serves that page at the same path, and
the entry's backend is its IP:PORT (DNS-named backends are in test_dns_backends.py, against a
real DNS server). Loopback only; every loop is bounded in count and every wait in time.
"""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from harness import (
    LOCALHOST,
    RawClient,
    api_error,
    assert_subset,
    build_request,
    closed_port,
    describe,
    endpoint,
    route,
    service,
)

SUCCESS_PATH = "/library/test/success.html"
SUCCESS_BODY = b"<HTML><HEAD><TITLE>Success</TITLE></HEAD><BODY>Success</BODY></HTML>"
TOKEN = "e2e-entries-token-0123456789"


# --------------------------------------------------------------------------------------------
# A backend serving Apple's captive-portal page, recording path and Host of every request
# --------------------------------------------------------------------------------------------
class _SuccessHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet
        pass

    def do_GET(self):  # noqa: N802 (http.server's naming)
        owner = self.server.owner
        owner.record(self.path, self.headers.get("Host"))
        found = self.path == SUCCESS_PATH
        body = SUCCESS_BODY if found else f"{owner.name}: no such page\n".encode()
        self.send_response(200 if found else 404)
        self.send_header("Content-Type", "text/html")
        self.send_header("X-Backend", owner.name)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class SuccessBackend:
    def __init__(self, name: str):
        self.name = name
        self._lock = threading.Lock()
        self.seen: list[tuple[str, str]] = []  # (path, Host)
        self.server = _Server((LOCALHOST, 0), _SuccessHandler)
        self.server.owner = self
        self.address = f"{LOCALHOST}:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def record(self, path: str, host: str):
        with self._lock:
            self.seen.append((path, host))

    def last(self) -> tuple[str, str]:
        with self._lock:
            assert self.seen, f"backend {self.name} received no request"
            return self.seen[-1]

    @property
    def count(self) -> int:
        with self._lock:
            return len(self.seen)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def success_factory():
    made: list[SuccessBackend] = []

    def make(name: str) -> SuccessBackend:
        made.append(SuccessBackend(name))
        return made[-1]

    yield make
    for b in made:
        b.close()


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------
def _fetch(t, host: str, path: str = SUCCESS_PATH):
    """GET `path` with `Host: host` through turnout's data listener: (status, backend, body)."""
    with RawClient(t.port) as c:
        r = c.request("GET", path, host=host)
    return r.status, r.header("X-Backend"), r.body


def _entries(api) -> list:
    r = api.get("/entries.json")
    assert r.status_code == 200, describe(r)
    assert r.headers.get("Content-Type", "").startswith("application/json"), describe(r)
    doc = r.json()
    assert isinstance(doc, list), describe(r)
    return doc


def _post(api, host: str, backend: str):
    r = api.post("/entries.json", json={"host": host, "backend": backend})
    assert r.status_code == 200, describe(r)
    return r.json()


def _delete(api, host: str):
    r = api.delete(f"/entries/{host}.json")
    assert r.status_code == 200 and r.json() == {"status": "ok"}, describe(r)


def _raw_admin(t, method: str, target: str, body: bytes = b"", headers=None):
    """A request whose target goes out byte for byte (requests would normalize escapes)."""
    with RawClient(t.admin_port) as c:
        c.send(build_request(method, target, headers=headers, body=body, host=LOCALHOST))
        return c.read_response(method)


def _owned(doc: dict, owner: str) -> dict:
    return {kind: sorted((o for o in doc[kind] if o.get("owner") == owner),
                         key=lambda o: o.get("name") or o.get("id"))
            for kind in ("services", "routes")}


# --------------------------------------------------------------------------------------------
# The original's integration flow
# --------------------------------------------------------------------------------------------
def test_integration_flow_create_route_delete(admin_factory, success_factory):
    apple = success_factory("apple")
    t = admin_factory()
    api = t.api()
    assert _entries(api) == []
    assert _fetch(t, "success.test")[0] == 404

    r = api.post("/entries.json", json={"host": "success.test", "backend": apple.address})
    assert r.status_code == 200, describe(r)
    created = {"host": "success.test", "backend": apple.address}
    assert r.json() == created
    assert r.text.startswith('{"host":'), describe(r)  # the original's key order
    assert _entries(api) == [created]
    assert api.get("/entries.json").text.startswith('[{"host":')

    status, who, body = _fetch(t, "success.test")
    assert (status, who, body) == (200, "apple", SUCCESS_BODY)
    assert apple.last() == (SUCCESS_PATH, "success.test")
    # the original keyed on the whole Host header; matching here ignores port and case
    assert _fetch(t, "SUCCESS.test:8888")[:2] == (200, "apple")
    assert _fetch(t, "other.test")[0] == 404

    _delete(api, "success.test")
    assert _entries(api) == []
    count = apple.count
    assert _fetch(t, "success.test")[0] == 404
    assert apple.count == count


def test_list_is_sorted_and_upsert_replaces(admin_factory, success_factory):
    one, two = success_factory("one"), success_factory("two")
    t = admin_factory()
    api = t.api()
    for host in ("c.test", "a.test", "b.test"):
        _post(api, host, one.address)
    assert [e["host"] for e in _entries(api)] == ["a.test", "b.test", "c.test"]
    assert _fetch(t, "b.test")[:2] == (200, "one")

    revision = api.revision()
    assert _post(api, "B.Test", two.address) == {"host": "b.test", "backend": two.address}
    assert api.revision() == revision + 1  # one atomic change
    assert _entries(api) == [{"host": "a.test", "backend": one.address},
                             {"host": "b.test", "backend": two.address},
                             {"host": "c.test", "backend": one.address}]
    assert _fetch(t, "b.test")[:2] == (200, "two")
    assert _fetch(t, "a.test")[:2] == (200, "one")


def test_entries_beat_a_catch_all_route(admin_factory, success_factory):
    # The original's nginx fell back to www.google.com for unknown hosts.
    apple, fallback = success_factory("apple"), success_factory("fallback")
    t = admin_factory(config={"services": [service("fallback", endpoint(fallback.address))],
                              "routes": [route("fallback", "fallback")]})
    api = t.api()
    assert _fetch(t, "success.test", "/")[:2] == (404, "fallback")
    _post(api, "success.test", apple.address)
    assert _fetch(t, "success.test") == (200, "apple", SUCCESS_BODY)
    assert _fetch(t, "unknown.test", "/")[:2] == (404, "fallback")
    _delete(api, "success.test")
    assert _fetch(t, "success.test")[:2] == (200, "fallback")


# --------------------------------------------------------------------------------------------
# Storage: native objects owned by "entries", persisted
# --------------------------------------------------------------------------------------------
def test_entries_are_native_objects_owned_by_entries(admin_factory, success_factory, backend):
    apple = success_factory("apple")
    t = admin_factory(config={"services": [service("native", endpoint(backend))],
                              "routes": [route("native", "native",
                                               match={"path_prefix": "/native"})]})
    api = t.api()
    native_before = _owned(api.config(), None)
    _post(api, "success.test", apple.address)
    doc = api.config()
    owned = _owned(doc, "entries")
    assert len(owned["services"]) == 1 and len(owned["routes"]) == 1, owned
    assert_subset({"name": "success.test", "lb": "round_robin",
                   "endpoints": [{"address": apple.address}], "owner": "entries"},
                  owned["services"][0])
    assert_subset({"id": "success.test", "match": {"host": "success.test"},
                   "split": [{"service": "success.test"}], "owner": "entries"},
                  owned["routes"][0])
    assert _owned(doc, None) == native_before  # other objects untouched
    last = api.ok("GET", f"/v1/changes?since={doc['revision'] - 1}", expect=200)["changes"][-1]
    assert last["source"] == "entries-api", last


@pytest.mark.parametrize("kill", [False, True], ids=["sigterm", "sigkill"])
def test_entries_survive_restart(admin_factory, success_factory, kill):
    one, two = success_factory("one"), success_factory("two")
    t = admin_factory()
    api = t.api()
    _post(api, "one.test", one.address)
    _post(api, "two.test", two.address)
    before = _entries(api)
    t.restart(kill=kill)
    api = t.api()
    assert _entries(api) == before
    assert _fetch(t, "one.test") == (200, "one", SUCCESS_BODY)
    assert _fetch(t, "two.test")[:2] == (200, "two")
    _delete(api, "one.test")
    t.restart(kill=kill)
    api = t.api()
    assert _entries(api) == [{"host": "two.test", "backend": two.address}]
    assert _fetch(t, "one.test")[0] == 404


# --------------------------------------------------------------------------------------------
# Refusals: 422 for bad bodies, 409 for names of other owners, nothing changes
# --------------------------------------------------------------------------------------------
LONGEST_HOST = ".".join(["a" * 63] * 3 + ["b" * 61])  # 253 characters
BAD_BODIES = [
    # (raw body, error field, words the message must hold)
    (b"not json", "", ""),
    (b"", "", ""),
    (b'{"host": "a.test", "backend": "127.0.0.1:1"', "", ""),
    (b"[]", "", "object"),
    (b'"a.test"', "", "object"),
    (b"null", "", "object"),
    (b"42", "", "object"),
    (b"{}", "host", "missing"),
    (b'{"host": "a.test"}', "backend", "missing"),
    (b'{"backend": "127.0.0.1:1"}', "host", "missing"),
    (b'{"host": "a.test", "backend": "127.0.0.1:1", "weight": 1}', "weight", "unknown"),
    (b'{"host": 1, "backend": "127.0.0.1:1"}', "host", "string"),
    (b'{"host": null, "backend": "127.0.0.1:1"}', "host", "string"),
    (b'{"host": "a.test", "backend": 3000}', "backend", "string"),
    (b'{"host": "a.test", "backend": ["127.0.0.1:1"]}', "backend", "string"),
]
BAD_HOSTS = ["", "*.wild.test", "*", "a.test:8080", "a..test", ".a.test", "a.test.", "-a.test",
             "a-.test", "under_score.test", "a b.test", "a/b.test", "\u00e9t\u00e9.test",
             "[::1]", "a" * 64 + ".test", LONGEST_HOST + "b"]
BAD_BACKENDS = ["", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:http",
                "::1:80", "http://127.0.0.1:80", "127.0.0.1:80/path", "300.1.1.1:80"]


def _refusals():
    cases = list(BAD_BODIES)
    cases += [(f'{{"host": "{h}", "backend": "127.0.0.1:9"}}'.encode(), "host", "")
              for h in BAD_HOSTS]
    cases += [(f'{{"host": "a.test", "backend": "{b}"}}'.encode(), "backend", "")
              for b in BAD_BACKENDS]
    return cases


def test_bad_bodies_are_422_and_change_nothing(admin_factory, success_factory):
    apple = success_factory("apple")
    t = admin_factory()
    api = t.api()
    _post(api, "keep.test", apple.address)
    config_before, entries_before = api.config(), _entries(api)
    for body, field, words in _refusals():
        r = api.post("/entries.json", data=body, content_type="application/json")
        err = api_error(r, 422, field=field)
        assert words.lower() in err["message"].lower(), describe(r)
        assert _entries(api) == entries_before, body
    assert api.config() == config_before  # same revision, same objects
    assert _fetch(t, "a.test")[0] == 404
    assert _fetch(t, "keep.test")[:2] == (200, "apple")


def test_good_edge_cases_are_accepted(admin_factory, success_factory):
    apple = success_factory("apple")
    t = admin_factory()
    api = t.api()
    assert _post(api, LONGEST_HOST, apple.address)["host"] == LONGEST_HOST
    assert _post(api, "x", f"[::1]:{closed_port()}")["backend"].startswith("[::1]:")
    # curl -d, as the original's README does, says application/x-www-form-urlencoded
    r = api.post("/entries.json", data=f'{{"host":"form.test","backend":"{apple.address}"}}',
                 content_type="application/x-www-form-urlencoded")
    assert r.status_code == 200, describe(r)
    assert _fetch(t, "form.test")[:2] == (200, "apple")
    assert sorted(e["host"] for e in _entries(api)) == sorted([LONGEST_HOST, "x", "form.test"])


def test_names_held_by_native_objects_are_409(admin_factory, success_factory, backend):
    apple = success_factory("apple")
    t = admin_factory()
    api = t.api()
    _post(api, "keep.test", apple.address)
    api.ok("PUT", "/v1/services/svc.test", json=service("svc.test", endpoint(backend)),
           expect=201)
    api.ok("PUT", "/v1/routes/route.test",
           json=route("route.test", "svc.test", match={"host": "route.test"}), expect=201)
    config_before, entries_before = api.config(), _entries(api)
    for host in ("svc.test", "route.test", "ROUTE.test"):
        api_error(api.post("/entries.json", json={"host": host, "backend": apple.address}), 409)
        assert api.config() == config_before
        assert _entries(api) == entries_before
    assert _fetch(t, "route.test")[:2] == (200, "b1")  # the native route still serves
    # deleting such a host through /entries leaves the native objects alone
    _delete(api, "svc.test")
    assert api.config() == config_before


# --------------------------------------------------------------------------------------------
# DELETE, methods, paths
# --------------------------------------------------------------------------------------------
def test_delete_absent_host_is_200(admin_factory):
    t = admin_factory()
    api = t.api()
    revision = api.revision()
    _delete(api, "never.test")
    _delete(api, "not a host")
    assert api.revision() == revision


def test_delete_path_is_decoded_exactly_once(admin_factory, success_factory):
    apple = success_factory("apple")
    t = admin_factory()
    api = t.api()
    _post(api, "success.test", apple.address)
    # %252E decodes once to "%2E": no such host, the entry stays
    r = _raw_admin(t, "DELETE", "/entries/success%252Etest.json")
    assert r.status == 200 and r.json() == {"status": "ok"}, r
    assert len(_entries(api)) == 1
    # %2E decodes to ".", and the host is case-insensitive
    r = _raw_admin(t, "DELETE", "/entries/SUCCESS%2Etest.json")
    assert r.status == 200 and r.json() == {"status": "ok"}, r
    assert _entries(api) == []
    r = _raw_admin(t, "DELETE", "/entries/bad%zz.json")
    assert r.status == 400, r


def test_other_methods_are_405_with_allow(admin_factory):
    t = admin_factory()
    api = t.api()
    for method in ("PUT", "DELETE", "PATCH"):
        r = api.request(method, "/entries.json")
        api_error(r, 405)
        assert {"GET", "POST"} <= {m.strip() for m in r.headers["Allow"].split(",")}, describe(r)
    for method in ("GET", "PUT", "POST"):
        r = api.request(method, "/entries/a.test.json")
        api_error(r, 405)
        assert r.headers["Allow"] == "DELETE", describe(r)
    for path in ("/entries/a.test", "/entries/.json", "/entries", "/entries/a/b.json"):
        api_error(api.delete(path), 404)


def test_admin_token_applies(admin_factory, success_factory):
    apple = success_factory("apple")
    t = admin_factory(token=TOKEN)
    good, bare, wrong = t.api(token=TOKEN), t.api(token=None), t.api(token="wrong")
    for api in (bare, wrong):
        assert api.get("/entries.json").status_code == 401
        r = api.post("/entries.json", json={"host": "evil.test", "backend": apple.address})
        assert r.status_code == 401, describe(r)
    assert _entries(good) == []
    _post(good, "success.test", apple.address)
    for api in (bare, wrong):
        assert api.delete("/entries/success.test.json").status_code == 401
    assert len(_entries(good)) == 1
    assert _fetch(t, "success.test")[:2] == (200, "apple")  # the data path needs no token
    _delete(good, "success.test")
    assert _entries(good) == []
