"""Admin API v1 (docs/admin-api.md): every status code, ETag/If-Match, pagination, YAML,
config round trip, change log, endpoints, and read-your-writes on the data path."""
import socket
import time

import pytest

from harness import (
    ADMIN_BODY_LIMIT,
    RawClient,
    admin_raw_head,
    api_error,
    assert_subset,
    closed_port,
    describe,
    endpoint,
    etag_revision,
    item_of,
    model_document,
    raw_admin_request,
    recv_until_closed,
    route,
    service,
    strip_revision,
    to_yaml,
)


def _who(port, path="/echo", client=None):
    if client is None:
        with RawClient(port) as c:
            r = c.request("GET", path)
    else:
        r = client.request("GET", path)
    return r.status, r.header("X-Backend")


def _unchanged(api, before: dict):
    """The store did not move: same revision, same document."""
    after = api.config()
    assert after == before, f"store changed:\nbefore={before}\nafter={after}"


def _names(items, key="name"):
    return [i[key] for i in items]


def _keyed(items, key):
    out = {i[key]: i for i in items}
    assert len(out) == len(items), f"duplicate {key}s in {items}"
    return out


def _shows(api_doc: dict, cfg: dict):
    """GET /v1/config shows every service and route of `cfg` (order not assumed; defaults
    may be added) and nothing else."""
    for kind, key in (("services", "name"), ("routes", "id")):
        got = _keyed(api_doc[kind], key)
        want = _keyed(cfg[kind], key)
        assert set(got) == set(want), (kind, sorted(got), sorted(want))
        assert_subset(want, got, kind)


# --------------------------------------------------------------------------------------------
# 200 / 201, shapes
# --------------------------------------------------------------------------------------------
def test_empty_store_config_shape_and_health(admin_factory):
    t = admin_factory()
    api = t.api()
    r = api.get("/v1/config")
    assert r.status_code == 200, describe(r)
    doc = r.json()
    assert isinstance(doc["revision"], int) and doc["revision"] >= 0
    assert etag_revision(r) == doc["revision"]
    for k in ("listeners", "services", "routes"):
        assert isinstance(doc[k], list), (k, doc)
    assert doc["services"] == [] and doc["routes"] == []
    r = api.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok"}, describe(r)
    r = api.get("/readyz")
    assert r.status_code == 200, describe(r)


@pytest.mark.parametrize("path", ["/v1/config", "/metrics", "/healthz", "/"])
def test_head_answers_the_get_head_without_a_body(admin_factory, path):
    t = admin_factory()
    get = t.api().get(path)
    assert get.status_code == 200, describe(get)
    with socket.create_connection(("127.0.0.1", t.admin_port), timeout=5) as sock:
        sock.sendall(f"HEAD {path} HTTP/1.1\r\nHost: admin\r\n\r\n".encode())
        raw = recv_until_closed(sock)  # the admin server closes after its answer
    head, sep, body = raw.partition(b"\r\n\r\n")
    assert sep and head.startswith(b"HTTP/1.1 200 "), raw[:200]
    assert body == b"", body[:200]
    lengths = [line.split(b":", 1)[1].strip() for line in head.split(b"\r\n")
               if line.lower().startswith(b"content-length:")]
    # Content-Length is the GET body's (the metrics page may grow between the two by a sample).
    assert len(lengths) == 1 and int(lengths[0]) > 0, head
    if path != "/metrics":
        assert int(lengths[0]) == len(get.content), (lengths, len(get.content))


def test_service_crud_status_codes(admin_factory, backend_factory):
    a, b = backend_factory("a"), backend_factory("b")
    t = admin_factory()
    api = t.api()
    rev = api.revision()

    svc = service("alpha", endpoint(a, "v1", 2))
    r = api.post("/v1/services", json=svc)
    assert r.status_code == 201, describe(r)
    body = r.json()
    assert body["revision"] == rev + 1 == etag_revision(r)
    assert_subset(svc, body["service"])

    r = api.get("/v1/services/alpha")
    assert r.status_code == 200, describe(r)
    assert etag_revision(r) == rev + 1
    assert_subset(svc, item_of(r.json(), "service"))

    # replace: 200, revision + 1
    svc2 = service("alpha", endpoint(a, "v1", 1), endpoint(b, "v2", 3), lb="random")
    r = api.put("/v1/services/alpha", json=svc2)
    assert r.status_code == 200, describe(r)
    assert r.json()["revision"] == rev + 2 == etag_revision(r)
    assert_subset(svc2, r.json()["service"])
    assert_subset(svc2, item_of(api.ok("GET", "/v1/services/alpha"), "service"))

    # create with PUT, name omitted in the body: 201, named after the path
    r = api.put("/v1/services/beta", json={"endpoints": [endpoint(b)]})
    assert r.status_code == 201, describe(r)
    assert r.json()["service"]["name"] == "beta"
    assert r.json()["revision"] == rev + 3 == etag_revision(r)
    got = item_of(api.ok("GET", "/v1/services/beta"), "service")
    assert got["name"] == "beta" and got["endpoints"][0]["address"] == b.address

    # list
    r = api.get("/v1/services")
    assert r.status_code == 200, describe(r)
    lst = r.json()
    assert lst["total"] == 2 and set(_names(lst["services"])) == {"alpha", "beta"}
    assert lst["revision"] == etag_revision(r) == rev + 3

    # delete: 200, then 404 for GET and DELETE
    r = api.delete("/v1/services/beta")
    assert r.status_code == 200, describe(r)
    assert r.json()["revision"] == rev + 4 == etag_revision(r)
    api_error(api.get("/v1/services/beta"), 404)
    api_error(api.delete("/v1/services/beta"), 404)
    assert api.revision() == rev + 4


