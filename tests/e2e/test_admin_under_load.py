"""Zero client errors while 50 keep-alive clients send requests through the proxy and 1,000
changes are applied through the admin API (issue 4 item 5: no dropped connection, no failed
request a correct configuration could serve).

Bounded: the changes stop at 1,000 or after CHANGE_BUDGET_S, the clients a moment later; the
whole file stays under 3 minutes (time_budget marker)."""
import json
import threading
import time

import pytest

from harness import (
    IncompleteResponse,
    RawClient,
    endpoint,
    route,
    service,
)

CLIENTS = 50
CHANGES = 1000
CHANGE_BUDGET_S = 120.0
THINK_S = 0.005  # pause between two requests of one client: load, not a CPU race with the API

pytestmark = pytest.mark.time_budget(175)



def _admin(port, method, path, body=None):
    """One admin call on a raw socket (cheap under a loaded GIL); returns (status, doc)."""
    data = json.dumps(body, separators=(",", ":")).encode() if body is not None else b""
    hdrs = [("Content-Type", "application/json")] if body is not None else []
    if body is None and method in ("PUT", "POST"):
        hdrs.append(("Content-Length", "0"))
    with RawClient(port, timeout=30) as c:
        r = c.request(method, path, headers=hdrs, body=data, host="127.0.0.1")
    try:
        doc = json.loads(r.body) if r.body else None
    except ValueError:
        doc = r.body
    return r.status, doc


class _Client(threading.Thread):
    """One keep-alive connection for the whole run; any EOF, reset, timeout, non-200 or
    unexpected backend is an error (and a reconnect, so the others keep counting)."""

    PATHS = ("/load/echo", "/ver/echo", "/elsewhere")

    def __init__(self, idx, port, stop, allowed):
        super().__init__(daemon=True)
        self.idx, self.port, self.stop, self.allowed = idx, port, stop, allowed
        self.ok = 0
        self.errors = []
        self.reconnects = 0
        self.by_backend = {}

    def run(self):
        try:
            c = RawClient(self.port, timeout=10)
        except OSError as e:
            self.errors.append(f"connect: {e!r}")
            return
        i = 0
        while not self.stop.is_set():
            path = self.PATHS[(i + self.idx) % len(self.PATHS)]
            i += 1
            try:
                r = c.request("GET", path, host="load.test")
                who = r.header("X-Backend")
                if r.status != 200 or who not in self.allowed:
                    self.errors.append(f"{path}: {r.status} from {who!r}: {r.body[:200]!r}")
                elif r.has_token("Connection", "close"):
                    self.errors.append(f"{path}: proxy announced Connection: close")
                else:
                    self.ok += 1
                    self.by_backend[who] = self.by_backend.get(who, 0) + 1
            except (IncompleteResponse, OSError, AssertionError, ValueError) as e:
                kind = type(e).__name__
                self.errors.append(f"{path}: connection lost ({kind}: {e})")
                c.close()
                self.reconnects += 1
                if self.reconnects > 20:
                    return
                try:
                    c = RawClient(self.port, timeout=10)
                except OSError as e2:
                    self.errors.append(f"reconnect: {e2!r}")
                    return
            if THINK_S:
                time.sleep(THINK_S)
        c.close()


