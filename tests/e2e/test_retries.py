"""Route retries (issue 8) against a real turnout and real loopback backends.

What is tested:
- the issue's acceptance test: three endpoints behind round_robin, one of them failing every
  request (503, connection reset after reading the request, or refusing connections),
  `retries: {attempts: 2, on: [gateway-error]}`: 2,001 keep-alive requests from three clients
  succeed at >= 99.9 %, turnout_retries_total{reason} matches what the failing endpoint did,
  no request (X-Request-Id) reaches the failing endpoint twice nor a healthy one twice, and
  each request's access log `retries` says whether it was retried; the same setup without
  retries fails a third of the requests (the test can fail); with outlier detection at its
  defaults the failing endpoint is also ejected after a few requests;
- every balancer's retry goes to another endpoint (one retry allowed, no failure seen);
- which answers each `on` rule retries (gateway-error, 5xx, retriable-status and its
  statuses, the default list, connect-failure only); a connection closed, cut or garbled
  before a response head is retried as `reset`;
- per_try_timeout_ms: a hanging endpoint costs one per-try timeout, then another endpoint
  answers (or a 504 at once when the rules do not retry failures); the route's timeout_ms
  bounds every attempt together, a retry's connect included;
- outlier detection counts every failed attempt, even retried ones;
- exhausted retries: the last endpoint's own 503, or turnout's 502 after resets and refused
  connects, every endpoint tried once, `retries` = 2 in the access log;
- methods and bodies: only idempotent methods are retried by default; POST with
  non_idempotent is, its body (Content-Length or chunked, up to exactly 65,536 bytes, also one
  half sent when the 503 came) arriving byte-identical at the second endpoint; a longer body
  is not retried; Expect: 100-continue gets one 100 across attempts;
- an injected abort is never retried and nothing reaches the backends;
- the retry budget (circuit_breakers.retry_budget_percent / min_retry_concurrency): one retry
  in flight at a time, none, or all, overflows counted with limit="retry_budget"; a client
  that leaves mid-retry frees its place and stops the attempts;
- a stale pooled connection is sent again once on a fresh one (reason stale_connection);
- the shape of turnout_retries_total (one series per reason, from the start).

Services turn outlier detection off (`consecutive_5xx: 0`) so that an ejection cannot hide
what retries do (except the one test of the defaults). Loopback only; every loop is bounded in count and every wait in time.
"""
from __future__ import annotations

import collections
import hashlib
import json
import threading
import time

import pytest
import requests

from harness import (
    LOCALHOST,
    Exposition,
    IncompleteResponse,
    LoopbackServer,
    RawClient,
    abort_connection,
    blackhole_address,
    build_request,
    chunk_encode,
    closed_port,
    pattern_bytes,
    sha256,
    wait_until,
)

pytestmark = pytest.mark.time_budget(90)

REASONS = ("connect_failure", "reset", "per_try_timeout", "status", "stale_connection")
ACCEPTANCE_CLIENTS = 3
ACCEPTANCE_PER_CLIENT = 667  # 3 x 667 = 2,001 requests
ACCEPTANCE_MIN_SUCCESS = 0.999
LOG_WAIT_S = 5.0  # the access log writer flushes every ~25 ms; the bound of every wait for it


# --------------------------------------------------------------------------------------------
# A backend that fails every request its own way, recording each one
# --------------------------------------------------------------------------------------------
class FaultyBackend(LoopbackServer):
    """An HTTP/1.1 server (keep-alive) on 127.0.0.1 failing every request it reads:

    mode "status": answers `status` with body "<status> from <name>" (none to HEAD) and
    X-Backend: name, after `delay` seconds; "reset": reads the request, then closes with RST;
    "hang": reads the request and never answers (until the peer closes). refuse() closes the
    listener and every connection: connects are refused from then on.

    Each request read, body included (Content-Length or chunked), is recorded as a dict:
    id (its X-Request-Id), method, body_len, body_sha256, time (monotonic).
    With answer_after=N, mode "status" answers once N bytes of a Content-Length body arrived
    (only those are recorded), then reads and drops the rest until the peer closes. With
    close_reused, a connection's second request is read, recorded and answered by a close
    (what a pooled connection the server timed out looks like to the proxy).
    """

    def __init__(self, name: str, mode: str = "status", status: int = 503, delay: float = 0.0,
                 answer_after: int | None = None, close_reused: bool = False):
        assert mode in ("status", "reset", "hang"), mode
        self.name = name
        self.mode = mode
        self.status = status
        self.delay = delay
        self.answer_after = answer_after
        self.close_reused = close_reused
        self.records: list[dict] = []
        super().__init__()

    @property
    def count(self) -> int:
        with self._lock:
            return len(self.records)

    def ids(self) -> list[str]:
        with self._lock:
            return [r["id"] for r in self.records]

    def with_id(self, rid: str) -> list[dict]:
        with self._lock:
            return [r for r in self.records if r["id"] == rid]

    def body_text(self) -> bytes:
        return f"{self.status} from {self.name}".encode()

    def serve(self, conn):
        conn.settimeout(30)
        with conn.makefile("rb") as reader:
            self._serve_requests(conn, reader)

    def _serve_requests(self, conn, reader):
        served = 0
        while not self._stop.is_set():
            request = _read_request(reader, self.answer_after)
            if request is None:
                return
            request["time"] = time.monotonic()
            with self._lock:
                self.records.append(request)
            served += 1
            if self.close_reused and served == 2:
                return
            if self.mode == "hang":
                while conn.recv(65536):  # until turnout gives up and closes
                    pass
                return
            if self.mode == "reset":
                abort_connection(conn)
                return
            if self.delay:
                self._stop.wait(self.delay)
            body = self.body_text()
            conn.sendall(b"HTTP/1.1 %d Failing\r\nContent-Type: text/plain\r\n"
                         b"X-Backend: %s\r\nContent-Length: %d\r\n\r\n%s"
                         % (self.status, self.name.encode(), len(body),
                            b"" if request["method"] == "HEAD" else body))
            if self.answer_after is not None:  # the rest of the body is not read: drain
                while conn.recv(65536):
                    pass
                return