def test_route_crud_status_codes(admin_factory, backend_factory):
    a, b = backend_factory("a"), backend_factory("b")
    t = admin_factory(config={"services": [service("a", endpoint(a)), service("b", endpoint(b))],
                              "routes": []})
    api = t.api()
    rev = api.revision()

    r1 = route("r1", "a", match={"path_prefix": "/one"}, priority=5, timeout_ms=3000)
    r = api.post("/v1/routes", json=r1)
    assert r.status_code == 201, describe(r)
    assert r.json()["revision"] == rev + 1 == etag_revision(r)
    assert_subset(r1, r.json()["route"])
    assert _who(t.port, "/one/x") == (200, "a")

    r = api.get("/v1/routes/r1")
    assert r.status_code == 200, describe(r)
    assert_subset(r1, item_of(r.json(), "route"))

    r1b = route("r1", "b", match={"path_prefix": "/one"}, priority=5)
    r = api.put("/v1/routes/r1", json=r1b)
    assert r.status_code == 200, describe(r)
    assert r.json()["revision"] == rev + 2 == etag_revision(r)
    assert _who(t.port, "/one/x") == (200, "b")

    r2 = route("r2", "a", match={"path_prefix": "/two"})
    del r2["id"]  # id may be omitted on PUT
    r = api.put("/v1/routes/r2", json=r2)
    assert r.status_code == 201, describe(r)
    assert r.json()["route"]["id"] == "r2"

    lst = api.ok("GET", "/v1/routes", expect=200)
    assert lst["total"] == 2 and set(_names(lst["routes"], "id")) == {"r1", "r2"}

    r = api.delete("/v1/routes/r1")
    assert r.status_code == 200, describe(r)
    assert r.json()["revision"] == rev + 4 == etag_revision(r)
    api_error(api.get("/v1/routes/r1"), 404)
    api_error(api.delete("/v1/routes/r1"), 404)
    assert _who(t.port, "/one/x")[0] == 404  # no route any more


# --------------------------------------------------------------------------------------------
# 400
# --------------------------------------------------------------------------------------------
def test_400_route_to_unknown_service_or_version_names_the_field(admin_factory, backend):
    t = admin_factory(config={"services": [service("known", endpoint(backend, "v1"))],
                              "routes": [route("base", "known")]})
    api = t.api()
    before = api.config()

    bad = route("x", "nope", match={"path_prefix": "/x"})
    api_error(api.put("/v1/routes/x", json=bad), 400, field="split[0].service")
    api_error(api.post("/v1/routes", json=bad), 400, field="split[0].service")
    two = route("y", [{"service": "known"}, {"service": "nope", "weight": 1}])
    api_error(api.put("/v1/routes/y", json=two), 400, field="split[1].service")
    ver = route("z", {"service": "known", "version": "v9"})
    api_error(api.put("/v1/routes/z", json=ver), 400, field="split[0].version")

    whole = {"services": before["services"],
             "routes": [route("base", "known"), route("x", "nope", match={"path_prefix": "/x"})]}
    api_error(api.put("/v1/config", json=whole), 400, field="routes[1].split[0].service")
    # all errors of the document are listed under "errors"
    whole["routes"].append(route("y", "known", match={"path_prefix": "/y"}))
    whole["routes"].append(route("z", {"service": "known", "version": "v9"},
                                 match={"path_prefix": "/z"}))
    r = api.put("/v1/config", json=whole)
    api_error(r, 400, field="routes[1].split[0].service")
    fields = [e.get("field") for e in r.json().get("errors", [])]
    assert {"routes[1].split[0].service", "routes[3].split[0].version"} <= set(fields), r.json()
    assert all(isinstance(e.get("message"), str) and e["message"] for e in r.json()["errors"])
    _unchanged(api, before)
    api_error(api.get("/v1/routes/x"), 404)
    assert _who(t.port, "/x/echo") == (200, "b1")


