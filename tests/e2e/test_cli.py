"""Command line: usage errors, `turnout check`, port in use, admin health endpoints."""
import json
import re
import socket
import subprocess

import requests

from harness import LOCALHOST, run_cli, simple_config, to_yaml

GOOD_CONFIG = """\
services:
  - name: web
    lb: round_robin
    endpoints:
      - address: "127.0.0.1:9101"
        version: v1
        weight: 1
      - address: "127.0.0.1:9102"
        version: v2
        weight: 3
routes:
  - id: web
    priority: 10
    match:
      host: "*.example.com"
      path_prefix: /api
      headers:
        X-User: "^qa-"
    rewrite:
      strip_prefix: true
    split:
      - service: web
        version: v1
        weight: 90
      - service: web
        version: v2
        weight: 10
    timeout_ms: 3000
"""

# Line numbers matter: the errors below are on lines 4, 12 and 17.
BAD_CONFIG = """\
services:
  - name: web
    endpoints:
      - address: "127.0.0.1:notaport"
routes:
  - id: ok
    match:
      path_prefix: /
    split:
      - service: web
      - service: web
        weight: -5
  - id: unknown-service
    match:
      path_prefix: /x
    split:
      - service: nope
"""


def test_bad_flag_exits_2_with_usage(turnout_bin):
    for args in (["run", "--bogus"], ["--bogus"]):
        p = run_cli(turnout_bin, args)
        assert p.returncode == 2, (args, p.returncode, p.stderr)
        err = p.stderr.decode(errors="replace")
        assert "bogus" in err, f"usage message should name the bad flag: {err!r}"
        assert p.stdout.strip() == b"" or b"listening" not in p.stdout


def test_check_valid_config(turnout_bin, tmp_path):
    f = tmp_path / "good.yaml"
    f.write_text(GOOD_CONFIG)
    p = run_cli(turnout_bin, ["check", "--config", str(f)])
    assert p.returncode == 0, p.stdout + p.stderr


def test_check_generated_config_is_valid(turnout_bin, tmp_path):
    # The YAML the harness writes for other tests must itself be valid.
    b = "127.0.0.1:9101"
    f = tmp_path / "gen.yaml"
    f.write_text(to_yaml(simple_config(b, lb="least_request", timeout_ms=500)))
    p = run_cli(turnout_bin, ["check", "--config", str(f)])
    assert p.returncode == 0, p.stdout + p.stderr


def test_check_invalid_config_reports_every_error_with_line_and_path(turnout_bin, tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text(BAD_CONFIG)
    p = run_cli(turnout_bin, ["check", "--config", str(f)])
    assert p.returncode == 1, p.stdout + p.stderr
    out = (p.stdout + p.stderr).decode(errors="replace")
    name = re.escape(str(f))
    expected = [
        (4, r"services\[0\]\.endpoints\[0\]\.address"),
        (12, r"routes\[0\]\.split\[1\]\.weight"),
        (17, r"routes\[1\]\.split\[0\]\.service"),
    ]
    for line, field in expected:
        pat = rf"^{name}:{line}: {field}: \S.*$"
        assert re.search(pat, out, re.M), f"missing error line matching {pat!r} in:\n{out}"


def test_check_yaml_syntax_error(turnout_bin, tmp_path):
    f = tmp_path / "syntax.yaml"
    f.write_text("services:\n  - name: web\n    endpoints: [\n")
    p = run_cli(turnout_bin, ["check", "--config", str(f)])
    assert p.returncode == 1
    out = (p.stdout + p.stderr).decode(errors="replace")
    assert str(f) in out, out


def test_check_missing_file(turnout_bin, tmp_path):
    f = tmp_path / "does-not-exist.yaml"
    p = run_cli(turnout_bin, ["check", "--config", str(f)])
    assert p.returncode == 1
    assert str(f) in (p.stdout + p.stderr).decode(errors="replace")


def test_listen_port_in_use_exits_1(turnout_bin, tmp_path):
    blocker = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        blocker.bind((LOCALHOST, 0))
        blocker.listen(1)
        port = blocker.getsockname()[1]
        addr = f"{LOCALHOST}:{port}"
        cmd = [turnout_bin, "run", "--to", "127.0.0.1:9", "--listen", addr,
               "--admin", f"{LOCALHOST}:0", "--workers", "2", "--data-dir", str(tmp_path / "data")]
        (tmp_path / "data").mkdir()
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=10,
                           cwd=str(tmp_path))
        assert p.returncode == 1, (p.returncode, p.stderr)
        err = p.stderr.decode(errors="replace")
        assert any(addr in ln for ln in err.splitlines()), f"error should mention {addr}: {err!r}"
        assert b'"listening"' not in p.stdout
    finally:
        blocker.close()


def test_admin_healthz_and_readyz(turnout_factory, backend):
    t = turnout_factory(config=simple_config(backend))
    r = requests.get(t.admin_url("/healthz"), timeout=5)
    assert r.status_code == 200
    r = requests.get(t.admin_url("/readyz"), timeout=5)
    assert r.status_code == 200
    # the admin listener is not the data listener
    assert t.admin_port != t.port
    r = requests.get(t.url("/echo"), timeout=5)
    assert r.status_code == 200 and r.headers["X-Backend"] == "b1"


def test_listening_line_is_first_stdout_line_and_json(turnout_factory, backend):
    t = turnout_factory(config=simple_config(backend))
    ev = t.listening_event
    assert ev["event"] == "listening"
    assert ev["data"] == [f"{LOCALHOST}:{t.port}"]
    assert ev["admin"] == f"{LOCALHOST}:{t.admin_port}"
    assert json.loads(t.stdout_lines[0]) == ev, t.stdout_lines
