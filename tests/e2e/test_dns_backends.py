"""DNS-named backends: resolved by c-ares against a real DNS server (dnsmasq on a loopback
high port, answering from a hosts file with a 1 s TTL), every address used, re-resolved when
the TTL runs out; a name that does not resolve is a quick 502 that says so."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from harness import LOCALHOST

DNSMASQ = "/usr/sbin/dnsmasq"


def _free_port(kind=socket.SOCK_STREAM, host=LOCALHOST) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class Dns:
    """dnsmasq answering from a hosts file the test rewrites (reload() makes it reread it)."""

    def __init__(self, tmp_path, hosts: str):
        if not os.access(DNSMASQ, os.X_OK):
            pytest.skip("dnsmasq is not installed")
        self.proc = None
        self.hosts = tmp_path / "hosts"
        self.hosts.write_text(hosts)
        # dnsmasq binds UDP and TCP on its port: another test may hold the TCP one, so a few
        # ports are tried (bounded).
        errors = []
        for _ in range(5):
            self.port = _free_port(socket.SOCK_DGRAM)
            self.proc = subprocess.Popen(
                [DNSMASQ, "--keep-in-foreground", "--no-resolv", "--no-hosts",
                 "--bind-interfaces", "--listen-address=127.0.0.1", f"--port={self.port}",
                 "--local-ttl=1", f"--addn-hosts={self.hosts}", "--user=root", "--pid-file=",
                 "--log-facility=/dev/null"],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            time.sleep(0.3)  # one bounded grace period: dnsmasq binds at once
            if self.proc.poll() is None:
                return
            errors.append(self.proc.stderr.read())
        raise AssertionError(f"dnsmasq did not start: {errors}")

    @property
    def server(self) -> str:
        return f"127.0.0.1:{self.port}"

    def rewrite(self, hosts: str):
        self.hosts.write_text(hosts)
        self.proc.send_signal(signal.SIGHUP)

    def close(self):
        self.proc.terminate()
        self.proc.wait(timeout=5)


class NamedBackend:
    """Answers {"ip": <its address>, "host": <Host header>, "path": <path>} on (ip, port)."""

    def __init__(self, ip: str, port: int):
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                body = json.dumps({"ip": ip, "host": self.headers.get("Host"),
                                   "path": self.path}).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer((ip, port), Handler)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()
        self.owner = owner

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def dns_env(tmp_path):
    made = []

    def make(hosts: str):
        d = Dns(tmp_path, hosts)
        made.append(d)
        return d

    backends = []

    def backend(ip, port):
        b = NamedBackend(ip, port)
        backends.append(b)
        return b

    yield make, backend
    for d in made:
        d.close()
    for b in backends:
        b.close()


def _config(address: str, **route_extra) -> dict:
    route = {"id": "app", "match": {"path_prefix": "/"}, "split": [{"service": "app"}]}
    route.update(route_extra)
    return {"services": [{"name": "app", "endpoints": [{"address": address}]}],
            "routes": [route]}


def _get(t, path="/x", **kw):
    return requests.get(f"http://{LOCALHOST}:{t.port}{path}", timeout=5, **kw)


def test_named_backend_gets_its_name_as_host(turnout_factory, dns_env):
    make_dns, backend = dns_env
    port = _free_port()
    backend("127.0.0.1", port)
    dns = make_dns("127.0.0.1 app.test\n")
    t = turnout_factory(config=_config(f"app.test:{port}"), extra=["--dns-server", dns.server])
    r = _get(t, "/hello?q=1", headers={"Host": "client.example"})
    assert r.status_code == 200, r.text
    assert r.json() == {"ip": "127.0.0.1", "host": f"app.test:{port}", "path": "/hello?q=1"}


def test_every_address_of_a_name_is_used(turnout_factory, dns_env):
    make_dns, backend = dns_env
    port = _free_port()
    backend("127.0.0.1", port)
    backend("127.0.0.2", port)
    dns = make_dns("127.0.0.1 multi.test\n127.0.0.2 multi.test\n")
    t = turnout_factory(config=_config(f"multi.test:{port}"), extra=["--dns-server", dns.server],
                        workers=1)
    seen = {_get(t).json()["ip"] for _ in range(20)}
    assert seen == {"127.0.0.1", "127.0.0.2"}


def test_a_name_that_does_not_resolve_is_a_quick_502(turnout_factory, dns_env):
    make_dns, _ = dns_env
    dns = make_dns("127.0.0.1 other.test\n")
    t = turnout_factory(config=_config("nowhere.test:8080"), extra=["--dns-server", dns.server])
    for accept, needle in (("text/html", "cannot resolve backend nowhere.test"),
                           ("application/json", "cannot resolve backend nowhere.test")):
        t0 = time.monotonic()
        r = _get(t, headers={"Accept": accept})
        assert r.status_code == 502 and needle in r.text, r.text
        assert time.monotonic() - t0 < 2.0


def test_a_changed_answer_is_followed_after_the_ttl(turnout_factory, dns_env):
    make_dns, backend = dns_env
    port = _free_port()
    backend("127.0.0.1", port)
    backend("127.0.0.2", port)
    dns = make_dns("127.0.0.1 moving.test\n")
    t = turnout_factory(config=_config(f"moving.test:{port}"), extra=["--dns-server", dns.server])
    assert _get(t).json()["ip"] == "127.0.0.1"
    dns.rewrite("127.0.0.2 moving.test\n")
    deadline = time.monotonic() + 10  # TTL 1 s, retry 5 s at worst: well within
    ip = None
    while time.monotonic() < deadline:
        ip = _get(t).json()["ip"]
        if ip == "127.0.0.2":
            break
        time.sleep(0.2)
    assert ip == "127.0.0.2"


def test_status_shows_what_names_resolved_to(admin_factory, dns_env):
    make_dns, _ = dns_env
    dns = make_dns("127.0.0.1 two.test\n127.0.0.2 two.test\n")
    config = {"services": [{"name": "app", "endpoints": [{"address": "two.test:8080"},
                                                         {"address": "none.test:8080"}]}],
              "routes": []}
    t = admin_factory(config=config, extra=["--dns-server", dns.server])
    endpoints = t.api().get("/v1/status").json()["services"][0]["endpoints"]
    assert [e["address"] for e in endpoints] == ["127.0.0.1:8080", "127.0.0.2:8080",
                                                 "none.test:8080"]
    assert [e.get("hostname") for e in endpoints] == ["two.test:8080"] * 2 + ["none.test:8080"]
    assert "unresolved" not in endpoints[0] and endpoints[2]["unresolved"]


def test_named_backend_through_the_admin_api(admin_factory, dns_env):
    make_dns, backend = dns_env
    port = _free_port()
    backend("127.0.0.1", port)
    dns = make_dns("127.0.0.1 api-added.test\n")
    t = admin_factory(extra=["--dns-server", dns.server])
    api = t.api()
    r = api.put("/v1/services/app", json={"endpoints": [{"address": f"api-added.test:{port}"}]})
    assert r.status_code in (200, 201), r.text
    r = api.put("/v1/routes/app", json={"match": {"path_prefix": "/"},
                                        "split": [{"service": "app"}]})
    assert r.status_code in (200, 201), r.text
    # Read-your-writes: the change waited for the new name's first answer.
    r = _get(t)
    assert r.status_code == 200 and r.json()["host"] == f"api-added.test:{port}", r.text


def test_bad_dns_server_flag_exits_2(turnout_bin, tmp_path):
    proc = subprocess.run(
        [turnout_bin, "run", "--listen", f"{LOCALHOST}:0", "--admin", f"{LOCALHOST}:0",
         "--data-dir", str(tmp_path / "d"), "--dns-server", "not-an-ip"],
        capture_output=True, text=True, timeout=10)
    assert proc.returncode == 2
    assert "--dns-server" in proc.stderr


def test_entries_api_with_a_dns_named_backend(admin_factory, dns_env):
    """ngx_http_set_backend's provider test: an entry whose backend is a DNS name."""
    make_dns, backend = dns_env
    port = _free_port()
    backend("127.0.0.1", port)
    dns = make_dns("127.0.0.1 provider.test\n")
    t = admin_factory(extra=["--dns-server", dns.server])
    api = t.api()
    r = api.post("/entries.json", json={"host": "success.test",
                                        "backend": f"provider.test:{port}"})
    assert r.status_code == 200, r.text
    r = _get(t, "/library/test/success.html", headers={"Host": "success.test"})
    assert r.status_code == 200, r.text
    assert r.json() == {"ip": "127.0.0.1", "host": f"provider.test:{port}",
                        "path": "/library/test/success.html"}
    # A bare name means port 80, as nginx's proxy_pass read it.
    r = api.post("/entries.json", json={"host": "bare.test", "backend": "provider.test"})
    assert r.status_code == 200 and r.json()["backend"] == "provider.test:80", r.text


def test_keep_host_sends_the_clients_host(turnout_factory, dns_env):
    make_dns, backend = dns_env
    port = _free_port()
    backend("127.0.0.1", port)
    dns = make_dns("127.0.0.1 app.test\n")
    t = turnout_factory(config=_config(f"app.test:{port}", rewrite={"keep_host": True}),
                        extra=["--dns-server", dns.server])
    r = _get(t, headers={"Host": "client.example"})
    assert r.status_code == 200 and r.json()["host"] == "client.example", r.text
