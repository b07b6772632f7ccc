"""The access log (--access-log FILE|-, --access-log-fields, --access-log-sample, SIGHUP) of a
real turnout (2 workers) in front of real backends.

What is tested:
- every field of a proxied request has the right value: the timestamp within the test's
  wall-clock window, the request id the client got back (or the one it sent), the client's
  address and source port, method, path with its query, Host, status, exact bytes in and out
  (measured on a raw socket), durations against a backend that holds 200 ms, route, src
  (--identity, "" without one), dst "service:version", upstream address, fault, retries; the
  default key order;
- Amalgam8/Gremlin faults: abort, delay, drop and delay+abort triggered by a header give
  fault, status and gremlin_header_name/_val (the header name as configured, the value sent);
- local answers: no route (404), a malformed request (400), upstream down (502), a client that
  resets before the answer (499);
- hostile input (quotes, backslashes, percent-escapes, non-UTF-8 bytes in the path, Host,
  X-Request-Id and a gremlin header) still gives one valid JSON object per line;
- --access-log-fields (exact keys in the given order, unknown or repeated names refused),
  --access-log-sample (about 10 % of 2xx, every 5xx; bad shares refused), --access-log - (stdout
  after the "listening" line);
- rotation: rename + SIGHUP, nothing lost; SIGTERM flushes what was answered;
- turnout_access_log_lines_total{result}: written equals the file's lines, dropped is 0, and a
  FIFO nobody reads makes lines drop while every request is still answered promptly.

Loopback only; every loop is bounded in count and every wait in time.
"""
from __future__ import annotations

import errno
import json
import os
import re
import signal
import socket
import time

import pytest
import requests

from harness import (
    Exposition,
    LOCALHOST,
    RawClient,
    build_request,
    chunk_encode,
    closed_port,
    endpoint,
    pattern_bytes,
    recv_until_closed,
    run_cli,
    service,
    wait_until,
)

FIELDS = ["timestamp_ms", "request_id", "client", "method", "path", "host", "status",
          "bytes_in", "bytes_out", "duration_ms", "upstream_duration_ms", "route", "src", "dst",
          "upstream", "fault", "gremlin_header_name", "gremlin_header_val", "retries"]
GREMLIN = "X-Gremlin-ID"  # as configured; clients below send it in other cases too
IDENTITY = "web:v1"
FLUSH_WAIT = 3.0  # the writer flushes every ~25 ms; this is the bound of every wait for it

pytestmark = pytest.mark.time_budget(20)



# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------
def parse_line(raw: bytes):
    """One log line (without its '\\n'): strict UTF-8, one JSON object, no repeated key.
    Returns (the key/value pairs in text order, the dict)."""
    text = raw.decode("utf-8")  # raises on invalid UTF-8
    pairs = json.loads(text, object_pairs_hook=lambda p: p)
    assert isinstance(pairs, list), f"not a JSON object: {raw!r}"
    keys = [k for k, _ in pairs]
    assert len(keys) == len(set(keys)), f"repeated key in {raw!r}"
    return pairs, dict(pairs)