def _read_request(reader, body_limit: int | None = None) -> dict | None:
    """One request from a buffered socket reader: head and body (Content-Length or chunked;
    at most `body_limit` bytes of a Content-Length body). None at a clean end of the
    connection."""
    line = reader.readline(65537)
    if not line:
        return None
    method = line.split(b" ", 1)[0].decode("latin-1")
    headers = {}
    while True:
        h = reader.readline(65537)
        if h in (b"\r\n", b"\n"):
            break
        if not h:
            raise ConnectionError("eof in request head")
        k, _, v = h.decode("latin-1").partition(":")
        headers[k.strip().lower()] = v.strip()
    digest = hashlib.sha256()
    length = 0
    if "chunked" in headers.get("transfer-encoding", "").lower():
        while True:
            size = int(reader.readline(65537).split(b";", 1)[0].strip(), 16)
            if size == 0:
                while reader.readline(65537) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                break
            data = reader.read(size)
            if len(data) != size or reader.read(2) != b"\r\n":
                raise ConnectionError("bad chunk")
            digest.update(data)
            length += size
    else:
        remaining = int(headers.get("content-length", "0") or 0)
        if body_limit is not None:
            remaining = min(remaining, body_limit)
        while remaining > 0:
            data = reader.read(min(remaining, 1 << 16))
            if not data:
                raise ConnectionError("eof in body")
            digest.update(data)
            length += len(data)
            remaining -= len(data)
    return {"id": headers.get("x-request-id"), "method": method, "body_len": length,
            "body_sha256": digest.hexdigest()}


@pytest.fixture
def faulty_factory():
    """faulty_factory(name, mode="status", status=503, delay=0.0, answer_after=None,
    close_reused=False) -> FaultyBackend."""
    made: list[FaultyBackend] = []

    def make(name, mode="status", status=503, delay=0.0, answer_after=None, close_reused=False):
        b = FaultyBackend(name, mode=mode, status=status, delay=delay, answer_after=answer_after,
                          close_reused=close_reused)
        made.append(b)
        return b

    yield make
    for b in made:
        b.close()


def failing_backend(faulty_factory, mode: str) -> FaultyBackend:
    """The acceptance tests' failing endpoint: "503", "reset" or "refuse"."""
    if mode == "503":
        return faulty_factory("bad", status=503)
    bad = faulty_factory("bad", mode="reset" if mode == "reset" else "status")
    if mode == "refuse":
        bad.refuse()
    return bad


# --------------------------------------------------------------------------------------------
# Configuration, metrics, access log
# --------------------------------------------------------------------------------------------
def config(endpoints, retries=None, timeout_ms=None, breakers=None, faults=None,
           lb="round_robin") -> dict:
    """One service "web" (outlier detection off) with these endpoints (backends, addresses or
    endpoint objects) and one catch-all route to it with these retries."""
    svc = {"name": "web", "lb": lb,
           "endpoints": [e if isinstance(e, dict) else
                         {"address": e if isinstance(e, str) else e.address} for e in endpoints],
           "outlier": {"consecutive_5xx": 0}}
    if breakers is not None:
        svc["circuit_breakers"] = breakers
    rt = {"id": "web", "match": {"path_prefix": "/"}, "split": [{"service": "web"}]}
    if timeout_ms is not None:
        rt["timeout_ms"] = timeout_ms
    if retries is not None:
        rt["retries"] = retries
    if faults is not None:
        rt["faults"] = faults
    return {"services": [svc], "routes": [rt]}


def start(turnout_factory, tmp_path, cfg, workers=2):
    """A turnout with an access log; returns (turnout, log path)."""
    log = tmp_path / f"access-{time.monotonic_ns()}.log"
    t = turnout_factory(config=cfg, workers=workers, extra=["--access-log", str(log)])
    return t, log


def scrape(t) -> Exposition:
    r = requests.get(t.admin_url("/metrics"), timeout=5)
    assert r.status_code == 200, r.text[:300]
    return Exposition(r.text)


def retries_by_reason(t) -> dict[str, float]:
    m = scrape(t)
    return {reason: m.value("turnout_retries_total", reason=reason) for reason in REASONS}


def only(reason: str, count) -> dict[str, float]:
    """The retries_by_reason() expected when only `reason` happened, `count` times."""
    return {r: (count if r == reason else 0) for r in REASONS}


NO_RETRIES = only("status", 0)


def budget_overflows(t) -> float:
    return scrape(t).value("turnout_circuit_breaker_overflows_total", service="web",
                           limit="retry_budget")


def log_lines(path, at_least: int) -> list[dict]:
    """The access log's lines once it has at least `at_least` of them (bounded wait)."""
    def complete():
        try:
            return path.read_bytes().count(b"\n")
        except FileNotFoundError:
            return 0
    assert wait_until(lambda: complete() >= at_least, LOG_WAIT_S), \
        f"access log has {complete()} lines, want {at_least}"
    data = path.read_bytes()
    return [json.loads(line) for line in data[:data.rindex(b"\n")].split(b"\n")]


def log_retries(path, ids) -> dict[str, int]:
    """The access log's `retries` of each of these request ids (each logged exactly once)."""
    want = set(ids)
    lines = [d for d in log_lines(path, len(want)) if d["request_id"] in want]
    got = collections.Counter(d["request_id"] for d in lines)
    assert all(n == 1 for n in got.values()) and set(got) == want, \
        f"ids logged more or less than once: {[i for i in want if got[i] != 1][:10]}"
    return {d["request_id"]: d["retries"] for d in lines}


def good_ids(*backends) -> collections.Counter:
    """How many times each X-Request-Id reached these harness backends."""
    return collections.Counter(r.header("X-Request-Id") for b in backends for r in b.snapshot())


# --------------------------------------------------------------------------------------------
# Clients
# --------------------------------------------------------------------------------------------
def run_clients(port: int, prefix: str, clients: int, per_client: int,
                limit_s: float = 60.0, headers=None) -> dict[str, int | None]:
    """`clients` threads, each sending `per_client` GETs one after another on a keep-alive
    connection (a new one after a close or an error), each with its own X-Request-Id (and
    the headers headers(i) gives, when set, i counting every client's requests).
    Returns {request id: status, or None for no answer}; every request is sent within
    `limit_s` or the test fails."""
    results: dict[str, int | None] = {}
    lock = threading.Lock()
    deadline = time.monotonic() + limit_s

    def client(n: int):
        conn = None
        for i in range(per_client):
            if time.monotonic() > deadline:
                return
            rid = f"{prefix}-{n}-{i}"
            hdrs = {"X-Request-Id": rid}
            hdrs.update(headers(n * per_client + i) if headers else {})
            status = None
            try:
                conn = conn or RawClient(port, timeout=10)
                r = conn.request("GET", "/echo", headers=hdrs)
                status = r.status
                if r.has_token("Connection", "close"):
                    conn.close()
                    conn = None
            except (OSError, IncompleteResponse, AssertionError):
                if conn is not None:
                    conn.close()
                conn = None
            with lock:
                results[rid] = status
        if conn is not None:
            conn.close()

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(clients)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(max(0.1, deadline - time.monotonic() + 15))
    assert len(results) == clients * per_client, \
        f"only {len(results)} of {clients * per_client} requests sent within {limit_s} s"
    return results