def test_400_wrong_types_unknown_fields_and_name_mismatch(admin_factory, backend):
    t = admin_factory(config={"services": [service("s", endpoint(backend))],
                              "routes": [route("base", "s")]})
    api = t.api()
    before = api.config()
    ep = {"address": backend.address}
    cases = [
        ("POST", "/v1/services", {"name": "n", "endpoints": [dict(ep, weight="heavy")]},
         "endpoints[0].weight"),
        ("POST", "/v1/services", {"name": "n", "endpoints": "none"}, "endpoints"),
        ("POST", "/v1/services", {"name": 7, "endpoints": [ep]}, "name"),
        ("POST", "/v1/services", {"name": "n", "endpoints": [ep], "colour": "red"}, "colour"),
        ("PUT", "/v1/services/n", {"endpoints": [dict(ep, bogus=1)]}, "endpoints[0].bogus"),
        ("PUT", "/v1/services/n", {"name": "other", "endpoints": [ep]}, "name"),
        ("PUT", "/v1/routes/r", dict(route("r", "s"), priority="high"), "priority"),
        ("PUT", "/v1/routes/r", dict(route("r", "s"), match=["/"]), "match"),
        ("PUT", "/v1/routes/r", dict(route("r", "s"), id="q"), "id"),
        ("PUT", "/v1/routes/r", route("r", {"service": "s", "weight": -1}), "split[0].weight"),
        ("PUT", "/v1/config", {"services": {"name": "s"}, "routes": []}, "services"),
        ("PUT", "/v1/config", {"services": [], "routes": [], "extra": 1}, "extra"),
    ]
    problems = []
    for method, path, body, field in cases:
        r = api.request(method, path, json=body)
        try:
            api_error(r, 400, field=field)
            errors = r.json().get("errors")
            assert isinstance(errors, list) and field in [e.get("field") for e in errors], \
                f'"errors" does not list {field!r}: {describe(r)}'
            assert etag_revision(r) == before["revision"], describe(r)
        except AssertionError as e:
            problems.append(str(e).splitlines()[0])
    assert not problems, "\n".join(problems)
    _unchanged(api, before)


# --------------------------------------------------------------------------------------------
# 404, 405
# --------------------------------------------------------------------------------------------
def test_404_unknown_objects_and_paths(admin_factory, backend):
    t = admin_factory(config={"services": [service("s", endpoint(backend))], "routes": []})
    api = t.api()
    before = api.config()
    calls = [
        ("GET", "/v1/services/nope", None),
        ("DELETE", "/v1/services/nope", None),
        ("PUT", "/v1/services/nope/endpoints", [endpoint(backend)]),
        ("GET", "/v1/routes/nope", None),
        ("DELETE", "/v1/routes/nope", None),
        ("GET", "/v1/nope", None),
        ("GET", "/v2/config", None),
        ("GET", "/nope", None),
        ("GET", "/v1/services/s/nope", None),
        ("GET", "/v1/config/extra", None),
    ]
    for method, path, body in calls:
        kw = {"json": body} if body is not None else {}
        r = api.request(method, path, **kw)
        api_error(r, 404)
        assert etag_revision(r) == before["revision"], describe(r)
    _unchanged(api, before)


@pytest.mark.parametrize("method,path,allowed", [
    ("DELETE", "/v1/config", {"GET", "PUT"}),
    ("POST", "/v1/config", {"GET", "PUT"}),
    ("PATCH", "/v1/services", {"GET", "POST"}),
    ("DELETE", "/v1/services", {"GET", "POST"}),
    ("POST", "/v1/services/s", {"GET", "PUT", "DELETE"}),
    ("PATCH", "/v1/services/s", {"GET", "PUT", "DELETE"}),
    ("GET", "/v1/services/s/endpoints", {"PUT"}),
    ("PUT", "/v1/routes", {"GET", "POST"}),
    ("POST", "/v1/routes/r", {"GET", "PUT", "DELETE"}),
    ("DELETE", "/v1/changes", {"GET"}),
    ("POST", "/healthz", {"GET"}),
    ("PUT", "/readyz", {"GET"}),
])
def test_405_with_allow(admin_factory, backend, method, path, allowed):
    t = admin_factory(config={"services": [service("s", endpoint(backend))],
                              "routes": [route("r", "s")]})
    api = t.api()
    before = api.config()
    r = api.request(method, path, json={"name": "s", "endpoints": []})
    api_error(r, 405)
    allow = r.headers.get("Allow")
    assert allow is not None, f"405 without Allow: {describe(r)}"
    got = {m.strip().upper() for m in allow.split(",") if m.strip()}
    assert allowed <= got, f"Allow {allow!r} lacks {allowed - got}"
    assert method not in got, f"Allow {allow!r} lists the refused method"
    assert etag_revision(r) == before["revision"]
    _unchanged(api, before)


# --------------------------------------------------------------------------------------------
# 409
# --------------------------------------------------------------------------------------------
def test_409_post_existing_names(admin_factory, backend):
    t = admin_factory(config={"services": [service("s", endpoint(backend))],
                              "routes": [route("r", "s")]})
    api = t.api()
    before = api.config()
    r = api.post("/v1/services", json=service("s", endpoint(backend, "v2")))
    api_error(r, 409)
    r = api.post("/v1/routes", json=route("r", "s", match={"path_prefix": "/other"}))
    api_error(r, 409)
    _unchanged(api, before)


def test_409_delete_service_used_by_routes_lists_them(admin_factory, backend):
    cfg = {"services": [service("shared", endpoint(backend)), service("other", endpoint(backend))],
           "routes": [route("users-a", "shared", match={"path_prefix": "/a"}),
                      route("untouched", "other", match={"path_prefix": "/o"}),
                      route("users-b", [{"service": "other", "weight": 1},
                                        {"service": "shared", "weight": 1}],
                            match={"path_prefix": "/b"})]}
    t = admin_factory(config=cfg)
    api = t.api()
    before = api.config()
    err = api_error(api.delete("/v1/services/shared"), 409)
    assert "users-a" in err["message"] and "users-b" in err["message"], err
    assert "untouched" not in err["message"], err
    _unchanged(api, before)
    assert _who(t.port, "/a/echo") == (200, "b1")

    api.ok("DELETE", "/v1/routes/users-a", expect=200)
    err = api_error(api.delete("/v1/services/shared"), 409)
    assert "users-b" in err["message"] and "users-a" not in err["message"], err
    api.ok("DELETE", "/v1/routes/users-b", expect=200)
    api.ok("DELETE", "/v1/services/shared", expect=200)
    api_error(api.get("/v1/services/shared"), 404)