def read_log(path) -> list[dict]:
    """Every line of the file, each asserted to be valid JSON ending with '\\n'."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    if not data:
        return []
    assert data.endswith(b"\n"), f"last line cut: {data[-200:]!r}"
    return [parse_line(line)[1] for line in data[:-1].split(b"\n")]


def complete_lines(path) -> int:
    """The '\\n'-terminated lines in the file now (a write in progress may show a cut tail)."""
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def wait_lines(path, n: int, timeout: float = FLUSH_WAIT) -> list[dict]:
    """Waits (bounded) until the file holds at least n lines; returns them all."""
    wait_until(lambda: complete_lines(path) >= n, timeout)
    return read_log(path)


def wait_raw_lines(path, n: int, timeout: float = FLUSH_WAIT) -> list[bytes]:
    """As wait_lines, but the raw lines (without their '\\n'), to check the text itself."""
    wait_until(lambda: complete_lines(path) >= n, timeout)
    data = path.read_bytes()
    assert not data or data.endswith(b"\n"), f"last line cut: {data[-200:]!r}"
    return data[:-1].split(b"\n") if data else []


def one_line(lines: list[dict], **want) -> dict:
    found = [d for d in lines if all(d.get(k) == v for k, v in want.items())]
    assert len(found) == 1, f"want one line with {want}, got {found} among {lines}"
    return found[0]


def scrape(t) -> Exposition:
    r = requests.get(f"http://{LOCALHOST}:{t.admin_port}/metrics", timeout=5)
    assert r.status_code == 200, r.text[:300]
    return Exposition(r.text)


def log_counter(t, result: str) -> float:
    return scrape(t).value("turnout_access_log_lines_total", result=result)


def raw_exchange(port: int, data: bytes, timeout: float = 5.0):
    """Sends `data` on a fresh connection and reads until the proxy closes it. Returns
    (every byte received, the client's source port, wall-clock ms before, wall-clock ms
    after)."""
    before = time.time() * 1000
    s = socket.create_connection((LOCALHOST, port), timeout=timeout)
    try:
        local_port = s.getsockname()[1]
        s.sendall(data)
        got = recv_until_closed(s, timeout)
    finally:
        s.close()
    return got, local_port, before, time.time() * 1000


def header_of(response: bytes, name: str):
    head = response.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    for line in head.split("\r\n")[1:]:
        k, _, v = line.partition(":")
        if k.strip().lower() == name.lower():
            return v.strip()
    return None


def status_of(response: bytes) -> int:
    m = re.match(rb"HTTP/1\.1 (\d{3}) ", response)
    assert m, f"not an HTTP response: {response[:200]!r}"
    return int(m.group(1))


def get(t, target: str, headers=None, host="app.test") -> int:
    with RawClient(t.port, timeout=5) as c:
        return c.request("GET", target, headers=headers, host=host).status


def mesh_config(backend, dead_port: int):
    """hello (v1 = backend), plain (no version), down (nothing listens); /app, /plain, /dead,
    /gremlin (header-triggered faults); no catch-all, so other paths are 404."""
    faults = [
        {"match": {"headers": {GREMLIN: "^abort-"}}, "abort": {"status": 503}},
        {"match": {"headers": {GREMLIN: "^delay-"}}, "delay": {"seconds": 0.3}},
        {"match": {"headers": {GREMLIN: "^drop-"}}, "abort": {"status": "drop"}},
        {"match": {"headers": {GREMLIN: "^both-"}}, "delay": {"seconds": 0.2},
         "abort": {"status": 429}},
    ]
    return {
        "services": [service("hello", endpoint(backend, "v1")),
                     service("plain", endpoint(backend)),
                     service("down", endpoint(f"{LOCALHOST}:{dead_port}", "v9"))],
        "routes": [
            {"id": "app", "match": {"path_prefix": "/app"}, "rewrite": {"strip_prefix": True},
             "split": [{"service": "hello", "version": "v1"}]},
            {"id": "plain", "match": {"path_prefix": "/plain"}, "split": [{"service": "plain"}]},
            {"id": "dead", "match": {"path_prefix": "/dead"},
             "split": [{"service": "down", "version": "v9"}]},
            {"id": "gremlin", "match": {"path_prefix": "/gremlin"},
             "rewrite": {"strip_prefix": True},
             "split": [{"service": "hello", "version": "v1"}], "faults": faults},
        ],
    }


def direct_config():
    """Local answers only (no backend): /ok 200, /fail 503."""
    return {"services": [],
            "routes": [{"id": "ok", "match": {"path_prefix": "/ok"},
                        "direct_response": {"status": 200, "body": "ok"}},
                       {"id": "fail", "match": {"path_prefix": "/fail"},
                        "direct_response": {"status": 503, "body": "fail"}}]}


@pytest.fixture
def mesh(turnout_factory, backend, tmp_path):
    """A turnout with --identity and an access log file; returns (turnout, log path, backend,
    dead port)."""
    dead = closed_port()
    log = tmp_path / "access.log"
    t = turnout_factory(config=mesh_config(backend, dead),
                        extra=["--access-log", str(log), "--identity", IDENTITY])
    return t, log, backend, dead


# --------------------------------------------------------------------------------------------
# Fields of a proxied request
# --------------------------------------------------------------------------------------------
def test_every_field_of_a_proxied_request(mesh):
    t, log, backend, _ = mesh
    body = b"0123456789" * 7
    request = build_request("POST", "/app/slow?ms=200&q=a%20b", {"Connection": "close"},
                            body, host="app.test")
    got, port, before, after = raw_exchange(t.port, request)
    assert status_of(got) == 200, got[:300]
    rid = header_of(got, "X-Request-Id")
    assert rid, f"no X-Request-Id in the answer: {got[:300]!r}"

    raw = wait_raw_lines(log, 1)
    assert len(raw) == 1, raw
    pairs, line = parse_line(raw[0])
    assert [k for k, _ in pairs] == FIELDS, f"default keys/order: {raw[0]!r}"
    assert int(before) - 1 <= line["timestamp_ms"] <= int(after) + 1, (before, after, line)
    assert isinstance(line["timestamp_ms"], int), line
    assert line["request_id"] == rid, line
    assert line["client"] == f"127.0.0.1:{port}", line
    assert line["method"] == "POST", line
    assert line["path"] == "/app/slow?ms=200&q=a%20b", line
    assert line["host"] == "app.test", line
    assert line["status"] == 200, line
    assert line["bytes_in"] == len(request), (len(request), line)
    assert line["bytes_out"] == len(got), (len(got), line)
    assert after - before + 1 >= line["duration_ms"] >= line["upstream_duration_ms"] >= 200, line
    assert line["route"] == "app", line
    assert line["src"] == IDENTITY, line
    assert line["dst"] == "hello:v1", line
    assert line["upstream"] == backend.address, line
    assert (line["fault"], line["gremlin_header_name"], line["gremlin_header_val"]) == \
        ("", "", ""), line
    assert line["retries"] == 0, line


def test_client_request_id_is_kept_and_versionless_dst(mesh):
    t, log, backend, _ = mesh
    with RawClient(t.port) as c:
        r = c.request("GET", "/app/echo", headers={"X-Request-Id": "client-id-1"})
        assert r.status == 200 and r.header("X-Request-Id") == "client-id-1", r
        r = c.request("GET", "/plain/echo", headers={"X-Request-Id": "client-id-2"})
        assert r.status == 200, r
    lines = wait_lines(log, 2)
    assert len(lines) == 2, lines
    a = one_line(lines, request_id="client-id-1")
    assert (a["route"], a["dst"], a["status"]) == ("app", "hello:v1", 200), a
    b = one_line(lines, request_id="client-id-2")
    assert (b["route"], b["dst"], b["upstream"]) == ("plain", "plain", backend.address), b


def test_oversized_request_id_is_replaced_in_the_log_too(mesh):
    t, log, _, _ = mesh
    sent = "L" * 300  # over 200 bytes: the proxy makes its own
    got, _, _, _ = raw_exchange(t.port, build_request(
        "GET", "/app/echo", {"X-Request-Id": sent, "Connection": "close"}))
    given = header_of(got, "X-Request-Id")
    assert given and given != sent, got[:300]
    lines = wait_lines(log, 1)
    assert [d["request_id"] for d in lines] == [given], lines


def test_keep_alive_and_pipelined_exchanges_count_their_own_bytes(mesh):
    t, log, _, _ = mesh
    sent = [
        build_request("GET", "/app/bytes?n=1000", {"X-Request-Id": "k1"}),
        build_request("POST", "/app/echo", {"X-Request-Id": "k2", "Transfer-Encoding": "chunked"},
                      chunk_encode(pattern_bytes(3000))),
        build_request("GET", "/app/chunked?n=100000", {"X-Request-Id": "k3"}),
        build_request("HEAD", "/app/bytes?n=10", {"X-Request-Id": "k4", "Connection": "close"}),
    ]
    got, port, _, _ = raw_exchange(t.port, b"".join(sent))  # one write: pipelined
    assert got.count(b"HTTP/1.1 200 ") == 4, got[:300]
    lines = wait_lines(log, 4)
    assert len(lines) == 4, lines
    for i, request in enumerate(sent, 1):
        line = one_line(lines, request_id=f"k{i}")
        assert line["bytes_in"] == len(request), (i, len(request), line)
        assert line["client"] == f"127.0.0.1:{port}", line
    assert sum(d["bytes_out"] for d in lines) == len(got), (len(got), lines)
    # the first answer alone: its head and its 1000 bytes
    first_end = got.index(b"\r\n\r\n") + 4 + 1000
    assert one_line(lines, request_id="k1")["bytes_out"] == first_end, lines


def test_bytes_out_counts_the_100_continue_interim_answer(mesh):
    t, log, _, _ = mesh
    head = (b"POST /app/echo HTTP/1.1\r\nHost: app.test\r\nX-Request-Id: cont\r\n"
            b"Content-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n")
    s = socket.create_connection((LOCALHOST, t.port), timeout=5)
    try:
        s.sendall(head)
        got = b""
        deadline = time.monotonic() + 5
        while b"\r\n\r\n" not in got and time.monotonic() < deadline:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
        assert got.startswith(b"HTTP/1.1 100 Continue\r\n\r\n"), got
        s.sendall(b"hello")
        got = recv_until_closed(s, 5, got)
    finally:
        s.close()
    assert b"HTTP/1.1 200 " in got, got[:300]
    line = one_line(wait_lines(log, 1), request_id="cont")
    assert line["bytes_in"] == len(head) + 5, line
    assert line["bytes_out"] == len(got), (len(got), line)


def test_src_is_empty_without_identity(turnout_factory, backend, tmp_path, monkeypatch):
    monkeypatch.delenv("TURNOUT_IDENTITY", raising=False)
    monkeypatch.delenv("A8_SERVICE", raising=False)
    log = tmp_path / "access.log"
    t = turnout_factory(config=mesh_config(backend, closed_port()),
                        extra=["--access-log", str(log)])
    assert get(t, "/app/echo", {"X-Request-Id": "no-identity"}) == 200
    line = one_line(wait_lines(log, 1), request_id="no-identity")
    assert line["src"] == "", line


# --------------------------------------------------------------------------------------------
# Amalgam8 / Gremlin faults
# --------------------------------------------------------------------------------------------
def test_gremlin_fault_fields(mesh):
    t, log, backend, _ = mesh
    with RawClient(t.port) as c:
        r = c.request("GET", "/gremlin/echo", headers={"x-gremlin-id": "abort-17",
                                                        "X-Request-Id": "g-abort"})
        assert r.status == 503 and r.header("X-Backend") is None, r
        t0 = time.monotonic()
        r = c.request("GET", "/gremlin/echo", headers={"X-GREMLIN-ID": "delay-18",
                                                        "X-Request-Id": "g-delay"})
        assert r.status == 200 and r.header("X-Backend") == "b1", r
        assert time.monotonic() - t0 >= 0.29
        r = c.request("GET", "/gremlin/echo", headers={GREMLIN: "both-19",
                                                        "X-Request-Id": "g-both"})
        assert r.status == 429, r
        r = c.request("GET", "/gremlin/echo", headers={"X-Request-Id": "g-none"})
        assert r.status == 200 and r.header("X-Backend") == "b1", r
        r = c.request("GET", "/gremlin/echo", headers={GREMLIN: "nothing-20",
                                                        "X-Request-Id": "g-nomatch"})
        assert r.status == 200 and r.header("X-Backend") == "b1", r
    with RawClient(t.port, timeout=3) as c:
        c.send(build_request("GET", "/gremlin/echo", {GREMLIN: "drop-21",
                                                      "X-Request-Id": "g-drop"}))
        closed, got = c.wait_closed(timeout=3)
        assert closed and got == b"", (closed, got)

    lines = wait_lines(log, 6)
    assert len(lines) == 6, lines
    abort = one_line(lines, request_id="g-abort")
    assert (abort["status"], abort["fault"], abort["route"]) == (503, "abort", "gremlin"), abort
    assert abort["gremlin_header_name"] == GREMLIN, abort
    assert abort["gremlin_header_val"] == "abort-17", abort

    delay = one_line(lines, request_id="g-delay")
    assert (delay["status"], delay["fault"]) == (200, "delay"), delay
    assert (delay["gremlin_header_name"], delay["gremlin_header_val"]) == (GREMLIN, "delay-18")
    assert delay["duration_ms"] >= 300, delay
    assert delay["upstream"] == backend.address, delay
    # the injected delay is not the upstream's time
    assert delay["upstream_duration_ms"] <= delay["duration_ms"] - 250, delay

    both = one_line(lines, request_id="g-both")
    assert (both["status"], both["fault"]) == (429, "delay+abort"), both
    assert (both["gremlin_header_name"], both["gremlin_header_val"]) == (GREMLIN, "both-19")
    assert both["duration_ms"] >= 200, both

    drop = one_line(lines, request_id="g-drop")
    assert (drop["status"], drop["fault"], drop["bytes_out"]) == (0, "drop", 0), drop
    assert (drop["gremlin_header_name"], drop["gremlin_header_val"]) == (GREMLIN, "drop-21")

    for rid in ("g-none", "g-nomatch"):
        plain = one_line(lines, request_id=rid)
        assert (plain["status"], plain["fault"]) == (200, ""), plain
        assert (plain["gremlin_header_name"], plain["gremlin_header_val"]) == ("", ""), plain


# --------------------------------------------------------------------------------------------
# Local answers
# --------------------------------------------------------------------------------------------
def test_unrouted_request_is_404_without_route(mesh):
    t, log, _, _ = mesh
    with RawClient(t.port) as c:
        r = c.request("GET", "/nowhere?x=1", headers={"X-Request-Id": "unrouted"})
        assert r.status == 404, r
        port = c.sock.getsockname()[1]
        size = len(r.head_raw) + len(r.body)
    line = one_line(wait_lines(log, 1), request_id="unrouted")
    assert (line["status"], line["route"], line["dst"], line["upstream"]) == (404, "", "", ""), line
    assert (line["path"], line["client"], line["src"]) == \
        ("/nowhere?x=1", f"127.0.0.1:{port}", IDENTITY), line
    assert line["bytes_out"] == size, (size, line)
    assert line["upstream_duration_ms"] is None, line


def test_malformed_request_is_logged_with_the_client_address(mesh):
    t, log, _, _ = mesh
    garbage = b"NOT A REQUEST\r\n\r\n"
    got, port, before, after = raw_exchange(t.port, garbage)
    assert status_of(got) == 400, got[:300]
    lines = wait_lines(log, 1)
    assert len(lines) == 1, lines
    line = lines[0]
    assert (line["status"], line["client"]) == (400, f"127.0.0.1:{port}"), line
    assert line["request_id"] == header_of(got, "X-Request-Id"), (got[:300], line)
    assert line["bytes_in"] == len(garbage) and line["bytes_out"] == len(got), (len(got), line)
    assert int(before) - 1 <= line["timestamp_ms"] <= int(after) + 1, (before, after, line)
    assert (line["route"], line["upstream"], line["src"]) == ("", "", IDENTITY), line


def test_malformed_request_timestamp_is_its_arrival(mesh):
    t, log, _, _ = mesh
    s = socket.create_connection((LOCALHOST, t.port), timeout=5)
    try:
        first_byte = time.time() * 1000
        s.sendall(b"GET /app/echo HTTP/1.1\r\nHost: app.test\r\n")
        time.sleep(0.5)
        s.sendall(b"Not a header line\r\n\r\n")
        got = s.recv(65536)
    finally:
        s.close()
    assert status_of(got) == 400, got[:300]
    line = one_line(wait_lines(log, 1), status=400)
    assert line["duration_ms"] >= 450, line  # its time counts from the first byte...
    # ...and so does its timestamp, as for a proxied request (AccessRecord: "when the request
    # arrived"): within 100 ms of the first byte, not 500 ms later
    assert int(first_byte) - 1 <= line["timestamp_ms"] <= first_byte + 100, (first_byte, line)


def test_upstream_down_is_502_with_its_address(mesh):
    t, log, _, dead = mesh
    assert get(t, "/dead/x", {"X-Request-Id": "down"}) == 502
    line = one_line(wait_lines(log, 1), request_id="down")
    assert (line["status"], line["route"], line["dst"]) == (502, "dead", "down:v9"), line
    assert line["upstream"] == f"{LOCALHOST}:{dead}", line


def test_client_reset_before_the_answer_is_499(mesh):
    t, log, backend, _ = mesh
    c = RawClient(t.port, timeout=5)
    try:
        port = c.sock.getsockname()[1]
        t0 = time.monotonic()
        c.send(build_request("GET", "/app/slow?ms=1500", {"X-Request-Id": "gone"}))
        assert backend.wait_for(1, timeout=3), "the request never reached the backend"
        time.sleep(0.1)
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    finally:
        c.close()  # a reset: the client is gone for sure
    closed_at = time.monotonic()
    # logged when the proxy sees the reset, not when the backend answers 1.5 s later
    assert wait_until(lambda: complete_lines(log) >= 1, 1.0), read_log(log)
    line = one_line(read_log(log), request_id="gone")
    assert (line["status"], line["bytes_out"]) == (499, 0), line
    assert line["client"] == f"127.0.0.1:{port}", line
    assert (line["route"], line["upstream"]) == ("app", backend.address), line
    assert (closed_at - t0) * 1000 - 50 <= line["duration_ms"] < 1500, (closed_at - t0, line)


def test_client_half_closing_after_its_request_still_gets_and_logs_the_answer(mesh):
    """turnout answers a client that shut down its sending side after a complete request
    (`printf ... | nc` does this): HTTP allows the half-close, so it is not taken for a client
    that left (nginx would log 499 and drop the answer). Only a reset, or a failed write, ends
    the exchange early (test above)."""
    t, log, backend, _ = mesh
    s = socket.create_connection((LOCALHOST, t.port), timeout=5)
    got = b""
    try:
        s.sendall(build_request("GET", "/app/slow?ms=300", {"X-Request-Id": "half-closed"}))
        s.shutdown(socket.SHUT_WR)
        got = recv_until_closed(s, 5)
    finally:
        s.close()
    assert status_of(got) == 200, got[:200]
    assert wait_until(lambda: complete_lines(log) >= 1, 2.0), read_log(log)
    line = one_line(read_log(log), request_id="half-closed")
    assert (line["status"], line["bytes_out"]) == (200, len(got)), line
    assert line["duration_ms"] >= 300, line


# --------------------------------------------------------------------------------------------
# Hostile input
# --------------------------------------------------------------------------------------------
def test_hostile_bytes_still_give_valid_json_lines(mesh):
    t, log, _, _ = mesh
    path = '/app/q"uo\\te%22%5C%00?a="b"\\&c=%ff'
    gremlin_val = b"abort-\xc3\x28\xff\tend\xe2\x82"  # ill-formed UTF-8 and a tab
    rid = b'id"\\\xfe\xe9x'
    cases = [
        build_request("GET", path, {"X-Request-Id": "hostile-path"}),
        b"GET /gremlin/x HTTP/1.1\r\nHost: app.test\r\nX-Request-Id: hostile-gremlin\r\n"
        b"X-Gremlin-ID: " + gremlin_val + b"\r\n\r\n",
        b"GET /app/echo HTTP/1.1\r\nHost: app.test\r\nX-Request-Id: " + rid + b"\r\n\r\n",
        b"GET /app/echo HTTP/1.1\r\nHost: h\xff\xfe\xc0\xafst\r\n\r\n",  # Host: not UTF-8
        b"GET /app/caf\xc3\xa9\xff\xfe HTTP/1.1\r\nHost: app.test\r\n\r\n",  # raw bytes in path
        b'GET /app/"\\ HTTP/1.1\r\nHost: "\\\r\n\r\n',
    ]
    statuses = []
    for raw in cases:
        got, _, _, _ = raw_exchange(t.port, raw[:-2] + b"Connection: close\r\n\r\n"
                                    if raw.endswith(b"\r\n\r\n") else raw)
        statuses.append(status_of(got))
    lines = wait_lines(log, len(cases))  # read_log asserts each is valid UTF-8 JSON
    assert len(lines) == len(cases), (statuses, lines)
    assert one_line(lines, request_id="hostile-path")["path"] == path
    g = one_line(lines, request_id="hostile-gremlin")
    assert (g["fault"], g["status"]) == ("abort", 503), g
    assert g["gremlin_header_val"] == gremlin_val.decode("utf-8", "replace"), g
    assert g["gremlin_header_name"] == GREMLIN, g
    one_line(lines, request_id=rid.decode("utf-8", "replace"))
    # whatever the parser made of the others (400 or an answer), their lines are objects too
    assert sorted(d["status"] for d in lines) == sorted(statuses), (statuses, lines)


# --------------------------------------------------------------------------------------------
# Options
# --------------------------------------------------------------------------------------------
def test_selected_fields_in_the_given_order(turnout_factory, backend, tmp_path):
    log = tmp_path / "access.log"
    t = turnout_factory(config=mesh_config(backend, closed_port()),
                        extra=["--access-log", str(log),
                               "--access-log-fields", "status,route,request_id"])
    assert get(t, "/app/echo", {"X-Request-Id": "fields-1"}) == 200
    assert get(t, "/nowhere", {"X-Request-Id": "fields-2"}) == 404
    raw = wait_raw_lines(log, 2)
    assert len(raw) == 2, raw
    assert sorted(raw) == sorted([b'{"status":200,"route":"app","request_id":"fields-1"}',
                                  b'{"status":404,"route":"","request_id":"fields-2"}']), raw
    for line in raw:
        pairs, _ = parse_line(line)
        assert [k for k, _ in pairs] == ["status", "route", "request_id"], line


@pytest.mark.parametrize("fields, needle", [
    ("status,bogus_field", "bogus_field"),
    ("status,status", "status"),
])
def test_bad_field_list_refuses_to_start(turnout_bin, tmp_path, fields, needle):
    p = run_cli(turnout_bin, ["run", "--to", f"{LOCALHOST}:1", "--listen", f"{LOCALHOST}:0",
                              "--admin", f"{LOCALHOST}:0", "--data-dir", str(tmp_path / "d"),
                              "--access-log", str(tmp_path / "a.log"),
                              "--access-log-fields", fields])
    err = p.stderr.decode(errors="replace")
    assert p.returncode == 2, (p.returncode, err)
    assert f'"{needle}"' in err and "field" in err, err
    assert b"listening" not in p.stdout, p.stdout


@pytest.mark.parametrize("share", ["0", "1.5", "-1", "abc", "nan"])
def test_bad_sample_share_refuses_to_start(turnout_bin, tmp_path, share):
    p = run_cli(turnout_bin, ["run", "--to", f"{LOCALHOST}:1", "--listen", f"{LOCALHOST}:0",
                              "--admin", f"{LOCALHOST}:0", "--data-dir", str(tmp_path / "d"),
                              "--access-log", str(tmp_path / "a.log"),
                              "--access-log-sample", share])
    err = p.stderr.decode(errors="replace")
    assert p.returncode == 2, (p.returncode, err)
    first = err.splitlines()[0] if err else ""
    assert "sample" in first and share in first, err
    assert b"listening" not in p.stdout, p.stdout


def test_unopenable_file_refuses_to_start(turnout_bin, tmp_path):
    target = tmp_path / "missing-dir" / "a.log"
    p = run_cli(turnout_bin, ["run", "--to", f"{LOCALHOST}:1", "--listen", f"{LOCALHOST}:0",
                              "--admin", f"{LOCALHOST}:0", "--data-dir", str(tmp_path / "d"),
                              "--access-log", str(target)])
    err = p.stderr.decode(errors="replace")
    assert p.returncode == 2 and str(target) in err, (p.returncode, err)


def test_sampling_keeps_a_share_of_2xx_and_every_5xx(turnout_factory, tmp_path):
    log = tmp_path / "access.log"
    t = turnout_factory(config=direct_config(),
                        extra=["--access-log", str(log), "--access-log-sample", "0.1"])
    ok, fail = 2000, 200
    for conn in range(20):  # 20 connections: both workers sample
        with RawClient(t.port, timeout=5) as c:
            for i in range(ok // 20):
                assert c.request("GET", f"/ok/{conn}/{i}").status == 200
            for i in range(fail // 20):
                assert c.request("GET", f"/fail/{conn}/{i}").status == 503
    assert t.stop() == 0, t.diagnostics()  # a clean stop flushes every sampled line
    lines = read_log(log)
    by_status = {s: sum(1 for d in lines if d["status"] == s) for s in (200, 503)}
    assert len(lines) == by_status[200] + by_status[503], lines[:5]
    assert by_status[503] == fail, by_status
    assert 0.05 * ok <= by_status[200] <= 0.17 * ok, by_status


def test_stdout_sink_after_the_listening_line(turnout_factory, backend):
    t = turnout_factory(config=mesh_config(backend, closed_port()), extra=["--access-log", "-"])
    ids = [f"stdout-{i}" for i in range(5)]
    for rid in ids:
        assert get(t, "/app/echo", {"X-Request-Id": rid}) == 200

    def logged():
        return [ln for ln in list(t.stdout_lines) if '"request_id"' in ln]

    assert wait_until(lambda: len(logged()) >= len(ids), FLUSH_WAIT), t.stdout_lines
    out = list(t.stdout_lines)
    first = out.index(next(ln for ln in out if '"event":"listening"' in ln))
    assert first == 0, out
    entries = [parse_line(ln.encode())[1] for ln in out[1:]]  # nothing else on stdout
    assert sorted(d["request_id"] for d in entries) == sorted(ids), out
    assert all(d["status"] == 200 and d["route"] == "app" for d in entries), entries
    # SIGHUP has no file to reopen: stdout goes on
    t.send_signal(signal.SIGHUP)
    assert get(t, "/app/echo", {"X-Request-Id": "stdout-after-hup"}) == 200
    assert wait_until(lambda: any("stdout-after-hup" in ln for ln in list(t.stdout_lines)),
                      FLUSH_WAIT), t.stdout_lines
    assert t.alive()


# --------------------------------------------------------------------------------------------
# Rotation, shutdown, counters
# --------------------------------------------------------------------------------------------
def test_rename_and_sighup_rotate_without_losing_lines(mesh):
    t, log, _, _ = mesh
    before = [f"rot-a-{i}" for i in range(20)]
    after = [f"rot-b-{i}" for i in range(30)]
    for rid in before:
        assert get(t, "/app/echo", {"X-Request-Id": rid}) == 200
    assert len(wait_lines(log, len(before))) == len(before)
    rotated = log.with_name("access.log.1")
    os.rename(log, rotated)
    t.send_signal(signal.SIGHUP)
    assert wait_until(log.exists, FLUSH_WAIT), "no new file after SIGHUP"
    for rid in after:
        assert get(t, "/app/echo", {"X-Request-Id": rid}) == 200
    new = wait_lines(log, len(after))
    assert sorted(d["request_id"] for d in new) == sorted(after), new
    assert sorted(d["request_id"] for d in read_log(rotated)) == sorted(before)
    assert t.alive()
    assert wait_until(lambda: log_counter(t, "written") == len(before) + len(after), FLUSH_WAIT)


def test_sigterm_flushes_every_answered_request(mesh):
    t, log, _, _ = mesh
    ids = [f"term-{i}" for i in range(60)]
    for start in range(0, len(ids), 6):
        with RawClient(t.port) as c:
            for rid in ids[start:start + 6]:
                assert c.request("GET", "/app/echo", headers={"X-Request-Id": rid}).status == 200
    assert t.stop(timeout=10) == 0, t.diagnostics()
    assert sorted(d["request_id"] for d in read_log(log)) == sorted(ids)


def test_written_counter_matches_the_file_and_nothing_drops(mesh):
    t, log, _, _ = mesh
    assert log_counter(t, "written") == 0 and log_counter(t, "dropped") == 0
    n = 40
    for start in range(0, n, 4):
        with RawClient(t.port) as c:
            for i in range(start, start + 4):
                assert c.request("GET", f"/app/echo?i={i}").status == 200
    assert len(wait_lines(log, n)) == n
    assert wait_until(lambda: log_counter(t, "written") == n, FLUSH_WAIT), scrape(t).select(
        "turnout_access_log_lines_total")
    assert len(read_log(log)) == n
    assert log_counter(t, "dropped") == 0


def test_a_stuck_sink_drops_lines_and_never_blocks_a_worker(turnout_factory, tmp_path):
    fifo = tmp_path / "access.fifo"
    os.mkfifo(fifo)
    # the read end first: opening a FIFO for writing waits for a reader; this one never reads
    # until the end, so the pipe (64 KiB) and then each worker's 1 MiB queue fill up
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        t = turnout_factory(config=direct_config(), extra=["--access-log", str(fifo)])
        n = 500
        long_path = "/ok/" + "p" * 8000  # ~8 KiB lines: ~130 fill a worker's queue
        slowest = 0.0
        for start in range(0, n, 10):
            with RawClient(t.port, timeout=5) as c:
                for _ in range(10):
                    t0 = time.monotonic()
                    assert c.request("GET", long_path).status == 200
                    slowest = max(slowest, time.monotonic() - t0)
        assert slowest < 2.0, f"a request took {slowest:.2f}s behind a stuck access log"
        assert wait_until(lambda: log_counter(t, "dropped") > 0, FLUSH_WAIT), scrape(t).select(
            "turnout_access_log_lines_total")
        # drain: what was queued arrives whole, and every line is written or counted dropped
        data = bytearray()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                chunk = os.read(reader, 1 << 20)
            except BlockingIOError:
                chunk = None
            if chunk:
                data += chunk
                continue
            written, dropped = log_counter(t, "written"), log_counter(t, "dropped")
            if written + dropped >= n and data.count(b"\n") >= written:
                break
            time.sleep(0.03)
        written, dropped = log_counter(t, "written"), log_counter(t, "dropped")
        assert written + dropped == n, (written, dropped)
        assert data.endswith(b"\n"), data[-100:]
        lines = [parse_line(ln)[1] for ln in bytes(data[:-1]).split(b"\n")]
        assert len(lines) == written, (len(lines), written, dropped)
        assert all(d["path"] == long_path and d["status"] == 200 for d in lines)
        assert get(t, "/ok/after") == 200  # the proxy is fine
    finally:
        try:
            os.close(reader)
        except OSError as e:  # pragma: no cover
            assert e.errno == errno.EBADF