def send(t, method="GET", rid="r", body=b"", headers=None, timeout=10.0):
    """One request on its own connection: (response, seconds to the answer)."""
    hdrs = {"X-Request-Id": rid}
    hdrs.update(headers or {})
    with RawClient(t.port, timeout=timeout) as c:
        began = time.monotonic()
        r = c.request(method, "/echo", headers=hdrs, body=body)
        return r, time.monotonic() - began


# --------------------------------------------------------------------------------------------
# The acceptance test, the same without retries, and every balancer
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["503", "reset", "refuse"])
def test_acceptance_one_failing_endpoint_of_three_is_retried_away(
        turnout_factory, backend_factory, faulty_factory, tmp_path, mode):
    good1, good2 = backend_factory("good1"), backend_factory("good2")
    bad = failing_backend(faulty_factory, mode)
    # Three clients: the default retry budget (min_retry_concurrency 3) always has room for
    # them, so every retry here is admitted and the test sees the retries alone.
    t, log = start(turnout_factory, tmp_path, config(
        [good1, bad, good2], retries={"attempts": 2, "on": ["gateway-error"]}))

    began = time.monotonic()
    results = run_clients(t.port, f"acc-{mode}", ACCEPTANCE_CLIENTS, ACCEPTANCE_PER_CLIENT)
    took = time.monotonic() - began
    total = len(results)
    ok = sum(1 for s in results.values() if s == 200)
    rate = ok / total
    failures = collections.Counter(s for s in results.values() if s != 200)
    print(f"\nfailing endpoint {mode}: {ok}/{total} = {rate:.4%} succeeded in {took:.1f} s; "
          f"failures {dict(failures)}; failing endpoint saw {bad.count}")
    assert rate >= ACCEPTANCE_MIN_SUCCESS, f"success {rate:.4%}, failures {dict(failures)}"

    # Every request reached a healthy endpoint exactly once when it succeeded, never otherwise.
    at_good = good_ids(good1, good2)
    wrong = [rid for rid, s in results.items() if at_good[rid] != (1 if s == 200 else 0)]
    assert not wrong, f"requests at the healthy endpoints not once: {wrong[:10]}"
    assert sum(at_good.values()) == ok

    # No request reached the failing endpoint twice.
    at_bad = collections.Counter(bad.ids())
    assert set(at_bad) <= set(results), f"unknown ids at the failing endpoint: {list(at_bad)[:5]}"
    assert max(at_bad.values(), default=0) <= 1, at_bad.most_common(3)

    got = retries_by_reason(t)
    logged = log_retries(log, results)
    if mode == "refuse":
        assert bad.count == 0
        reason = "connect_failure"
        retried = got[reason]
        # about a third of the first picks went to it: each was retried once
        assert retried >= total / 5, got
    else:
        reason = "status" if mode == "503" else "reset"
        failed_there = sum(1 for rid in at_bad if results[rid] != 200)
        assert bad.count >= total / 5, f"the failing endpoint saw only {bad.count} requests"
        # A retried answer is not read: its connection is closed, never used again.
        assert bad.connections == bad.count
        retried = bad.count - failed_there  # each of its failures was retried, unless answered
        # The access log: exactly the requests the failing endpoint saw were retried, once.
        assert all(logged[rid] == at_bad[rid] for rid in results if results[rid] == 200), \
            [(rid, logged[rid], at_bad[rid]) for rid in results if logged[rid] != at_bad[rid]][:10]
    assert got == only(reason, retried), got
    assert sum(logged.values()) == retried
    assert set(logged.values()) <= {0, 1}
    assert budget_overflows(t) == 0


@pytest.mark.parametrize("mode", ["503", "reset"])
def test_acceptance_with_default_outlier_detection(
        turnout_factory, backend_factory, faulty_factory, tmp_path, mode):
    """What a user who turns retries on gets: outlier detection on as by default
    (consecutive_5xx 5), so the failing endpoint is retried around until it is ejected."""
    good1, good2 = backend_factory("good1"), backend_factory("good2")
    bad = failing_backend(faulty_factory, mode)
    cfg = config([good1, bad, good2], retries={"attempts": 2, "on": ["gateway-error"]})
    del cfg["services"][0]["outlier"]
    t, _ = start(turnout_factory, tmp_path, cfg)
    results = run_clients(t.port, f"default-{mode}", ACCEPTANCE_CLIENTS, ACCEPTANCE_PER_CLIENT)
    ok = sum(1 for s in results.values() if s == 200)
    print(f"\ndefaults, failing endpoint {mode}: {ok}/{len(results)} = {ok / len(results):.4%}; "
          f"it saw {bad.count} requests before its ejection")
    assert ok / len(results) >= ACCEPTANCE_MIN_SUCCESS
    assert scrape(t).total("turnout_outlier_ejections_total", service="web") >= 1
    assert bad.count < len(results) / 10  # ejected early: not a third of the traffic


@pytest.mark.parametrize("mode", ["503", "reset", "refuse"])
def test_without_retries_a_third_of_the_requests_fail(
        turnout_factory, backend_factory, faulty_factory, tmp_path, mode):
    good1, good2 = backend_factory("good1"), backend_factory("good2")
    bad = failing_backend(faulty_factory, mode)
    t, log = start(turnout_factory, tmp_path, config(
        [good1, bad, good2], retries={"attempts": 0, "on": ["gateway-error"]}))
    results = run_clients(t.port, f"none-{mode}", 3, 100)
    failed = [rid for rid, s in results.items() if s != 200]
    share = len(failed) / len(results)
    print(f"\nfailing endpoint {mode}, no retries: {share:.1%} failed")
    assert abs(share - 1 / 3) <= 0.06, f"{share:.1%} failed"
    want_status = 503 if mode == "503" else 502
    assert {results[rid] for rid in failed} == {want_status}
    if mode != "refuse":
        assert sorted(bad.ids()) == sorted(failed)
    assert retries_by_reason(t) == NO_RETRIES
    assert set(log_retries(log, results).values()) == {0}


@pytest.mark.parametrize("lb", ["round_robin", "weighted_round_robin", "random", "least_request",
                                "ewma", "ring_hash", "maglev"])