def test_409_shrinking_a_service_that_routes_split_to(admin_factory, backend_factory):
    b1, b2 = backend_factory("v1"), backend_factory("v2")
    cfg = {"services": [service("web", endpoint(b1, "v1"), endpoint(b2, "v2"))],
           "routes": [route("canary", {"service": "web", "version": "v2"},
                            match={"path_prefix": "/c"}),
                      route("main", {"service": "web", "version": "v1"})]}
    t = admin_factory(config=cfg)
    api = t.api()
    before = api.config()
    err = api_error(api.put("/v1/services/web/endpoints", json=[endpoint(b1, "v1")]), 409)
    assert "canary" in err["message"], err
    err = api_error(api.put("/v1/services/web", json=service("web", endpoint(b1, "v1"))), 409)
    assert "canary" in err["message"], err
    _unchanged(api, before)
    assert _who(t.port, "/c/echo") == (200, "v2")
    # growing is fine
    r = api.put("/v1/services/web/endpoints",
                json=[endpoint(b1, "v1"), endpoint(b2, "v2"),
                      endpoint(f"127.0.0.1:{closed_port()}", "v3")])
    assert r.status_code == 200, describe(r)


def test_409_command_line_routes(admin_factory, backend_factory):
    to, other = backend_factory("to"), backend_factory("other")
    t = admin_factory(to=[to.address])
    api = t.api()
    doc = api.config()
    assert "turnout-to" not in _names(doc["routes"], "id"), doc
    assert "turnout-to" not in _names(doc["services"]), doc
    lst = api.ok("GET", "/v1/routes", expect=200)
    assert lst["total"] == 0 and lst["routes"] == [], lst
    lst = api.ok("GET", "/v1/services", expect=200)
    assert lst["total"] == 0 and lst["services"] == [], lst
    api.ok("POST", "/v1/services", json=service("o", endpoint(other)), expect=201)
    before = api.config()

    for method, path, body in [
        ("PUT", "/v1/routes/turnout-to", route("turnout-to", "o")),
        ("DELETE", "/v1/routes/turnout-to", None),
        ("POST", "/v1/routes", route("turnout-to", "o")),
        ("PUT", "/v1/services/turnout-to", service("turnout-to", endpoint(other))),
        ("PUT", "/v1/services/turnout-to/endpoints", [endpoint(other)]),
        ("DELETE", "/v1/services/turnout-to", None),
    ]:
        kw = {"json": body} if body is not None else {}
        api_error(api.request(method, path, **kw), 409)
    _unchanged(api, before)
    assert _who(t.port, "/echo") == (200, "to")

    # The catch-all survives a whole replacement and stays below the stored routes.
    api.ok("PUT", "/v1/config", expect=200,
           json={"services": [service("o", endpoint(other))],
                 "routes": [route("o", "o", match={"path_prefix": "/o"})]})
    assert _who(t.port, "/o/echo") == (200, "other")
    assert _who(t.port, "/echo") == (200, "to")
    # shown, apart, under "command_line"
    doc = api.config()
    # Not part of the document either (so GET round-trips through PUT): the catch-all
    # belongs to the command line and only its effect on traffic shows it.
    assert "turnout-to" not in str(doc), doc


# --------------------------------------------------------------------------------------------
# 412, If-Match
# --------------------------------------------------------------------------------------------
def test_412_stale_if_match_changes_nothing(admin_factory, backend_factory):
    a, b = backend_factory("a"), backend_factory("b")
    t = admin_factory(config={"services": [service("s", endpoint(a))],
                              "routes": [route("r", "s")]})
    api = t.api()
    api.ok("PUT", "/v1/services/s", json=service("s", endpoint(a, "v1")))  # revision moves
    before = api.config()
    rev = before["revision"]
    stale = f'"{rev - 1}"'
    calls = [
        ("PUT", "/v1/services/s", service("s", endpoint(b))),
        ("POST", "/v1/services", service("n", endpoint(b))),
        ("DELETE", "/v1/routes/r", None),
        ("PUT", "/v1/routes/r", route("r", "s", match={"path_prefix": "/z"})),
        ("POST", "/v1/routes", route("q", "s")),
        ("PUT", "/v1/services/s/endpoints", [endpoint(b)]),
        ("PUT", "/v1/config", {"services": [], "routes": []}),
    ]
    for method, path, body in calls:
        for tag in (stale, f'"{rev + 5}"', '"0"'):
            kw = {"json": body} if body is not None else {}
            r = api.request(method, path, if_match=tag, **kw)
            api_error(r, 412)
            assert etag_revision(r) == rev, describe(r)
    _unchanged(api, before)
    assert item_of(api.ok("GET", "/v1/services/s"), "service")["endpoints"][0]["address"] == a.address
    assert _who(t.port, "/echo") == (200, "a")

    # the current revision, quoted, wins
    r = api.put("/v1/services/s", json=service("s", endpoint(b)), if_match=f'"{rev}"')
    assert r.status_code == 200, describe(r)
    assert r.json()["revision"] == rev + 1 == etag_revision(r)
    assert _who(t.port, "/echo") == (200, "b")


