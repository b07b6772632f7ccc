"""Process lifecycle: graceful drain on SIGTERM/SIGINT, drain timeout, quick mode (--to)."""
import collections
import signal
import socket
import threading
import time

import requests

from harness import LOCALHOST, RawClient, simple_config


def _connect_refused(port) -> bool:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(0.5)
    try:
        s.connect((LOCALHOST, port))
    except ConnectionRefusedError:
        return True
    except OSError:
        return False
    finally:
        s.close()
    return False


def _in_flight(url, timeout=15):
    box = {}

    def run():
        try:
            box["resp"] = requests.get(url, timeout=timeout)
        except Exception as e:  # noqa: BLE001 - reported by the test
            box["error"] = e

    th = threading.Thread(target=run, daemon=True)
    th.start()
    return th, box


def test_sigterm_drains_in_flight_request(turnout_factory, backend):
    t = turnout_factory(config=simple_config(backend))
    th, box = _in_flight(t.url("/slow?ms=1500"))
    assert backend.wait_for(1, 3), "slow request did not reach the backend"
    sent = time.monotonic()
    t.send_signal(signal.SIGTERM)

    # New connections are refused while the process is still alive and draining.
    refused_while_alive = False
    deadline = sent + 1.0
    while time.monotonic() < deadline:
        if _connect_refused(t.port):
            refused_while_alive = t.alive()
            break
        time.sleep(0.05)
    assert refused_while_alive, "listener still accepting (or process already gone) after SIGTERM"

    th.join(10)
    assert "error" not in box, f"in-flight request failed: {box.get('error')!r}"
    assert box["resp"].status_code == 200 and box["resp"].text == "slow done"
    rc = t.wait(max(0.1, sent + 5 - time.monotonic()))
    assert rc == 0, f"exit code {rc} (None = still running 5 s after SIGTERM)"
    assert time.monotonic() - sent >= 1.0, "process exited before the in-flight request finished"


def test_sigint_idle_exits_0(turnout_factory, backend):
    t = turnout_factory(config=simple_config(backend))
    assert requests.get(t.url("/echo"), timeout=5).status_code == 200
    start = time.monotonic()
    rc = t.stop(signal.SIGINT, timeout=5)
    assert rc == 0
    assert time.monotonic() - start < 5


def test_sigterm_with_idle_keepalive_connection_exits_promptly(turnout_factory, backend):
    t = turnout_factory(config=simple_config(backend))
    with RawClient(t.port) as c:
        assert c.request("GET", "/echo").status == 200
        start = time.monotonic()
        rc = t.stop(signal.SIGTERM, timeout=5)
        assert rc == 0, "an idle keep-alive connection must not hold the drain"
        assert time.monotonic() - start < 5
        closed, _ = c.wait_closed(1)
        assert closed


def test_drain_timeout_bounds_shutdown(turnout_factory, backend):
    t = turnout_factory(config=simple_config(backend), drain_timeout=1)
    th, box = _in_flight(t.url("/slow?ms=8000"))
    assert backend.wait_for(1, 3)
    start = time.monotonic()
    t.send_signal(signal.SIGTERM)
    rc = t.wait(4)
    elapsed = time.monotonic() - start
    assert rc == 0, f"exit code {rc} (None = still running 4 s after SIGTERM with --drain-timeout 1)"
    assert 0.8 <= elapsed < 4, elapsed
    th.join(10)
    # the request could not complete: the client got an error, not the slow answer
    assert "resp" not in box or box["resp"].text != "slow done"


def test_quick_mode_to_two_upstreams(turnout_factory, backend_factory):
    a, b = backend_factory("a"), backend_factory("b")
    t = turnout_factory(to=[a.address, b.address])
    counts = collections.Counter()
    with requests.Session() as s:
        for i in range(40):
            r = s.get(t.url(f"/any/path{i}?q={i}"), headers={"Host": f"h{i}.anything.test"}, timeout=5)
            assert r.status_code == 200
            counts[r.headers["X-Backend"]] += 1
    assert counts["a"] > 0 and counts["b"] > 0, counts
    assert a.count + b.count == 40
    targets = sorted(x.target for x in a.snapshot() + b.snapshot())
    assert targets == sorted(f"/any/path{i}?q={i}" for i in range(40))
