"""A removed endpoint finishes its in-flight requests; its idle pooled connections close
(issue 4, "no dropped connection")."""
import threading
import time

import requests

from harness import endpoint, route, service


def _proxy_connections_to(port: int) -> int:
    """Established TCP connections whose remote end is 127.0.0.1:`port` (the proxy's side:
    the backend's own sockets have `port` as their local port)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = open(table).read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            remote_port = int(fields[2].rsplit(":", 1)[1], 16)
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            if fields[3] == "01" and remote_port == port and local_port != port:
                count += 1
    return count


def _wait_for(predicate, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:  # bounded by time
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def test_removed_endpoint_finishes_in_flight_and_its_pooled_connections_close(
        admin_factory, backend_factory):
    old, new = backend_factory("old"), backend_factory("new")
    t = admin_factory(config={"services": [service("s", endpoint(old))],
                              "routes": [route("r", "s")]}, workers=1)
    api = t.api()
    # Warm the pool: a few keep-alive requests leave idle upstream connections to `old`.
    for _ in range(5):
        assert requests.get(t.url("/echo"), timeout=5).headers["X-Backend"] == "old"
    assert _wait_for(lambda: _proxy_connections_to(old.port) >= 1, 2.0)

    result = {}

    def slow_request():
        r = requests.get(t.url("/slow?ms=1500"), timeout=10)
        result["status"], result["backend"] = r.status_code, r.headers.get("X-Backend")

    in_flight = threading.Thread(target=slow_request)
    in_flight.start()
    time.sleep(0.4)  # the slow request is now at `old`
    api.ok("PUT", "/v1/services/s/endpoints", json=[endpoint(new)], expect=200)

    # New requests go to `new` at once; the one in flight finishes at `old`.
    assert requests.get(t.url("/echo"), timeout=5).headers["X-Backend"] == "new"
    in_flight.join(timeout=10)
    assert not in_flight.is_alive()
    assert result == {"status": 200, "backend": "old"}
    # Every connection to the removed endpoint closes: the idle ones at the change, the busy
    # one when its exchange ends instead of going back to the pool.
    assert _wait_for(lambda: _proxy_connections_to(old.port) == 0, 3.0), \
        f"{_proxy_connections_to(old.port)} connections to the removed endpoint are still open"