def test_if_match_star_and_unquoted(admin_factory, backend):
    t = admin_factory(config={"services": [service("s", endpoint(backend))], "routes": []})
    api = t.api()
    rev = api.revision()
    r = api.put("/v1/routes/a", json=route("a", "s"), if_match="*")
    assert r.status_code == 201 and r.json()["revision"] == rev + 1, describe(r)
    r = api.put("/v1/routes/b", json=route("b", "s", match={"path_prefix": "/b"}),
                if_match=str(rev + 1))
    assert r.status_code == 201 and r.json()["revision"] == rev + 2, describe(r)
    before = api.config()
    api_error(api.put("/v1/routes/c", json=route("c", "s"), if_match=str(rev)), 412)
    _unchanged(api, before)
    r = api.delete("/v1/routes/b", if_match=f'"{rev + 2}"')
    assert r.status_code == 200 and r.json()["revision"] == rev + 3, describe(r)
    r = api.delete("/v1/routes/a", if_match="*")
    assert r.status_code == 200 and r.json()["revision"] == rev + 4, describe(r)


# --------------------------------------------------------------------------------------------
# 413, 415, content types
# --------------------------------------------------------------------------------------------
def _padded_json(doc: dict, size: int) -> bytes:
    base = __import__("json").dumps(doc).encode()
    assert len(base) < size
    return base + b" " * (size - len(base))  # trailing whitespace is valid JSON


def test_413_body_over_8_mib(admin_factory, backend):
    t = admin_factory(config={"services": [service("s", endpoint(backend))],
                              "routes": [route("r", "s")]})
    api = t.api()
    before = api.config()
    cfg = {"services": [service("s", endpoint(backend)), service("big", endpoint(backend))],
           "routes": [route("r", "s")]}
    for method, target, doc in [("PUT", "/v1/config", cfg),
                                ("POST", "/v1/services", service("big", endpoint(backend)))]:
        body = _padded_json(doc, ADMIN_BODY_LIMIT + 1)
        head = admin_raw_head(method, target, len(body))
        chunks = [body[i:i + 65536] for i in range(0, len(body), 65536)]
        r = raw_admin_request(t.admin_port, head, chunks)
        assert r.status == 413, r
        err = r.json()["error"]
        assert err["code"] == 413, r
        _unchanged(api, before)
    assert _who(t.port, "/echo") == (200, "b1")

    # exactly 8 MiB is not "over 8 MiB"
    body = _padded_json(cfg, ADMIN_BODY_LIMIT)
    r = raw_admin_request(t.admin_port, admin_raw_head("PUT", "/v1/config", len(body)),
                          [body[i:i + 65536] for i in range(0, len(body), 65536)])
    assert r.status == 200, r
    assert "big" in _names(api.config()["services"])


@pytest.mark.parametrize("ctype", ["text/plain", "application/xml", "application/octet-stream",
                                   "multipart/form-data; boundary=x"])
def test_415_unsupported_content_type(admin_factory, backend, ctype):
    t = admin_factory(config={"services": [service("s", endpoint(backend))], "routes": []})
    api = t.api()
    before = api.config()
    body = __import__("json").dumps(service("n", endpoint(backend)))
    for method, path in [("POST", "/v1/services"), ("PUT", "/v1/services/n"),
                         ("PUT", "/v1/config")]:
        r = api.request(method, path, data=body, content_type=ctype)
        api_error(r, 415)
        assert etag_revision(r) == before["revision"]
    _unchanged(api, before)


def test_content_type_absent_is_json_and_charset_parameter_accepted(admin_factory, backend):
    t = admin_factory()
    api = t.api()
    rev = api.revision()
    body = __import__("json").dumps(service("n1", endpoint(backend)))
    r = api.post("/v1/services", data=body, content_type=None)
    assert r.status_code == 201, describe(r)
    body = __import__("json").dumps(service("n2", endpoint(backend)))
    r = api.post("/v1/services", data=body, content_type="application/json; charset=utf-8")
    assert r.status_code == 201, describe(r)
    assert api.revision() == rev + 2


@pytest.mark.parametrize("ctype", ["application/yaml", "application/x-yaml", "text/yaml"])
def test_put_config_yaml(admin_factory, backend_factory, ctype):
    a, b = backend_factory("a"), backend_factory("b")
    t = admin_factory()
    api = t.api()
    rev = api.revision()
    cfg = {"services": [service("a", endpoint(a, "v1", 2), lb="round_robin"),
                        service("b", endpoint(b))],
           "routes": [route("a", {"service": "a", "version": "v1"},
                            match={"path_prefix": "/a"}, strip_prefix=True, priority=3),
                      route("b", "b")]}
    r = api.put("/v1/config", data=to_yaml(cfg), content_type=ctype)
    assert r.status_code == 200, describe(r)
    assert r.json()["revision"] == rev + 1 == etag_revision(r)
    _shows(api.config(), cfg)
    assert _who(t.port, "/a/echo") == (200, "a")
    assert _who(t.port, "/x") == (200, "b")
    # YAML for one object too (the Bodies convention covers every body)
    r = api.put("/v1/services/c", data=to_yaml(service("c", endpoint(b))), content_type=ctype)
    assert r.status_code == 201, describe(r)


