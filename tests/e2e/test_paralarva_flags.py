"""Paralarva's short flags (DESIGN §1): -d dry run, -n next free port, -a all addresses,
-t upstream timeout. Only loopback traffic is sent."""
import json
import socket
import subprocess
import time

import requests

from harness import LOCALHOST

START_TIMEOUT_S = 10


def _start(turnout_bin, tmp_path, args):
    proc = subprocess.Popen([turnout_bin, "run", "--admin", f"{LOCALHOST}:0", "--workers", "1",
                             "--data-dir", str(tmp_path / "data"), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()  # the listening line, or "" if it exited
    if not line:
        proc.kill()
        raise AssertionError(f"no listening line: {proc.stderr.read()}")
    return proc, json.loads(line)


def _stop(proc):
    proc.terminate()
    try:
        proc.wait(timeout=START_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()


def _port(address: str) -> int:
    return int(address.rsplit(":", 1)[1])


def test_dry_run_answers_200_without_contacting_any_upstream(turnout_bin, tmp_path, backend):
    proc, event = _start(turnout_bin, tmp_path,
                         ["-d", "--listen", f"{LOCALHOST}:0", "--to", backend.address])
    try:
        r = requests.get(f"http://{LOCALHOST}:{_port(event['data'][0])}/anything", timeout=5)
        assert r.status_code == 200
        assert r.text.strip() == "<h1>200 OK (dry-run)</h1>"
        assert backend.count == 0
    finally:
        _stop(proc)


def test_next_free_port_moves_past_a_taken_one(turnout_bin, tmp_path):
    taken = socket.socket()
    taken.bind((LOCALHOST, 0))
    taken.listen()
    port = taken.getsockname()[1]
    try:
        proc, event = _start(turnout_bin, tmp_path, ["-n", "--listen", f"{LOCALHOST}:{port}"])
        try:
            bound = _port(event["data"][0])
            assert port < bound <= port + 100
        finally:
            _stop(proc)
        # Without -n the same address is a clear error and exit 1.
        failed = subprocess.run([turnout_bin, "run", "--listen", f"{LOCALHOST}:{port}",
                                 "--admin", f"{LOCALHOST}:0", "--data-dir",
                                 str(tmp_path / "data2")],
                                capture_output=True, text=True, timeout=START_TIMEOUT_S)
        assert failed.returncode == 1
        assert str(port) in failed.stderr
    finally:
        taken.close()


def test_all_addresses_listens_on_the_wildcard(turnout_bin, tmp_path, backend):
    proc, event = _start(turnout_bin, tmp_path,
                         ["-a", "--listen", f"{LOCALHOST}:0", "--to", backend.address])
    try:
        address = event["data"][0]
        assert address.startswith("0.0.0.0:"), address
        r = requests.get(f"http://{LOCALHOST}:{_port(address)}/echo", timeout=5)
        assert r.status_code == 200
    finally:
        _stop(proc)


def test_upstream_timeout_flag_gives_504(turnout_bin, tmp_path, backend):
    proc, event = _start(turnout_bin, tmp_path,
                         ["-t", "0.5", "--listen", f"{LOCALHOST}:0", "--to", backend.address])
    try:
        started = time.monotonic()
        r = requests.get(f"http://{LOCALHOST}:{_port(event['data'][0])}/slow?ms=3000", timeout=10)
        elapsed = time.monotonic() - started
        assert r.status_code == 504
        assert elapsed < 2.5
    finally:
        _stop(proc)