def test_every_balancer_retries_on_another_endpoint(
        turnout_factory, backend_factory, faulty_factory, tmp_path, lb):
    """One retry only: a request succeeds only if its retry went to another endpoint."""
    good1, good2 = backend_factory("good1"), backend_factory("good2")
    bad = faulty_factory("bad", status=503)
    endpoints = [good1, bad, good2]
    headers = None
    if lb == "weighted_round_robin":  # the failing endpoint has most of the weight
        endpoints = [{"address": good1.address, "weight": 1},
                     {"address": bad.address, "weight": 5},
                     {"address": good2.address, "weight": 1}]
    cfg = config(endpoints, retries={"attempts": 1, "on": ["gateway-error"]},
                 lb="round_robin" if lb == "weighted_round_robin" else lb)
    if lb in ("ring_hash", "maglev"):
        cfg["services"][0]["hash"] = {"header": "x-user"}

        def headers(i):
            return {"X-User": f"user-{i % 50}"}
    t, _ = start(turnout_factory, tmp_path, cfg)
    results = run_clients(t.port, f"lb-{lb}", 3, 40, headers=headers)
    failed = {rid: s for rid, s in results.items() if s != 200}
    assert not failed, f"{len(failed)} failed: {list(failed.items())[:5]}"
    at_bad = collections.Counter(bad.ids())
    assert bad.count >= 1 and max(at_bad.values()) == 1, at_bad.most_common(3)
    assert sum(good_ids(good1, good2).values()) == len(results)
    assert retries_by_reason(t) == only("status", bad.count)


# --------------------------------------------------------------------------------------------
# Which failures each rule retries
# --------------------------------------------------------------------------------------------
STATUS_RULES = [
    (["gateway-error"], None, 502, True),
    (["gateway-error"], None, 504, True),
    (["gateway-error"], None, 500, False),
    (["5xx"], None, 500, True),
    (["5xx"], None, 599, True),
    (["5xx"], None, 429, False),
    (["retriable-status"], None, 503, True),     # statuses default to [502, 503, 504]
    (["retriable-status"], None, 500, False),
    (["retriable-status"], [409, 429], 409, True),
    (["retriable-status"], [409, 429], 503, False),
    (None, None, 503, False),                    # the default list retries no status
    (["connect-failure"], None, 503, False),
]


def _rule_id(case):
    on, statuses, status, retried = case
    rule = "+".join(on) if on else "default"
    listed = "[" + ",".join(map(str, statuses)) + "]" if statuses else ""
    return f"{rule}{listed}-{status}-{'retried' if retried else 'not-retried'}"


@pytest.mark.parametrize("on, statuses, status, retried", STATUS_RULES,
                         ids=[_rule_id(c) for c in STATUS_RULES])
def test_which_statuses_each_rule_retries(turnout_factory, backend_factory, faulty_factory,
                                          tmp_path, on, statuses, status, retried):
    bad, good = faulty_factory("bad", status=status), backend_factory("good")
    retries = {"attempts": 1}
    if on is not None:
        retries["on"] = on
    if statuses is not None:
        retries["statuses"] = statuses
    t, _ = start(turnout_factory, tmp_path, config([bad, good], retries=retries), workers=1)
    hit_bad = 0
    for i in range(2):  # round robin over two: one of them goes to the failing one first
        rid = f"rule-{i}"
        r, _ = send(t, rid=rid)
        if not bad.with_id(rid):
            assert (r.status, r.header("X-Backend")) == (200, "good"), r
            continue
        hit_bad += 1
        if retried:
            assert (r.status, r.header("X-Backend")) == (200, "good"), r
        else:
            assert (r.status, r.body) == (status, bad.body_text()), r
    assert hit_bad >= 1
    assert retries_by_reason(t) == only("status", hit_bad if retried else 0)


@pytest.mark.time_budget(30)
def test_connect_failure_only_retries_a_refused_endpoint(turnout_factory, backend_factory,
                                                         tmp_path):
    good = backend_factory("good")
    t, log = start(turnout_factory, tmp_path, config(
        [f"{LOCALHOST}:{closed_port()}", good],
        retries={"attempts": 2, "on": ["connect-failure"]}), workers=1)
    ids = [f"cf-{i}" for i in range(4)]
    for rid in ids:
        r, _ = send(t, rid=rid)
        assert (r.status, r.header("X-Backend")) == (200, "good"), r
    logged = log_retries(log, ids)
    assert sum(logged.values()) >= 1  # round robin over two: the refused one was picked
    assert retries_by_reason(t) == only("connect_failure", sum(logged.values()))


@pytest.mark.parametrize("mode", ["503", "reset"])
def test_connect_failure_only_does_not_retry_an_answer_or_a_reset(
        turnout_factory, backend_factory, faulty_factory, tmp_path, mode):
    bad = faulty_factory("bad", mode="status" if mode == "503" else "reset")
    good = backend_factory("good")
    t, _ = start(turnout_factory, tmp_path, config(
        [bad, good], retries={"attempts": 2, "on": ["connect-failure"]}), workers=1)
    hit_bad = 0
    for i in range(4):
        rid = f"cfo-{i}"
        r, _ = send(t, rid=rid)
        if bad.with_id(rid):
            hit_bad += 1
            assert r.status == (503 if mode == "503" else 502), r
            assert r.header("X-Backend") != "good", r
            assert not good_ids(good)[rid]
        else:
            assert r.status == 200, r
    assert hit_bad >= 1
    assert retries_by_reason(t) == NO_RETRIES


@pytest.mark.parametrize("answer", [b"", b"NOT HTTP\r\n\r\n"], ids=["closed", "garbled"])
def test_a_connection_ending_before_a_head_is_retried_as_reset(
        turnout_factory, backend_factory, raw_backend_factory, tmp_path, answer):
    broken, good = raw_backend_factory(answer), backend_factory("good")
    t, log = start(turnout_factory, tmp_path, config([broken, good], retries={"attempts": 1}),
                   workers=1)  # the default `on` list: connect-failure, refused-stream, reset
    ids = [f"broken-{i}" for i in range(4)]
    for rid in ids:
        r, _ = send(t, rid=rid)
        assert (r.status, r.header("X-Backend")) == (200, "good"), r
    assert broken.count >= 1
    assert retries_by_reason(t) == only("reset", broken.count)
    assert sum(log_retries(log, ids).values()) == broken.count


@pytest.mark.time_budget(30)
def test_a_head_cut_short_by_a_close_is_retried_as_reset(turnout_factory, backend_factory,
                                                         raw_backend_factory, tmp_path):
    broken = raw_backend_factory(b"HTTP/1.1 200 OK\r\nContent-Le")  # then a FIN
    good = backend_factory("good")
    t, _ = start(turnout_factory, tmp_path, config([broken, good], timeout_ms=1000,
                                                   retries={"attempts": 1}), workers=1)
    for i in range(20):  # it happens to about half of the requests: the first one stops
        r, took = send(t, rid=f"cut-{i}")
        assert (r.status, r.header("X-Backend")) == (200, "good"), f"after {took:.3f} s: {r!r}"
    assert broken.count >= 1
    assert retries_by_reason(t) == only("reset", broken.count)


