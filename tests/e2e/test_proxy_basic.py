"""Basic HTTP/1.1 proxying: keep-alive, pipelining, bodiless responses, headers."""
import re

import requests

from harness import RawClient, build_request, endpoint, pattern_bytes, route, service, simple_config

HEX32_OR_UUID = re.compile(r"^(?:[0-9a-fA-F]{32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$")


def test_keep_alive_100_requests_one_connection_and_upstream_reuse(turnout_factory, backend):
    t = turnout_factory(config=simple_config(backend))
    with RawClient(t.port) as c:
        for i in range(100):
            r = c.request("GET", f"/echo?i={i}")
            assert r.status == 200, r
            assert r.json()["query"] == f"i={i}"
            assert not r.has_token("Connection", "close"), f"proxy closed keep-alive at {i}: {r}"
    assert backend.count == 100
    ports = backend.client_ports()
    assert len(ports) <= 2, f"proxy opened {len(ports)} upstream connections for 100 sequential requests"


def test_keep_alive_with_requests_session(turnout_factory, backend):
    t = turnout_factory(config=simple_config(backend))
    with requests.Session() as s:
        for i in range(50):
            r = s.get(t.url(f"/bytes?n={i * 37}"), timeout=5)
            assert r.status_code == 200
            assert r.content == pattern_bytes(i * 37)
    assert backend.count == 50
    assert len(backend.client_ports()) <= 3


def test_pipelined_requests_answered_in_order(turnout_factory, backend):
    t = turnout_factory(config=simple_config(backend))
    with RawClient(t.port) as c:
        # The first is the slowest: answers must still come back in request order.
        c.send(build_request("GET", "/slow?ms=300")
               + build_request("POST", "/echo?i=2", body=b"pipelined-body")
               + build_request("GET", "/bytes?n=1000"))
        r1 = c.read_response()
        r2 = c.read_response()
        r3 = c.read_response()
    assert (r1.status, r1.body) == (200, b"slow done")
    assert r2.status == 200
    assert r2.json()["query"] == "i=2" and r2.json()["body_len"] == len(b"pipelined-body")
    assert r3.status == 200 and r3.body == pattern_bytes(1000)


def test_head_response_has_no_body(turnout_factory, backend):
    t = turnout_factory(config=simple_config(backend))
    with RawClient(t.port) as c:
        r = c.request("HEAD", "/bytes?n=100")
        assert r.status == 200
        assert r.header("Content-Length") == "100"
        assert r.header("X-Backend") == "b1"
        # If the proxy sent a body after the HEAD response, it would corrupt the next answer.
        r = c.request("GET", "/echo?after=head")
        assert r.status == 200 and r.json()["query"] == "after=head"
    assert [x.method for x in backend.snapshot()] == ["HEAD", "GET"]


def test_204_and_304_without_body_on_kept_alive_connection(turnout_factory, backend):
    t = turnout_factory(config=simple_config(backend))
    with RawClient(t.port) as c:
        r = c.request("GET", "/status/204")
        assert r.status == 204
        assert r.header("Transfer-Encoding") is None
        r = c.request("GET", "/status/304", headers={"If-None-Match": '"e2e"'})
        assert r.status == 304
        assert r.header("Transfer-Encoding") is None
        assert r.header("ETag") == '"e2e"'
        r = c.request("GET", "/echo?after=304")
        assert r.status == 200 and r.json()["query"] == "after=304"
        closed, extra = c.wait_closed(0.3)
        assert not closed and extra == b"", f"unexpected bytes after the responses: {extra!r}"


def test_other_status_codes_relayed(turnout_factory, backend):
    t = turnout_factory(config=simple_config(backend))
    with requests.Session() as s:
        for code in (201, 404, 418, 500, 503):
            r = s.get(t.url(f"/status/{code}"), timeout=5)
            assert r.status_code == code
            assert r.text == f"status {code}"
            assert r.headers["X-Backend"] == "b1"


def test_methods_target_and_query_preserved(turnout_factory, backend):
    t = turnout_factory(config=simple_config(backend))
    with RawClient(t.port) as c:
        for method in ("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"):
            body = b"" if method in ("GET", "DELETE", "OPTIONS") else b"data-" + method.encode()
            target = "/some/path%20x?a=1&b=%2F&a=2&empty="
            r = c.request(method, target, body=body)
            assert r.status == 200, r
            rec = backend.last()
            assert rec.method == method
            assert rec.target == target
            assert rec.body_len == len(body)