# --------------------------------------------------------------------------------------------
# ETag on every answer
# --------------------------------------------------------------------------------------------
def test_etag_on_every_answer_equals_revision(admin_factory, backend):
    t = admin_factory(config={"services": [service("s", endpoint(backend))],
                              "routes": [route("r", "s")]})
    api = t.api()
    rev = api.revision()
    seen = []

    def check(r, want_rev):
        seen.append(r.status_code)
        assert etag_revision(r) == want_rev, describe(r)
        try:
            doc = r.json()
        except ValueError:
            return
        if isinstance(doc, dict) and "revision" in doc:
            assert doc["revision"] == want_rev, describe(r)

    check(api.get("/v1/config"), rev)
    check(api.get("/v1/services"), rev)
    check(api.get("/v1/routes"), rev)
    check(api.get("/v1/services/s"), rev)
    check(api.get("/v1/routes/r"), rev)
    check(api.get(f"/v1/changes?since={rev - 1}"), rev)
    check(api.post("/v1/services", json=service("n", endpoint(backend))), rev + 1)
    check(api.put("/v1/services/n", json=service("n", endpoint(backend, "v2"))), rev + 2)
    check(api.put("/v1/services/n/endpoints", json=[endpoint(backend)]), rev + 3)
    check(api.put("/v1/routes/q", json=route("q", "n", match={"path_prefix": "/q"})), rev + 4)
    check(api.delete("/v1/routes/q"), rev + 5)
    check(api.put("/v1/config", json=model_document(api.config())), rev + 6)
    rev += 6
    check(api.post("/v1/services", json=service("n", endpoint(backend))), rev)  # 409
    check(api.put("/v1/routes/x", json=route("x", "nope")), rev)  # 400
    check(api.get("/v1/routes/nope"), rev)  # 404
    check(api.request("PATCH", "/v1/config"), rev)  # 405
    check(api.put("/v1/routes/x", json=route("x", "s"), if_match='"1"'), rev)  # 412
    check(api.put("/v1/routes/x", data="x", content_type="text/plain"), rev)  # 415
    assert sorted(set(seen)) == [200, 201, 400, 404, 405, 409, 412, 415], seen


def test_etag_on_health_answers(admin_factory):
    t = admin_factory()
    api = t.api()
    rev = api.revision()
    for path in ("/healthz", "/readyz"):
        r = api.get(path)
        assert r.status_code == 200, describe(r)
        assert etag_revision(r) == rev, describe(r)


# --------------------------------------------------------------------------------------------
# Pagination past 1,000 objects
# --------------------------------------------------------------------------------------------
def test_pagination_past_1000_objects(admin_factory):
    n_svc, n_routes = 1200, 1100
    dead = f"127.0.0.1:{closed_port()}"
    cfg = {"services": [service(f"s{i:04d}", endpoint(dead, "v1"), lb="random")
                        for i in range(n_svc)],
           "routes": [route(f"r{i:04d}", f"s{i:04d}", match={"path_prefix": f"/p{i}/"})
                      for i in range(n_routes)]}
    t = admin_factory()
    api = t.api()
    rev = api.revision()
    r = api.put("/v1/config", json=cfg, timeout=60)
    assert r.status_code == 200, describe(r)
    assert r.json()["revision"] == rev + 1
    rev += 1

    for kind, key, n in (("services", "name", n_svc), ("routes", "id", n_routes)):
        # default page: 1,000
        r = api.get(f"/v1/{kind}")
        assert r.status_code == 200, describe(r)
        page = r.json()
        assert page["revision"] == rev == etag_revision(r)
        assert page["total"] == n and page["offset"] == 0 and page["limit"] == 1000, \
            {k: v for k, v in page.items() if k != kind}
        assert len(page[kind]) == 1000 and page["next_offset"] == 1000
        r = api.get(f"/v1/{kind}", params={"offset": 1000})
        page = r.json()
        assert page["total"] == n and page["offset"] == 1000 and len(page[kind]) == n - 1000
        assert "next_offset" not in page or page["next_offset"] is None, page.get("next_offset")

        # walk with limit=500 following next_offset (bounded)
        got, offset, pages = [], 0, 0
        while offset is not None and pages < 10:
            r = api.get(f"/v1/{kind}", params={"limit": 500, "offset": offset})
            assert r.status_code == 200, describe(r)
            page = r.json()
            assert page["limit"] == 500 and page["offset"] == offset and page["total"] == n
            assert len(page[kind]) == min(500, n - offset)
            got += _names(page[kind], key)
            offset = page.get("next_offset")
            pages += 1
        assert pages == 3
        assert len(got) == n and len(set(got)) == n, "pages overlap or miss objects"
        want = {s[key] for s in cfg[kind]}
        assert set(got) == want

        # one page of 10,000
        page = api.ok("GET", f"/v1/{kind}?limit=10000", expect=200)
        assert len(page[kind]) == n and page.get("next_offset") is None
        # past the end
        page = api.ok("GET", f"/v1/{kind}?offset=5000", expect=200)
        assert page[kind] == [] and page["total"] == n
        # limits out of range
        for bad in ("0", "10001", "-1", "x"):
            api_error(api.get(f"/v1/{kind}", params={"limit": bad}), 400)

    # ?fields= keeps only those top-level fields
    page = api.ok("GET", "/v1/services?fields=name&limit=1200", expect=200)
    assert len(page["services"]) == n_svc
    assert all(set(s) == {"name"} for s in page["services"]), page["services"][:3]
    page = api.ok("GET", "/v1/services?fields=name,lb&offset=1100", expect=200)
    assert len(page["services"]) == 100
    assert all(set(s) == {"name", "lb"} and s["lb"] == "random" for s in page["services"])
    page = api.ok("GET", "/v1/routes?fields=id&limit=5", expect=200)
    assert all(set(x) == {"id"} for x in page["routes"]) and len(page["routes"]) == 5


