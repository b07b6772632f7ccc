"""Request and response bodies: chunked both ways, 100-continue, large bodies, close-delimited."""
import time

import requests

from harness import RawClient, build_request, chunk_encode, pattern_bytes, sha256, simple_config

MiB = 1024 * 1024


def test_chunked_request_forwarded_chunked(turnout_factory, backend):
    t = turnout_factory(config=simple_config(backend))
    body = pattern_bytes(50_000)
    with RawClient(t.port) as c:
        c.send(build_request("POST", "/echo", [("Transfer-Encoding", "chunked")])
               + chunk_encode(body))
        r = c.read_response()
        assert r.status == 200
        doc = r.json()
        assert doc["body_len"] == len(body) and doc["body_sha256"] == sha256(body)
        # the connection stays usable after a chunked request
        assert c.request("GET", "/echo?next=1").json()["query"] == "next=1"
    rec = backend.snapshot()[0]
    assert rec.chunked, f"chunked request was not forwarded chunked: {rec.headers}"
    assert rec.header("Content-Length") is None


def test_chunked_request_with_extensions_and_trailers(turnout_factory, backend):
    t = turnout_factory(config=simple_config(backend))
    with RawClient(t.port) as c:
        c.send(build_request("POST", "/echo", [("Transfer-Encoding", "chunked")])
               + b"5;name=value\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n")
        r = c.read_response()
        assert r.status == 200
        assert r.json()["body_sha256"] == sha256(b"hello world")
        assert c.request("GET", "/echo?next=1").status == 200


def test_chunked_request_via_requests_generator(turnout_factory, backend):
    t = turnout_factory(config=simple_config(backend))
    parts = [pattern_bytes(1000), b"x", pattern_bytes(70_000)]

    def gen():
        yield from parts

    r = requests.post(t.url("/echo"), data=gen(), timeout=10)
    assert r.status_code == 200
    assert r.json()["body_sha256"] == sha256(b"".join(parts))


def test_chunked_response_relayed(turnout_factory, backend):
    t = turnout_factory(config=simple_config(backend))
    with RawClient(t.port) as c:
        for n in (0, 1, 5_000, 300_000):
            r = c.request("GET", f"/chunked?n={n}")
            assert r.status == 200
            assert r.body == pattern_bytes(n), n
    r = requests.get(t.url("/chunked?n=123457"), timeout=10)
    assert r.content == pattern_bytes(123457)


def test_expect_100_continue(turnout_factory, backend):
    t = turnout_factory(config=simple_config(backend))
    body = b"body-after-continue"
    with RawClient(t.port) as c:
        c.send(build_request("POST", "/echo", [("Expect", "100-continue"),
                                                ("Content-Length", str(len(body)))]))
        head = c.read_head()
        assert head.startswith(b"HTTP/1.1 100 Continue\r\n"), head
        c.send(body)
        r = c.read_response()
        assert r.status == 200
        assert r.json()["body_sha256"] == sha256(body)
        assert not r.interim, "a second 100 Continue was relayed"
    rec = backend.last()
    assert rec.header("Expect") is None, "Expect must not be forwarded"
    assert rec.body_len == len(body)


def test_upload_10_mib_byte_exact(turnout_factory, backend):
    t = turnout_factory(config=simple_config(backend))
    body = pattern_bytes(10 * MiB + 13)
    r = requests.post(t.url("/echo"), data=body, timeout=60)
    assert r.status_code == 200
    assert r.json()["body_len"] == len(body)
    assert backend.last().body_sha256 == sha256(body)


def test_download_10_mib_byte_exact(turnout_factory, backend):
    t = turnout_factory(config=simple_config(backend))
    n = 10 * MiB + 7
    r = requests.get(t.url(f"/bytes?n={n}"), timeout=60)
    assert r.status_code == 200
    assert len(r.content) == n
    assert sha256(r.content) == sha256(pattern_bytes(n))


def test_download_10_mib_chunked_byte_exact(turnout_factory, backend):
    t = turnout_factory(config=simple_config(backend))
    n = 10 * MiB + 3
    r = requests.get(t.url(f"/chunked?n={n}"), timeout=60)
    assert r.status_code == 200
    assert sha256(r.content) == sha256(pattern_bytes(n))


def test_close_delimited_response_relayed(turnout_factory, backend):
    t = turnout_factory(config=simple_config(backend))
    n = 200_000
    with RawClient(t.port, timeout=10) as c:
        r = c.request("GET", f"/close-delimited?n={n}")
        assert r.status == 200
        assert r.body == pattern_bytes(n)
    # and the proxy keeps working (it must not reuse the closed upstream connection)
    with requests.Session() as s:
        for _ in range(3):
            assert s.get(t.url("/echo"), timeout=5).status_code == 200


def test_max_request_body_counts_a_chunked_body_sent_whole(turnout_factory, backend):
    # The body arrives with its head: refused before anything goes upstream.
    t = turnout_factory(config=simple_config(backend), extra=["--max-request-body", "1000"])
    with RawClient(t.port) as c:
        c.send(build_request("POST", "/echo", [("Transfer-Encoding", "chunked")])
               + chunk_encode(pattern_bytes(1001), sizes=(600, 401)))
        r = c.read_response()
    assert r.status == 413, r
    assert b"larger than 1000 bytes" in r.body
    assert backend.count == 0
    with RawClient(t.port) as c:  # 1,000 bytes is within the limit
        c.send(build_request("POST", "/echo", [("Transfer-Encoding", "chunked")])
               + chunk_encode(pattern_bytes(1000), sizes=(600, 400)))
        r = c.read_response()
    assert r.status == 200 and r.json()["body_len"] == 1000, r


def test_max_request_body_stops_a_streamed_chunked_body_before_the_chunk_over_it(
        turnout_factory, backend):
    # The head and a first chunk go upstream; the chunk that crosses the limit is refused
    # before any of its bytes: the upstream sees a cut request, the client a 413, and the
    # connection closes (the rest of the body is not read).
    t = turnout_factory(config=simple_config(backend), extra=["--max-request-body", "1000"])
    with RawClient(t.port, timeout=10) as c:
        c.send(build_request("POST", "/echo", [("Transfer-Encoding", "chunked")])
               + b"258\r\n" + pattern_bytes(600) + b"\r\n")
        time.sleep(0.3)  # the first chunk is forwarded on its own
        c.send(b"1f4\r\n" + pattern_bytes(500) + b"\r\n0\r\n\r\n")
        r = c.read_response()
        assert r.status == 413, r
        assert r.header("Connection") == "close", r
    assert backend.count == 0  # the upstream never got a whole request to answer
