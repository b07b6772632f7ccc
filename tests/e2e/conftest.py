"""Fixtures for the turnout end-to-end tests.

The binary is $TURNOUT_BIN or <repo>/build/turnout. When it is missing the tests that need it
are skipped, unless TURNOUT_REQUIRE_BIN=1 (CI), which turns that into an error.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (  # noqa: E402
    REPO,
    Backend,
    RawBackend,
    Turnout,
    WsEchoBackend,
    closed_port,
)


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


@pytest.fixture(scope="session")
def turnout_bin() -> str:
    path = os.environ.get("TURNOUT_BIN") or str(REPO / "build" / "turnout")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        msg = f"turnout binary not found at {path} (set TURNOUT_BIN or build it)"
        if os.environ.get("TURNOUT_REQUIRE_BIN") == "1":
            pytest.fail(msg)
        pytest.skip(msg)
    return path


@pytest.fixture
def turnout_factory(turnout_bin, tmp_path, request):
    """turnout_factory(config=dict|yaml-str, to=[addr,...], workers=2, drain_timeout=None,
    extra=[...]) -> started Turnout. Every process is killed at teardown."""
    procs: list[Turnout] = []

    def make(config=None, to=None, workers=2, drain_timeout=None, extra=()):
        t = Turnout(turnout_bin, tmp_path, name=f"turnout{len(procs)}")
        procs.append(t)
        return t.start(config=config, to=to, workers=workers, drain_timeout=drain_timeout,
                       extra=extra)

    yield make
    failed = getattr(request.node, "rep_call", None)
    for t in procs:
        if failed is not None and failed.failed:
            print(f"\n===== {t.dir.name} =====\n{t.diagnostics()}")
        t.kill()


@pytest.fixture
def backend_factory():
    """backend_factory(name, delay=0.0) -> Backend (stdlib HTTP/1.1 server, recording)."""
    made: list[Backend] = []

    def make(name="backend", delay=0.0):
        b = Backend(name, delay=delay)
        made.append(b)
        return b

    yield make
    for b in made:
        b.close()


@pytest.fixture
def backend(backend_factory) -> Backend:
    return backend_factory("b1")


@pytest.fixture
def raw_backend_factory():
    """raw_backend_factory(response_bytes, hold=0, abort=False) -> RawBackend."""
    made: list[RawBackend] = []

    def make(response: bytes, hold: float = 0.0, abort: bool = False):
        b = RawBackend(response, hold=hold, abort=abort)
        made.append(b)
        return b

    yield make
    for b in made:
        b.close()


@pytest.fixture
def ws_backend():
    b = WsEchoBackend()
    yield b
    b.close()


@pytest.fixture
def dead_port() -> int:
    return closed_port()


# --------------------------------------------------------------------------------------------
# Admin API v1 tests (test_admin_*.py)
# --------------------------------------------------------------------------------------------
from harness import AdminTurnout  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "time_budget(seconds): the test fails when its call phase takes longer")


@pytest.fixture
def admin_factory(turnout_bin, tmp_path, request):
    """admin_factory(config=None, to=None, workers=2, extra=(), token=None,
    admin_address=None, insecure=False, start=True) -> AdminTurnout (started unless
    start=False). t.api() gives an AdminClient; t.restart() keeps the data dir.
    Every process is killed at teardown."""
    procs: list[AdminTurnout] = []

    def make(config=None, to=None, workers=2, drain_timeout=None, extra=(), token=None,
             admin_address=None, insecure=False, start=True):
        t = AdminTurnout(turnout_bin, tmp_path, name=f"admin{len(procs)}",
                         admin_address=admin_address, token=token, insecure=insecure)
        procs.append(t)
        if start:
            t.start(config=config, to=to, workers=workers, drain_timeout=drain_timeout,
                    extra=extra)
        return t

    yield make
    failed = getattr(request.node, "rep_call", None)
    for t in procs:
        if failed is not None and failed.failed:
            print(f"\n===== {t.dir.name} =====\n{t.diagnostics()}")
        t.kill()


@pytest.fixture(autouse=True)
def _time_budget(request):
    """A test (or module) marked time_budget(SECONDS) fails when it runs longer: a slow path
    that crept in shows up as a failure, not only as a longer CI run."""
    marker = request.node.get_closest_marker("time_budget")
    start = time.monotonic()
    yield
    took = time.monotonic() - start
    if marker is not None:
        assert took <= marker.args[0], f"took {took:.1f}s, budget {marker.args[0]}s"