# --------------------------------------------------------------------------------------------
# GET /v1/config round trip, change log
# --------------------------------------------------------------------------------------------
def _rich_config(a, b):
    return {
        "services": [
            service("web", endpoint(a, "v1", 3), endpoint(b, "v2", 1), lb="round_robin"),
            service("api", endpoint(b), lb="least_request"),
            service("rnd", endpoint(a, weight=5), lb="random"),
        ],
        "routes": [
            route("web", [{"service": "web", "version": "v1", "weight": 90},
                          {"service": "web", "version": "v2", "weight": 10}],
                  match={"host": "*.example.com", "path_prefix": "/web/",
                         "headers": {"X-User": "^qa-"}},
                  priority=10, strip_prefix=True, timeout_ms=3000),
            route("api", "api", match={"path": "/api/exact"}, priority=5),
            route("rest", "rnd"),
        ],
    }


def test_get_config_round_trips_through_put(admin_factory, backend_factory):
    a, b = backend_factory("a"), backend_factory("b")
    t = admin_factory()
    api = t.api()
    cfg = _rich_config(a, b)
    api.ok("PUT", "/v1/config", json=cfg, expect=200)
    doc1 = api.config()
    _shows(doc1, cfg)

    # The document of the GET answer (the model: listeners, services, routes; not the
    # answer's "revision" nor "command_line") is a valid PUT body: same document, revision + 1.
    r = api.put("/v1/config", json=model_document(doc1))
    assert r.status_code == 200, describe(r)
    assert r.json()["revision"] == doc1["revision"] + 1 == etag_revision(r)
    doc2 = api.config()
    assert doc2["revision"] == doc1["revision"] + 1
    assert strip_revision(doc2) == strip_revision(doc1)

    # and as YAML
    r = api.put("/v1/config", data=to_yaml(model_document(doc2)), content_type="application/yaml")
    assert r.status_code == 200, describe(r)
    doc3 = api.config()
    assert doc3["revision"] == doc2["revision"] + 1
    assert strip_revision(doc3) == strip_revision(doc1)
    assert _who(t.port, "/anything") == (200, "a")


def test_changes_since_lists_kinds_names_sources_in_order(admin_factory, backend):
    t = admin_factory(config={"services": [service("seed", endpoint(backend))], "routes": []})
    api = t.api()
    rev0 = api.revision()
    t0 = int(time.time() * 1000)

    svc = service("s", endpoint(backend))
    rt = route("r", "s", match={"path_prefix": "/r"})
    steps = [
        ("POST", "/v1/services", svc, "upsert_service", "s"),
        ("PUT", "/v1/routes/r", rt, "upsert_route", "r"),
        ("PUT", "/v1/services/s/endpoints", [endpoint(backend, "v1")], "upsert_service", "s"),
        ("DELETE", "/v1/routes/r", None, "remove_route", "r"),
        ("DELETE", "/v1/services/s", None, "remove_service", "s"),
        ("PUT", "/v1/config", {"services": [service("seed", endpoint(backend))], "routes": []},
         "replace_all", None),
    ]
    for method, path, body, _, _ in steps:
        kw = {"json": body} if body is not None else {}
        api.ok(method, path, **kw)
    t1 = int(time.time() * 1000)

    r = api.get("/v1/changes", params={"since": rev0})
    assert r.status_code == 200, describe(r)
    doc = r.json()
    assert doc["revision"] == rev0 + len(steps) == etag_revision(r)
    assert doc["truncated"] is False
    assert doc.get("next_since") is None
    ch = doc["changes"]
    assert [c["revision"] for c in ch] == list(range(rev0 + 1, rev0 + 1 + len(steps))), ch
    assert [c["kind"] for c in ch] == [s[3] for s in steps], ch
    for c, s in zip(ch, steps):
        if s[4] is not None:
            assert c["name"] == s[4], c
        assert c["source"] == "api", c
        assert t0 - 1000 <= c["time_ms"] <= t1 + 1000, c
    assert_subset(svc, ch[0]["object"])
    assert_subset(rt, ch[1]["object"])
    assert ch[2]["object"]["endpoints"][0]["version"] == "v1"
    assert ch[3]["object"] is None and ch[4]["object"] is None and ch[5]["object"] is None
    times = [c["time_ms"] for c in ch]
    assert times == sorted(times)

    # since = a later revision: only what followed; since = now: nothing
    doc = api.ok("GET", f"/v1/changes?since={rev0 + 4}", expect=200)
    assert [c["kind"] for c in doc["changes"]] == ["remove_service", "replace_all"]
    doc = api.ok("GET", f"/v1/changes?since={rev0 + len(steps)}", expect=200)
    assert doc["changes"] == [] and doc["revision"] == rev0 + len(steps)

    # the seed came from the file
    doc = api.ok("GET", "/v1/changes?since=0", expect=200)
    assert doc["changes"][0]["source"] == "config-file", doc["changes"][:2]