# --------------------------------------------------------------------------------------------
# Timeouts
# --------------------------------------------------------------------------------------------
PER_TRY_MS = 200
BACKOFF_BASE_MS = 25
# What an answer after one per-try timeout may take beyond it and the first back-off: the
# timer wheel's ticks, the other endpoint's answer and a busy 2-core box. Fixed before
# measuring; the route's timeout (5 s) is what a missing per-try timeout would cost.
TIMING_SLACK_S = 0.5


@pytest.mark.time_budget(30)
@pytest.mark.parametrize("on, retried", [(None, True), (["5xx"], True), (["gateway-error"], True),
                                         (["connect-failure"], False),
                                         (["retriable-status"], False)],
                         ids=["default", "5xx", "gateway-error", "connect-failure",
                              "retriable-status"])
def test_per_try_timeout_moves_on_to_another_endpoint(turnout_factory, backend_factory,
                                                      faulty_factory, tmp_path, on, retried):
    """A hanging endpoint costs one per-try timeout, then the other endpoint answers; with a
    rule that does not retry failures the client gets a 504 at the per-try timeout."""
    hang, good = faulty_factory("hang", mode="hang"), backend_factory("good")
    retries = {"attempts": 1, "per_try_timeout_ms": PER_TRY_MS}
    if on is not None:
        retries["on"] = on
    t, log = start(turnout_factory, tmp_path, config([hang, good], timeout_ms=5000,
                                                     retries=retries), workers=1)
    ids = [f"ptt-{i}" for i in range(4)]
    hung = []
    for rid in ids:
        r, took = send(t, rid=rid)
        if not hang.with_id(rid):
            assert (r.status, r.header("X-Backend")) == (200, "good"), r
            assert took < TIMING_SLACK_S, f"{rid}: {took:.3f} s"
            continue
        hung.append(took)
        assert PER_TRY_MS / 1000 - 0.01 <= took <= \
            (PER_TRY_MS + BACKOFF_BASE_MS) / 1000 + TIMING_SLACK_S, f"{rid}: {took:.3f} s"
        if retried:
            assert (r.status, r.header("X-Backend")) == (200, "good"), r
            assert good_ids(good)[rid] == 1
        else:
            assert r.status == 504 and r.header("X-Backend") is None, r
            assert good_ids(good)[rid] == 0
    print(f"\nper-try timeout {PER_TRY_MS} ms, on {on}: answered in "
          f"{', '.join(f'{s:.3f}' for s in hung)} s")
    assert hung, "no request went to the hanging endpoint first"
    assert retries_by_reason(t) == only("per_try_timeout", len(hung) if retried else 0)
    assert sum(log_retries(log, ids).values()) == (len(hung) if retried else 0)


@pytest.mark.time_budget(30)
def test_route_timeout_bounds_every_attempt(turnout_factory, faulty_factory, tmp_path):
    hangs = [faulty_factory(f"hang{i}", mode="hang") for i in range(3)]
    t, log = start(turnout_factory, tmp_path, config(
        hangs, timeout_ms=600,
        retries={"attempts": 5, "per_try_timeout_ms": 250}), workers=1)
    r, took = send(t, rid="rt-1")
    print(f"\nroute timeout 600 ms, per try 250 ms, 5 retries allowed: 504 after {took:.3f} s, "
          f"{sum(h.count for h in hangs)} attempts")
    assert r.status == 504 and r.header("X-Backend") is None, r
    assert 0.55 <= took <= 1.5, f"{took:.3f} s"
    # 250 + 250 + what is left of 600: three attempts (two when the box is slow enough that
    # the second back-off would end after the deadline), each on another endpoint.
    attempts = [h.count for h in hangs]
    assert all(n <= 1 for n in attempts), attempts
    assert 2 <= sum(attempts) <= 3, attempts
    assert retries_by_reason(t) == only("per_try_timeout", sum(attempts) - 1)
    assert log_retries(log, ["rt-1"]) == {"rt-1": sum(attempts) - 1}


@pytest.fixture
def blackhole():
    """An address whose connects never complete."""
    with blackhole_address() as address:
        yield address


@pytest.mark.time_budget(30)
def test_route_timeout_bounds_a_retry_that_cannot_connect(turnout_factory, faulty_factory,
                                                          blackhole, tmp_path):
    hang = faulty_factory("hang", mode="hang")
    t, _ = start(turnout_factory, tmp_path, config(
        [hang, blackhole], timeout_ms=600,
        retries={"attempts": 2, "per_try_timeout_ms": 250}), workers=1)
    r, took = send(t, rid="rtc-1")
    print(f"\nroute timeout 600 ms, per try 250 ms, the retry's connect hangs: {r.status} after "
          f"{took:.3f} s")
    # hang (250 ms per try), then the blackhole's connect (its own 250 ms per try: the per-try
    # timeout covers the connect), then hang again if the back-off still ends within the route's
    # 600 ms; otherwise the last failure is answered at once.
    assert hang.count in (1, 2)
    assert r.status == 504, r
    assert 0.5 <= took <= 1.5, f"{took:.3f} s"


@pytest.mark.time_budget(30)
def test_route_timeout_bounds_the_first_connect_without_retries(turnout_factory, blackhole,
                                                                tmp_path):
    t, _ = start(turnout_factory, tmp_path, config([blackhole], timeout_ms=600), workers=1)
    r, took = send(t, rid="first-connect")
    print(f"\nroute timeout 600 ms, the only endpoint never connects: {r.status} after "
          f"{took:.3f} s (the connect timeout is 5 s)")
    assert r.status == 504, r
    assert 0.55 <= took <= 1.5, f"{took:.3f} s"
    assert retries_by_reason(t) == NO_RETRIES


@pytest.mark.time_budget(30)
def test_per_try_timeout_covers_the_connect(turnout_factory, backend_factory, blackhole,
                                            tmp_path):
    good = backend_factory("good")
    t, _ = start(turnout_factory, tmp_path, config(
        [blackhole, good], timeout_ms=5000, retries={"attempts": 1, "per_try_timeout_ms": 200}),
        workers=1)
    r, took = send(t, rid="per-try-connect")  # round robin: the blackhole first
    print(f"\nper try 200 ms, the first endpoint never connects: {r.status} after {took:.3f} s")
    assert r.status == 200, r
    assert 0.19 <= took <= 1.5, f"{took:.3f} s"  # 200 ms + a back-off of at most 25 ms
    assert [rec.header("x-request-id") for rec in good.snapshot()] == ["per-try-connect"]
    assert retries_by_reason(t) == only("connect_failure", 1)


