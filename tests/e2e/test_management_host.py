"""--management-host (ngx_http_set_backend served its entries API through nginx by Host) and
-p METRICS_PORT (paralarva's Prometheus port), end to end."""
from __future__ import annotations

import socket
import subprocess

import requests

from harness import LOCALHOST

TOKEN = "s3cret-token"
MGMT = "api.test.io"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((LOCALHOST, 0))
        return s.getsockname()[1]


def _via_data(t, method, path, token=TOKEN, **kw):
    headers = {"Host": MGMT}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return requests.request(method, f"http://{LOCALHOST}:{t.port}{path}", headers=headers,
                            timeout=5, **kw)


def test_entries_api_through_the_data_listener_needs_the_token(admin_factory, backend):
    t = admin_factory(token=TOKEN, extra=["--management-host", MGMT])
    assert _via_data(t, "GET", "/entries.json", token=None).status_code == 401
    assert _via_data(t, "GET", "/entries.json", token="wrong").status_code == 401
    r = _via_data(t, "POST", "/entries.json",
                  json={"host": "app.test", "backend": backend.address})
    assert r.status_code == 200, r.text
    r = _via_data(t, "GET", "/entries.json")
    assert r.status_code == 200 and r.json() == [{"host": "app.test",
                                                  "backend": backend.address}], r.text
    # The entry routes through the same data listener.
    r = requests.get(f"http://{LOCALHOST}:{t.port}/hello", headers={"Host": "app.test"},
                     timeout=5)
    assert r.status_code == 200 and backend.last().path == "/hello"
    r = _via_data(t, "DELETE", "/entries/app.test.json")
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    assert _via_data(t, "GET", "/entries.json").json() == []


def test_management_host_serves_nothing_else_of_the_admin_api(admin_factory):
    t = admin_factory(token=TOKEN, extra=["--management-host", MGMT])
    for path in ("/v1/config", "/a8-admin", "/metrics", "/healthz", "/", "/entries"):
        r = _via_data(t, "GET", path)
        assert r.status_code == 404, (path, r.status_code, r.text[:200])
    # Other hosts do not reach the admin API at all.
    r = requests.get(f"http://{LOCALHOST}:{t.port}/entries.json",
                     headers={"Host": "other.test", "Authorization": f"Bearer {TOKEN}"},
                     timeout=5)
    assert r.status_code == 404


def test_management_host_without_a_token_refuses_to_start(turnout_bin, tmp_path):
    proc = subprocess.run(
        [turnout_bin, "run", "--listen", f"{LOCALHOST}:0", "--admin", f"{LOCALHOST}:0",
         "--data-dir", str(tmp_path / "d"), "--management-host", MGMT],
        capture_output=True, text=True, timeout=10)
    assert proc.returncode == 1
    assert "--admin-token" in proc.stderr


def test_management_routes_are_not_stored_nor_changeable(admin_factory):
    t = admin_factory(token=TOKEN, extra=["--management-host", MGMT])
    api = t.api()
    config = api.get("/v1/config").json()
    assert not any(r["id"].startswith("turnout-management") for r in config["routes"])
    r = api.delete("/v1/routes/turnout-management-index")
    assert r.status_code == 409, r.text


def test_metrics_port_serves_metrics_on_every_path(turnout_factory):
    port = _free_port()
    t = turnout_factory(extra=["-p", str(port)])
    assert t.listening_event.get("metrics") == f"{LOCALHOST}:{port}"
    for path in ("/metrics", "/", "/anything"):
        r = requests.get(f"http://{LOCALHOST}:{port}{path}", timeout=5)
        assert r.status_code == 200, (path, r.status_code)
        assert r.headers["Content-Type"].startswith("text/plain")
        assert "turnout_config_revision" in r.text
    # Only metrics there: no admin call is reachable through it.
    r = requests.put(f"http://{LOCALHOST}:{port}/v1/config", data="{}", timeout=5)
    assert r.status_code == 405


def test_metrics_port_in_use_exits_1(turnout_bin, tmp_path):
    with socket.socket() as taken:
        taken.bind((LOCALHOST, 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        proc = subprocess.run(
            [turnout_bin, "run", "--listen", f"{LOCALHOST}:0", "--admin", f"{LOCALHOST}:0",
             "--data-dir", str(tmp_path / "d"), "-p", str(port)],
            capture_output=True, text=True, timeout=10)
    assert proc.returncode == 1
    assert "metrics" in proc.stderr
