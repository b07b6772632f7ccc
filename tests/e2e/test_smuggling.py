"""Malformed and ambiguous requests: a precise 4xx, Connection: close, nothing forwarded."""
import time

import pytest

from harness import IncompleteResponse, RawClient, simple_config

SMUGGLED = b"GET /smuggled HTTP/1.1\r\nHost: e2e.test\r\n\r\n"

CASES = {
    "cl-and-te": (b"POST /echo HTTP/1.1\r\nHost: e2e.test\r\nContent-Length: 4\r\n"
                  b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + SMUGGLED),
    "te-and-cl": (b"POST /echo HTTP/1.1\r\nHost: e2e.test\r\nTransfer-Encoding: chunked\r\n"
                  b"Content-Length: 40\r\n\r\n0\r\n\r\n" + SMUGGLED),
    "two-different-content-lengths": (b"POST /echo HTTP/1.1\r\nHost: e2e.test\r\nContent-Length: 5\r\n"
                                      b"Content-Length: 6\r\n\r\nhello!" + SMUGGLED),
    "content-length-list-different": (b"POST /echo HTTP/1.1\r\nHost: e2e.test\r\nContent-Length: 5, 6\r\n"
                                      b"\r\nhello!" + SMUGGLED),
    "te-gzip-chunked": (b"POST /echo HTTP/1.1\r\nHost: e2e.test\r\nTransfer-Encoding: gzip, chunked\r\n"
                        b"\r\n0\r\n\r\n" + SMUGGLED),
    "bad-chunk-size": (b"POST /echo HTTP/1.1\r\nHost: e2e.test\r\nTransfer-Encoding: chunked\r\n"
                       b"\r\nzz\r\nhello\r\n0\r\n\r\n" + SMUGGLED),
    "space-before-colon": (b"POST /echo HTTP/1.1\r\nHost: e2e.test\r\nContent-Length : 5\r\n"
                           b"\r\nhello" + SMUGGLED),
    "space-before-colon-other-header": (b"GET /echo HTTP/1.1\r\nHost: e2e.test\r\nX-Test : 1\r\n\r\n"
                                        + SMUGGLED),
    "obs-fold": (b"GET /echo HTTP/1.1\r\nHost: e2e.test\r\nX-Folded: a\r\n  b\r\n\r\n" + SMUGGLED),
    "http11-without-host": b"GET /echo HTTP/1.1\r\nX-Test: 1\r\n\r\n" + SMUGGLED,
    "two-host-headers": (b"GET /echo HTTP/1.1\r\nHost: e2e.test\r\nHost: other.test\r\n\r\n" + SMUGGLED),
    "negative-content-length": (b"POST /echo HTTP/1.1\r\nHost: e2e.test\r\nContent-Length: -1\r\n\r\n"
                                + SMUGGLED),
    "garbage-request-line": b"THIS IS NOT HTTP\r\nHost: e2e.test\r\n\r\n" + SMUGGLED,
}


def _expect_rejected(t, backend, data, status=400):
    with RawClient(t.port) as c:
        c.send(data)  # one send: the whole request is there before the proxy decides
        try:
            r = c.read_response()
        except (ConnectionResetError, IncompleteResponse) as e:
            pytest.fail(f"connection dropped without a {status} response: {e!r}")
        assert r.status == status, r
        assert r.has_token("Connection", "close"), f"{status} without Connection: close: {r.headers}"
        closed, extra = c.wait_closed(3)
        assert closed, "proxy kept the connection open after rejecting the request"
        assert b"HTTP/1." not in extra, f"a second response followed the rejection: {extra!r}"
    time.sleep(0.2)  # anything forwarded would have reached the backend by now
    assert backend.request_lines == [], f"forwarded upstream: {backend.request_lines}"
    assert backend.count == 0


@pytest.fixture
def proxy(turnout_factory, backend):
    return turnout_factory(config=simple_config(backend))


def test_control_valid_request_is_forwarded(proxy, backend):
    # Proves that the harness sees forwarding: the same shape, well-formed, reaches the backend.
    with RawClient(proxy.port) as c:
        c.send(b"POST /echo HTTP/1.1\r\nHost: e2e.test\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"5\r\nhello\r\n0\r\n\r\n")
        r = c.read_response()
        assert r.status == 200
    assert backend.count == 1 and backend.last().body_len == 5


@pytest.mark.parametrize("name", list(CASES))
def test_smuggling_rejected_nothing_forwarded(proxy, backend, name):
    _expect_rejected(proxy, backend, CASES[name])


def test_rejection_after_valid_request_on_same_connection(proxy, backend):
    # A good request, then a bad one pipelined: the first is answered, the second is 400,
    # and the smuggled request behind it never reaches the backend.
    with RawClient(proxy.port) as c:
        c.send(b"GET /echo?first=1 HTTP/1.1\r\nHost: e2e.test\r\n\r\n" + CASES["cl-and-te"])
        r1 = c.read_response()
        assert r1.status == 200 and r1.json()["query"] == "first=1"
        r2 = c.read_response()
        assert r2.status == 400
        closed, extra = c.wait_closed(3)
        assert closed and b"HTTP/1." not in extra
    time.sleep(0.2)
    assert [x.target for x in backend.snapshot()] == ["/echo?first=1"]


def test_431_head_too_large(proxy, backend):
    big = "a" * (70 * 1024)
    data = f"GET /echo HTTP/1.1\r\nHost: e2e.test\r\nX-Big: {big}\r\n\r\n".encode()
    _expect_rejected(proxy, backend, data, status=431)


def test_431_too_many_headers(proxy, backend):
    hdrs = "".join(f"X-H{i}: {i}\r\n" for i in range(120))
    data = f"GET /echo HTTP/1.1\r\nHost: e2e.test\r\n{hdrs}\r\n".encode()
    _expect_rejected(proxy, backend, data, status=431)


def test_414_target_too_long(proxy, backend):
    data = f"GET /echo?{'q' * 9000} HTTP/1.1\r\nHost: e2e.test\r\n\r\n".encode()
    _expect_rejected(proxy, backend, data, status=414)


def test_within_limits_is_forwarded(proxy, backend):
    # Well under every limit: 40 KiB of headers in 10 lines, 80 headers, a 6 KiB target.
    with RawClient(proxy.port) as c:
        hdrs = [(f"X-Big{i}", "b" * 4000) for i in range(10)]
        r = c.request("GET", "/echo", headers=hdrs)
        assert r.status == 200, r
        hdrs = [(f"X-H{i}", str(i)) for i in range(80)]
        r = c.request("GET", "/echo", headers=hdrs)
        assert r.status == 200, r
        target = "/echo?" + "q" * 6000
        r = c.request("GET", target)
        assert r.status == 200, r
    assert backend.count == 3
    assert backend.last().target == "/echo?" + "q" * 6000


def test_http10_without_host_is_accepted(proxy, backend):
    with RawClient(proxy.port) as c:
        c.send(b"GET /echo HTTP/1.0\r\n\r\n")
        r = c.read_response()
    assert r.status == 200
    assert backend.count == 1