# --------------------------------------------------------------------------------------------
# Outlier detection sees every failed attempt
# --------------------------------------------------------------------------------------------
@pytest.mark.time_budget(30)
def test_outlier_detection_sees_retried_failures(turnout_factory, backend_factory,
                                                 faulty_factory, tmp_path):
    good1, bad, good2 = backend_factory("good1"), faulty_factory("bad"), backend_factory("good2")
    cfg = config([good1, bad, good2], retries={"attempts": 2, "on": ["gateway-error"]})
    cfg["services"][0]["outlier"] = {"consecutive_5xx": 3, "base_ejection_ms": 30000}
    t, _ = start(turnout_factory, tmp_path, cfg, workers=1)

    def ejections():
        return scrape(t).total("turnout_outlier_ejections_total", service="web",
                               reason="consecutive_5xx")

    with RawClient(t.port, timeout=10) as c:
        for i in range(15):
            r = c.request("GET", "/echo", headers={"X-Request-Id": f"od-{i}"})
            assert r.status == 200, r  # every failure was retried away
            if bad.count == 3:  # three failed attempts in a row, each of them retried
                assert wait_until(lambda: ejections() == 1, 3.0), scrape(t).text
    assert bad.count == 3  # ejected at the third: no request went there since
    assert ejections() == 1
    assert retries_by_reason(t) == only("status", 3)


# --------------------------------------------------------------------------------------------
# Exhausted retries
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["503", "reset", "refuse"])
def test_exhausted_retries_give_the_last_answer(turnout_factory, faulty_factory, tmp_path,
                                                mode):
    """Every endpoint fails: the client gets the last endpoint's own 503 as it was, or turnout's
    own 502 for resets and refused connects; every endpoint was tried once."""
    if mode == "503":
        bads = [faulty_factory(f"bad{i}", status=503) for i in range(3)]
    else:
        bads = [failing_backend(faulty_factory, mode) for _ in range(3)]
    t, log = start(turnout_factory, tmp_path, config(
        bads, retries={"attempts": 2, "on": ["gateway-error"]}))
    ids = [f"ex-{i}" for i in range(3)]
    for rid in ids:
        r, _ = send(t, rid=rid)
        if mode == "503":
            assert sorted(len(b.with_id(rid)) for b in bads) == [1, 1, 1], \
                f"{rid}: each endpoint once, got {[len(b.with_id(rid)) for b in bads]}"
            last = max(((b.with_id(rid)[0]["time"], b) for b in bads), key=lambda p: p[0])[1]
            assert r.status == 503, r
            assert r.body == last.body_text() and r.header("X-Backend") == last.name, r
        else:
            assert r.status == 502 and r.header("X-Backend") is None, r
            assert rid.encode() in r.body, r  # turnout's error page names the request
            want = [1, 1, 1] if mode == "reset" else [0, 0, 0]
            assert sorted(len(b.with_id(rid)) for b in bads) == want
    assert log_retries(log, ids) == {rid: 2 for rid in ids}
    reason = {"503": "status", "reset": "reset", "refuse": "connect_failure"}[mode]
    assert retries_by_reason(t) == only(reason, 2 * len(ids))


# --------------------------------------------------------------------------------------------
# Methods and request bodies
# --------------------------------------------------------------------------------------------
def body_cases(t, bad, cases):
    """Sends each (method, rid, headers, wire body, payload) on its own connection; returns
    [(rid, response, whether it went to `bad` first)]. Round robin over [bad, good] with one
    worker: at least one of every two requests goes to the failing endpoint first."""
    out = []
    for method, rid, headers, wire, _payload in cases:
        r, _ = send(t, method=method, rid=rid, body=wire, headers=headers)
        out.append((rid, r, bool(bad.with_id(rid))))
    assert any(went_bad for _, _, went_bad in out), "no request went to the failing endpoint"
    return out


def bodies(method, name, size, chunked=False, copies=2):
    """`copies` requests of `method` with a `size`-byte pattern body (none when 0)."""
    payload = pattern_bytes(size)
    if size == 0:
        wire, headers = b"", {}
    elif chunked:
        wire, headers = chunk_encode(payload, sizes=(16384,)), {"Transfer-Encoding": "chunked"}
    else:
        wire, headers = payload, {"Content-Length": str(size)}
    return [(method, f"{name}-{i}", headers, wire, payload) for i in range(copies)]


IDEMPOTENT = ("GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE")


@pytest.mark.time_budget(30)
def test_only_idempotent_methods_are_retried_by_default(turnout_factory, backend_factory,
                                                         faulty_factory, tmp_path):
    bad, good = faulty_factory("bad", status=503), backend_factory("good")
    t, _ = start(turnout_factory, tmp_path, config(
        [bad, good], retries={"attempts": 2, "on": ["gateway-error"]}), workers=1)
    retried = 0
    for method in IDEMPOTENT + ("POST", "PATCH"):
        size = 1024 if method in ("PUT", "POST", "PATCH") else 0
        for rid, r, went_bad in body_cases(t, bad, bodies(method, method.lower(), size)):
            at_good = [g for g in good.snapshot() if g.header("X-Request-Id") == rid]
            if method in IDEMPOTENT or not went_bad:
                assert (r.status, r.header("X-Backend")) == (200, "good"), (method, r)
                assert [(g.method, g.body_sha256) for g in at_good] == \
                    [(method, sha256(pattern_bytes(size)))], method
                retried += went_bad
            else:  # POST and PATCH get the failing endpoint's answer
                assert (r.status, r.body) == (503, bad.body_text()), (method, r)
                assert at_good == [] and len(bad.with_id(rid)) == 1, method
    assert retries_by_reason(t) == only("status", retried)


@pytest.mark.parametrize("size, chunked, failing", [
    (60 * 1024, False, "503"), (60 * 1024, True, "503"), (65536, False, "503"),
    (60 * 1024, False, "reset"), (60 * 1024, True, "refuse"),
], ids=["60KiB-length-503", "60KiB-chunked-503", "65536-length-503", "60KiB-length-reset",
        "60KiB-chunked-refuse"])
def test_non_idempotent_post_is_retried_with_the_same_body(
        turnout_factory, backend_factory, faulty_factory, tmp_path, size, chunked, failing):
    bad, good = failing_backend(faulty_factory, failing), backend_factory("good")
    t, log = start(turnout_factory, tmp_path, config(
        [bad, good], retries={"attempts": 2, "on": ["gateway-error"], "non_idempotent": True}),
        workers=1)
    cases = bodies("POST", "replay", size, chunked=chunked)
    want = sha256(cases[0][4])
    for method, rid, headers, wire, _ in cases:
        r, _ = send(t, method=method, rid=rid, body=wire, headers=headers)
        assert (r.status, r.header("X-Backend")) == (200, "good"), r
        at_good = [g for g in good.snapshot() if g.header("X-Request-Id") == rid]
        assert len(at_good) == 1
        assert (at_good[0].method, at_good[0].body_len, at_good[0].body_sha256) == \
            ("POST", size, want), f"{rid}: the body changed on its way to the second endpoint"
    logged = log_retries(log, [c[1] for c in cases])
    retried = sum(logged.values())
    assert retried >= 1, "no request went to the failing endpoint first"
    if failing != "refuse":
        for rid, n in logged.items():  # the first attempt had the whole body too
            assert [(a["body_len"], a["body_sha256"]) for a in bad.with_id(rid)] == \
                [(size, want)] * n
    reason = {"503": "status", "reset": "reset", "refuse": "connect_failure"}[failing]
    assert retries_by_reason(t) == only(reason, retried)