def test_changes_pages_of_at_most_1000(admin_factory, backend):
    t = admin_factory(config={"services": [service("s", endpoint(backend))], "routes": []})
    api = t.api()
    rev0 = api.revision()
    n = 1005
    deadline = time.monotonic() + 90
    for i in range(n):
        assert time.monotonic() < deadline, f"only {i} writes in 90 s"
        api.ok("PUT", "/v1/services/s/endpoints", expect=200,
               json=[endpoint(backend, weight=1 + i % 7)])
    got, since, pages = [], rev0, 0
    while since is not None and pages < 5:
        doc = api.ok("GET", f"/v1/changes?since={since}", expect=200)
        assert len(doc["changes"]) <= 1000
        got += doc["changes"]
        since = doc.get("next_since")
        pages += 1
        if since is None:
            break
        assert since == got[-1]["revision"], (since, got[-1])
    assert pages == 2
    assert [c["revision"] for c in got] == list(range(rev0 + 1, rev0 + 1 + n))
    assert all(c["kind"] == "upsert_service" and c["name"] == "s" for c in got)


# --------------------------------------------------------------------------------------------
# Endpoints, read-your-writes on the data path
# --------------------------------------------------------------------------------------------
def test_put_endpoints_both_body_forms(admin_factory, backend_factory):
    a, b = backend_factory("a"), backend_factory("b")
    t = admin_factory(config={"services": [service("s", endpoint(a), lb="round_robin")],
                              "routes": [route("r", "s")]})
    api = t.api()
    rev = api.revision()
    with RawClient(t.port) as c:
        assert _who(t.port, client=c) == (200, "a")

        r = api.put("/v1/services/s/endpoints", json=[endpoint(b, "v2", 4)])
        assert r.status_code == 200, describe(r)
        body = r.json()
        assert body["revision"] == rev + 1 == etag_revision(r)
        assert body["service"]["name"] == "s"
        assert_subset([endpoint(b, "v2", 4)], body["service"]["endpoints"])
        assert body["service"]["lb"] == "round_robin"  # only the endpoints change
        assert _who(t.port, client=c) == (200, "b")

        r = api.put("/v1/services/s/endpoints", json={"endpoints": [endpoint(a, "v1", 2)]})
        assert r.status_code == 200, describe(r)
        assert r.json()["revision"] == rev + 2
        assert_subset([endpoint(a, "v1", 2)], r.json()["service"]["endpoints"])
        assert _who(t.port, client=c) == (200, "a")

        got = item_of(api.ok("GET", "/v1/services/s", expect=200), "service")
        assert_subset([endpoint(a, "v1", 2)], got["endpoints"])

        # invalid endpoints: 400, nothing changes
        before = api.config()
        api_error(api.put("/v1/services/s/endpoints", json=[{"address": "not-an-address"}]), 400)
        api_error(api.put("/v1/services/s/endpoints", json={"endpoints": "x"}), 400)
        api_error(api.put("/v1/services/s/endpoints", json=[{"address": a.address, "weight": -2}]),
                  400)
        _unchanged(api, before)
        assert _who(t.port, client=c) == (200, "a")


def test_read_your_writes_on_the_data_path(admin_factory, backend_factory):
    a, b = backend_factory("a"), backend_factory("b")
    t = admin_factory(config={"services": [service("a", endpoint(a)), service("b", endpoint(b))],
                              "routes": [route("base", "a")]}, workers=2)
    api = t.api()
    with RawClient(t.port) as keep:
        for i in range(40):
            want = "b" if i % 2 == 0 else "a"
            r = api.put(f"/v1/routes/n{i}", json=route(f"n{i}", want,
                                                      match={"path_prefix": f"/n{i}/"},
                                                      priority=1))
            assert r.status_code == 201, describe(r)
            # the very next request, on an old keep-alive connection and on a new one
            assert _who(t.port, f"/n{i}/echo", client=keep) == (200, want), i
            assert _who(t.port, f"/n{i}/echo") == (200, want), i
            # flip the catch-all and check at once
            r = api.put("/v1/routes/base", json=route("base", want))
            assert r.status_code == 200, describe(r)
            assert _who(t.port, "/zzz", client=keep) == (200, want), i
            # delete: the very next request falls back to the catch-all
            r = api.delete(f"/v1/routes/n{i}")
            assert r.status_code == 200, describe(r)
            r = api.put("/v1/routes/base", json=route("base", "b" if want == "a" else "a"))
            assert r.status_code == 200, describe(r)
            other = "b" if want == "a" else "a"
            assert _who(t.port, f"/n{i}/echo", client=keep) == (200, other), i