def test_hop_by_hop_request_headers_removed(turnout_factory, backend):
    t = turnout_factory(config=simple_config(backend))
    with RawClient(t.port) as c:
        r = c.request("GET", "/echo", headers=[
            ("Connection", "keep-alive, X-Secret"),
            ("X-Secret", "must-not-pass"),
            ("Keep-Alive", "timeout=5"),
            ("Proxy-Connection", "keep-alive"),
            ("TE", "trailers"),
            ("Trailer", "X-Trailer"),
            ("Upgrade", "h2c"),  # no "upgrade" token in Connection: not an upgrade request
            ("X-End-To-End", "kept"),
        ])
        assert r.status == 200
    rec = backend.last()
    for name in ("X-Secret", "Keep-Alive", "Proxy-Connection", "TE", "Trailer", "Upgrade"):
        assert rec.header(name) is None, f"{name} forwarded: {rec.headers}"
    conn = ",".join(rec.header_all("Connection")).lower()
    assert "x-secret" not in conn
    assert rec.header("X-End-To-End") == "kept"


def test_hop_by_hop_response_headers_removed(turnout_factory, backend):
    t = turnout_factory(config=simple_config(backend))
    with RawClient(t.port) as c:
        r = c.request("GET", "/hop-response")
        assert r.status == 200 and r.body == b"hop"
        assert r.header("X-Hop-Secret") is None, r.headers
        assert r.header("Keep-Alive") is None, r.headers
        assert "x-hop-secret" not in ",".join(r.header_all("Connection")).lower()
        assert r.header("X-End-To-End") == "yes"
        # still usable
        assert c.request("GET", "/echo").status == 200


def test_x_forwarded_for_and_proto(turnout_factory, backend):
    t = turnout_factory(config=simple_config(backend))
    with RawClient(t.port) as c:
        assert c.request("GET", "/echo").status == 200
        rec = backend.last()
        assert rec.header_all("X-Forwarded-For") == ["127.0.0.1"]
        assert rec.header_all("X-Forwarded-Proto") == ["http"]

        assert c.request("GET", "/echo", headers={"X-Forwarded-For": "203.0.113.7"}).status == 200
        rec = backend.last()
        xff = ",".join(rec.header_all("X-Forwarded-For"))
        assert re.fullmatch(r"203\.0\.113\.7\s*,\s*127\.0\.0\.1", xff), xff

        assert c.request("GET", "/echo", headers={"X-Forwarded-Proto": "https"}).status == 200
        rec = backend.last()
        assert rec.header_all("X-Forwarded-Proto") == ["http"], "client cannot claim https over a plain listener"


def test_request_id_generated_unique_and_returned(turnout_factory, backend):
    t = turnout_factory(config=simple_config(backend))
    seen = set()
    with RawClient(t.port) as c:
        for _ in range(20):
            r = c.request("GET", "/echo")
            assert r.status == 200
            rid = r.header("X-Request-Id")
            assert rid, f"no X-Request-Id on the response: {r.headers}"
            assert backend.last().header_all("X-Request-Id") == [rid]
            seen.add(rid)
    assert len(seen) == 20, "request ids are not unique"
    for rid in seen:
        assert re.fullmatch(r"[0-9A-Za-z._:-]{8,128}", rid), rid


def test_request_id_preserved(turnout_factory, backend):
    t = turnout_factory(config=simple_config(backend))
    r = requests.get(t.url("/echo"), headers={"X-Request-Id": "client-id-42"}, timeout=5)
    assert r.status_code == 200
    assert r.headers.get("X-Request-Id") == "client-id-42"
    assert backend.last().header_all("X-Request-Id") == ["client-id-42"]


def test_host_header_forwarded_as_sent(turnout_factory, backend):
    t = turnout_factory(config=simple_config(backend))
    with RawClient(t.port) as c:
        assert c.request("GET", "/echo", host="app.example.test:8443").status == 200
    assert backend.last().header_all("Host") == ["app.example.test:8443"]


def test_absolute_form_target_routes_by_authority(turnout_factory, backend_factory):
    a = backend_factory("abs")
    other = backend_factory("other")
    cfg = {
        "services": [service("abs", endpoint(a)), service("other", endpoint(other))],
        "routes": [route("abs", "abs", match={"host": "abs.example.com", "path_prefix": "/"}),
                   route("other", "other")],
    }
    t = turnout_factory(config=cfg)
    with RawClient(t.port) as c:
        c.send(b"GET http://abs.example.com/echo?x=1 HTTP/1.1\r\nHost: abs.example.com\r\n\r\n")
        r = c.read_response()
        assert r.status == 200 and r.header("X-Backend") == "abs"
        c.send(b"GET http://abs.example.com/echo?x=2 HTTP/1.1\r\nHost: wrong.example.org\r\n\r\n")
        r = c.read_response()
        assert r.status == 200 and r.header("X-Backend") == "abs", "absolute-form authority wins over Host"
    assert other.count == 0
    recs = a.snapshot()
    # the upstream gets the path and query (origin-form, or the same absolute URI)
    assert [re.sub(r"^http://[^/]+", "", x.target) for x in recs] == ["/echo?x=1", "/echo?x=2"]