@pytest.mark.time_budget(30)
def test_a_body_half_sent_when_the_503_came_is_replayed_whole(
        turnout_factory, backend_factory, faulty_factory, tmp_path):
    """The failing endpoint answers 503 after 30 KiB of a 60 KiB body, while the client has
    not sent the rest yet: the retry sends the kept 30 KiB, then the rest as it comes."""
    half = 30 * 1024
    bad = faulty_factory("bad", status=503, answer_after=half)
    good = backend_factory("good")
    t, log = start(turnout_factory, tmp_path, config(
        [bad, good], retries={"attempts": 2, "on": ["gateway-error"], "non_idempotent": True}),
        workers=1)
    payload = pattern_bytes(60 * 1024)
    ids = [f"half-{i}" for i in range(2)]
    for rid in ids:
        with RawClient(t.port, timeout=10) as c:
            c.send(build_request("POST", "/echo", {"X-Request-Id": rid,
                                                   "Content-Length": str(len(payload))}))
            c.send(payload[:half])
            wait_until(lambda: bad.with_id(rid), 1.0)  # its 503 is on the way (if it went there)
            time.sleep(0.1)
            c.send(payload[half:])
            r = c.read_response("POST")
        assert (r.status, r.header("X-Backend")) == (200, "good"), r
        assert json.loads(r.body)["body_sha256"] == sha256(payload), f"{rid}: body changed"
    went_bad = [rid for rid in ids if bad.with_id(rid)]
    assert went_bad, "no request went to the failing endpoint first"
    for rid in went_bad:
        assert [(a["body_len"], a["body_sha256"]) for a in bad.with_id(rid)] == \
            [(half, sha256(payload[:half]))]
    assert retries_by_reason(t) == only("status", len(went_bad))
    assert log_retries(log, ids) == {rid: int(rid in went_bad) for rid in ids}


@pytest.mark.parametrize("size, chunked", [(70 * 1024, False), (70 * 1024, True),
                                           (65537, False)],
                         ids=["70KiB-length", "70KiB-chunked", "65537-length"])
def test_a_body_over_64KiB_is_not_retried(turnout_factory, backend_factory, faulty_factory,
                                          tmp_path, size, chunked):
    bad, good = faulty_factory("bad", status=503), backend_factory("good")
    t, _ = start(turnout_factory, tmp_path, config(
        [bad, good], retries={"attempts": 2, "on": ["gateway-error"], "non_idempotent": True}),
        workers=1)
    cases = bodies("POST", "long", size, chunked=chunked)
    want = sha256(cases[0][4])
    for rid, r, went_bad in body_cases(t, bad, cases):
        if went_bad:
            assert (r.status, r.body) == (503, bad.body_text()), r
            assert [(a["body_len"], a["body_sha256"]) for a in bad.with_id(rid)] == [(size, want)]
            assert good_ids(good)[rid] == 0
        else:
            assert r.status == 200, r
    assert retries_by_reason(t) == NO_RETRIES


@pytest.mark.time_budget(30)
def test_a_retried_request_with_expect_100_continue_gets_one_100(
        turnout_factory, backend_factory, faulty_factory, tmp_path):
    bad, good = faulty_factory("bad", status=503), backend_factory("good")
    t, _ = start(turnout_factory, tmp_path, config(
        [bad, good], retries={"attempts": 2, "on": ["gateway-error"], "non_idempotent": True}),
        workers=1)
    payload = pattern_bytes(4096)
    went_bad = 0
    for i in range(2):
        rid = f"continue-{i}"
        with RawClient(t.port, timeout=10) as c:
            c.send(build_request("POST", "/echo", {"X-Request-Id": rid, "Expect": "100-continue",
                                                   "Content-Length": str(len(payload))}))
            interim = c.read_head()
            assert interim.startswith(b"HTTP/1.1 100 "), interim
            c.send(payload)
            r = c.read_response("POST")
        assert (r.status, r.header("X-Backend")) == (200, "good"), r
        assert r.interim == [], f"{rid}: a second 100 Continue: {r.interim}"
        assert json.loads(r.body)["body_sha256"] == sha256(payload)
        went_bad += bool(bad.with_id(rid))
    assert went_bad >= 1
    assert retries_by_reason(t) == only("status", went_bad)


# --------------------------------------------------------------------------------------------
# Faults
# --------------------------------------------------------------------------------------------
@pytest.mark.time_budget(30)
def test_an_injected_abort_is_not_retried(turnout_factory, backend_factory, tmp_path):
    b1, b2 = backend_factory("b1"), backend_factory("b2")
    t, log = start(turnout_factory, tmp_path, config(
        [b1, b2], faults=[{"abort": {"status": 503, "percent": 100}}],
        retries={"attempts": 3, "on": ["5xx", "gateway-error", "reset", "connect-failure"]}))
    ids = [f"abort-{i}" for i in range(5)]
    for rid in ids:
        r, _ = send(t, rid=rid)
        assert r.status == 503 and r.header("X-Backend") is None, r
    assert b1.count == 0 and b2.count == 0
    assert retries_by_reason(t) == NO_RETRIES
    assert set(log_retries(log, ids).values()) == {0}
    assert {d["fault"] for d in log_lines(log, len(ids))} == {"abort"}


# --------------------------------------------------------------------------------------------
# The retry budget, and a client that leaves
# --------------------------------------------------------------------------------------------
SLOW_503_S = 0.3
BUDGET_CLIENTS = 10
BUDGET_ATTEMPTS = 3


@pytest.mark.time_budget(30)
@pytest.mark.parametrize("percent, minimum", [(0, 1), (0, 0), (100, 0)],
                         ids=["one-at-a-time", "none", "all"])