def _changes(i, blue, green):
    """The i-th change: (method, path, body, expected statuses). A cycle of 8 touches the
    route the clients use (between two equivalent backends), endpoint weights and versions,
    a service's balancer, and routes and services the clients never use."""
    k, n = i % 8, i // 8
    if k == 0:
        svc = "green" if n % 2 == 0 else "blue"
        return "PUT", "/v1/routes/main", route("main", svc, match={"path_prefix": "/load"},
                                               priority=10), (200,)
    if k == 1:
        w = 1 + n % 5
        return "PUT", "/v1/services/pool/endpoints", [endpoint(blue, "v1", w),
                                                      endpoint(green, "v2", 6 - w)], (200,)
    if k == 2:
        return "PUT", f"/v1/routes/junk{n}", route(f"junk{n}", "blue",
                                                   match={"path_prefix": f"/junk{n}/"}), (201,)
    if k == 3:
        return "DELETE", f"/v1/routes/junk{n}", None, (200,)
    if k == 4:
        w = 1 + (n * 7) % 99
        return "PUT", "/v1/routes/ver", route("ver", [
            {"service": "pool", "version": "v1", "weight": w},
            {"service": "pool", "version": "v2", "weight": 100 - w}],
            match={"path_prefix": "/ver"}, priority=10), (200,)
    if k == 5:
        lb = "random" if n % 2 == 0 else "round_robin"
        return "PUT", "/v1/services/blue", service("blue", endpoint(blue), lb=lb), (200,)
    if k == 6:
        return "POST", "/v1/services", service(f"spare{n}", endpoint(green, "v9")), (201,)
    return "DELETE", f"/v1/services/spare{n}", None, (200,)


def test_zero_client_errors_while_1000_changes_apply(admin_factory, backend_factory):
    blue, green = backend_factory("blue"), backend_factory("green")
    cfg = {"services": [service("blue", endpoint(blue)), service("green", endpoint(green)),
                        service("pool", endpoint(blue, "v1"), endpoint(green, "v2"))],
           "routes": [route("main", "blue", match={"path_prefix": "/load"}, priority=10),
                      route("ver", [{"service": "pool", "version": "v1", "weight": 50},
                                    {"service": "pool", "version": "v2", "weight": 50}],
                            match={"path_prefix": "/ver"}, priority=10),
                      route("base", "pool")]}
    t = admin_factory(config=cfg, workers=2)
    status, doc = _admin(t.admin_port, "GET", "/v1/config")
    assert status == 200, doc
    rev0 = doc["revision"]

    stop = threading.Event()
    clients = [_Client(i, t.port, stop, {"blue", "green"}) for i in range(CLIENTS)]
    for c in clients:
        c.start()
    try:
        # every client is connected and served before the first change
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not all(c.ok or c.errors for c in clients):
            time.sleep(0.05)
        assert all(c.ok for c in clients), "not every client got a first answer"
        served_before = sum(c.ok for c in clients)

        done, failures = 0, []
        started = time.monotonic()
        while done < CHANGES and time.monotonic() - started < CHANGE_BUDGET_S:
            method, path, body, want = _changes(done, blue, green)
            st, answer = _admin(t.admin_port, method, path, body)
            if st not in want:
                failures.append(f"change {done}: {method} {path} -> {st} {answer!r}")
                if len(failures) > 5:
                    break
            done += 1
        change_time = time.monotonic() - started
        time.sleep(0.5)  # requests sent after the last change
    finally:
        stop.set()
        for c in clients:
            c.join(15)
    assert not any(c.is_alive() for c in clients), "a client thread did not stop"

    errors = [(c.idx, e) for c in clients for e in c.errors]
    reconnects = sum(c.reconnects for c in clients)
    served = sum(c.ok for c in clients)
    summary = (f"{done} changes in {change_time:.1f}s, {served} responses "
               f"({served - served_before} during the changes), {len(errors)} errors, "
               f"{reconnects} connections lost")
    print(summary)
    assert not failures, f"API refused changes: {failures}\n{summary}"
    assert done == CHANGES, f"only {summary} (budget {CHANGE_BUDGET_S}s)"
    assert not errors, f"{summary}; first errors: {errors[:10]}"
    assert reconnects == 0, summary
    assert all(c.ok >= 10 for c in clients), [c.ok for c in clients]
    assert served - served_before >= CLIENTS * 10, summary
    both = {b for c in clients for b in c.by_backend}
    assert both == {"blue", "green"}, both

    status, doc = _admin(t.admin_port, "GET", "/v1/config")
    assert status == 200 and doc["revision"] == rev0 + CHANGES, (status, doc.get("revision"))
    assert not [r for r in doc["routes"] if r["id"].startswith("junk")]
    assert not [s for s in doc["services"] if s["name"].startswith("spare")]
    with RawClient(t.port) as c:
        assert c.request("GET", "/load/echo").status == 200