def test_retry_budget(turnout_factory, faulty_factory, tmp_path, percent, minimum):
    """Ten concurrent requests to endpoints that all answer 503 after 300 ms: with budget
    max(1, 0 %) one exchange retries at a time and the others overflow; with max(0, 0 %) none
    retries; with 100 % of the requests in flight every one does."""
    slow = [faulty_factory(f"slow{i}", status=503, delay=SLOW_503_S) for i in range(3)]
    # One worker: the budget's check sums every worker's count, which a second worker may see
    # late; with one it is exact.
    t, log = start(turnout_factory, tmp_path, config(
        slow, breakers={"retry_budget_percent": percent, "min_retry_concurrency": minimum},
        retries={"attempts": BUDGET_ATTEMPTS, "on": ["gateway-error"]}), workers=1)

    gauge_max = 0
    stop = threading.Event()

    def watch():  # the retries in flight, sampled while the requests run
        nonlocal gauge_max
        while not stop.is_set():
            value = scrape(t).value("turnout_service_load", service="web", limit="retry_budget")
            gauge_max = max(gauge_max, value)
            stop.wait(0.02)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    barrier = threading.Barrier(BUDGET_CLIENTS, timeout=10)
    answers: dict[str, object] = {}

    def client(n):
        rid = f"budget-{n}"
        try:
            barrier.wait()
            answers[rid] = send(t, rid=rid, timeout=15)[0]
        except (OSError, IncompleteResponse, threading.BrokenBarrierError) as e:
            answers[rid] = e

    clients = [threading.Thread(target=client, args=(n,), daemon=True)
               for n in range(BUDGET_CLIENTS)]
    for c in clients:
        c.start()
    for c in clients:
        c.join(20)
    stop.set()
    watcher.join(5)

    bodies_503 = {b.body_text() for b in slow}
    for rid, r in answers.items():
        assert not isinstance(r, Exception) and r.status == 503 and r.body in bodies_503, \
            f"{rid}: {r!r}"
    assert len(answers) == BUDGET_CLIENTS
    upstream = sum(b.count for b in slow)
    overflows = budget_overflows(t)
    logged = log_retries(log, answers)
    retried = sum(1 for n in logged.values() if n > 0)
    print(f"\nretry budget max({minimum}, {percent} %): {upstream} upstream requests for "
          f"{BUDGET_CLIENTS} clients, {overflows:.0f} budget overflows, {retried} requests "
          f"retried, at most {gauge_max:.0f} retries in flight")
    # A request either used the budget (and all its retries) or overflowed at its first retry.
    assert overflows + retried == BUDGET_CLIENTS
    assert all(n in (0, BUDGET_ATTEMPTS) for n in logged.values()), logged
    assert upstream == BUDGET_CLIENTS + BUDGET_ATTEMPTS * retried
    if (percent, minimum) == (0, 1):
        assert overflows > 0 and gauge_max <= 1
        assert upstream <= BUDGET_CLIENTS * (BUDGET_ATTEMPTS + 1) // 2
    elif (percent, minimum) == (0, 0):
        assert retried == 0 and gauge_max == 0
    else:
        assert retried == BUDGET_CLIENTS and gauge_max > 1
    assert retries_by_reason(t) == only("status", BUDGET_ATTEMPTS * retried)
    assert wait_until(lambda: scrape(t).value("turnout_service_load", service="web",
                                              limit="retry_budget") == 0, 5.0)


@pytest.mark.time_budget(30)
def test_a_client_leaving_during_a_retry_frees_the_budget(turnout_factory, faulty_factory,
                                                          tmp_path):
    hangs = [faulty_factory(f"hang{i}", mode="hang") for i in range(2)]
    t, log = start(turnout_factory, tmp_path, config(
        hangs, timeout_ms=5000, retries={"attempts": 3, "per_try_timeout_ms": 300}), workers=1)

    def load(limit):
        return scrape(t).value("turnout_service_load", service="web", limit=limit)

    c = RawClient(t.port, timeout=5)
    c.send(build_request("GET", "/echo", {"X-Request-Id": "gone-1"}))
    assert wait_until(lambda: sum(h.count for h in hangs) == 2, 3.0)  # the retry is upstream
    assert load("retry_budget") == 1
    abort_connection(c.sock)  # the client goes away (a reset: a FIN alone may be a half-close)
    assert wait_until(lambda: load("retry_budget") == 0 and load("max_requests") == 0, 3.0), \
        scrape(t).select("turnout_service_load")
    time.sleep(0.5)  # longer than a per-try timeout: no attempt follows
    assert [h.count for h in hangs] == [1, 1]
    line = [d for d in log_lines(log, 1) if d["request_id"] == "gone-1"]
    assert [(d["status"], d["retries"]) for d in line] == [(499, 1)]


# --------------------------------------------------------------------------------------------
# Stale pooled connections, metrics
# --------------------------------------------------------------------------------------------
@pytest.mark.time_budget(30)
@pytest.mark.parametrize("attempts", [0, 1])
def test_a_stale_pooled_connection_is_retried_on_a_fresh_one(turnout_factory, faulty_factory,
                                                              tmp_path, attempts):
    """A pooled connection closed by the endpoint when reused: sent again once, to the same
    endpoint on a new connection (reason stale_connection), with or without route retries."""
    flaky = faulty_factory("flaky", status=200, close_reused=True)
    t, log = start(turnout_factory, tmp_path, config(
        [flaky], retries={"attempts": attempts, "on": ["gateway-error"]}), workers=1)
    ids = [f"stale-{i}" for i in range(3)]
    for rid in ids:
        r, _ = send(t, rid=rid)
        assert (r.status, r.body) == (200, flaky.body_text()), r
    # Each request after the first reused the connection of the one before: closed, so sent
    # again on a new connection.
    assert [len(flaky.with_id(rid)) for rid in ids] == [1, 2, 2]
    assert flaky.connections == 3
    assert retries_by_reason(t) == only("stale_connection", 2)
    assert log_retries(log, ids) == {"stale-0": 0, "stale-1": 1, "stale-2": 1}


@pytest.mark.time_budget(30)
def test_retries_metric_has_one_series_per_reason(turnout_factory, backend_factory,
                                                  faulty_factory, tmp_path):
    bad, good = faulty_factory("bad", status=502), backend_factory("good")
    t, _ = start(turnout_factory, tmp_path, config(
        [bad, good], retries={"attempts": 1, "on": ["gateway-error"]}), workers=1)
    fresh = scrape(t)
    assert fresh.types.get("turnout_retries_total") == "counter"
    assert sorted(lbl["reason"] for lbl, _ in fresh.select("turnout_retries_total")) == \
        sorted(REASONS)
    assert all(set(lbl) == {"reason"} and v == 0
               for lbl, v in fresh.select("turnout_retries_total"))
    for i in range(2):
        assert send(t, rid=f"m-{i}")[0].status == 200
    m = scrape(t)
    series = m.select("turnout_retries_total")
    assert sorted(lbl["reason"] for lbl, _ in series) == sorted(REASONS), series
    assert all(set(lbl) == {"reason"} for lbl, _ in series), series
    assert m.value("turnout_retries_total", reason="status") == bad.count >= 1
    assert m.value("turnout_service_load", service="web", limit="retry_budget") == 0
    assert m.value("turnout_circuit_breaker_overflows_total", service="web",
                   limit="retry_budget") == 0
