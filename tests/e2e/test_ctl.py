"""`turnout ctl`: the admin API client (DESIGN §1), run as a real process against a real turnout.

Every call is bounded (subprocess timeout); turnout is started with --admin 127.0.0.1:0.
"""
from __future__ import annotations

import json
import os
import re
import subprocess

import pytest
import requests

from harness import LOCALHOST, endpoint, route, service, to_yaml

CTL_TIMEOUT = 20.0


def clean_env(**extra) -> dict:
    """The caller's environment without TURNOUT_ADMIN*, so nothing leaks into a test."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TURNOUT_ADMIN")}
    env.update(extra)
    return env


def ctl(turnout, *args, stdin: str | None = None, env=None, admin=True):
    cmd = [turnout.binary, "ctl"]
    if admin:
        cmd += ["--admin", f"{LOCALHOST}:{turnout.admin_port}"]
    cmd += [str(a) for a in args]
    return subprocess.run(cmd, input=(stdin or "").encode(), capture_output=True,
                          timeout=CTL_TIMEOUT, env=env or clean_env())


def out(p) -> str:
    return p.stdout.decode(errors="replace")


def err(p) -> str:
    return p.stderr.decode(errors="replace")


def table(text: str) -> list[list[str]]:
    """Rows of a ctl table, cells split on runs of 2+ spaces (cells never contain those)."""
    return [re.split(r"\s{2,}", line.strip()) for line in text.splitlines() if line.strip()]


@pytest.fixture
def proxy(turnout_factory):
    return turnout_factory()


def web_config(b1, b2) -> dict:
    return {
        "services": [service("web", endpoint(b1, "v1"), endpoint(b2, "v2"), lb="round_robin")],
        "routes": [route("web", [{"service": "web", "version": "v1", "weight": 100},
                                 {"service": "web", "version": "v2", "weight": 0}],
                         match={"path_prefix": "/"}, priority=5)],
    }


def test_apply_get_delete_changes(proxy, backend_factory, tmp_path):
    b1, b2 = backend_factory("b1"), backend_factory("b2")
    f = tmp_path / "web.yaml"
    f.write_text(to_yaml(web_config(b1, b2)))

    p = ctl(proxy, "apply", "-f", f)
    assert p.returncode == 0, err(p)
    lines = out(p).splitlines()
    assert re.fullmatch(r"service/web created \(revision \d+\)", lines[0]), lines
    assert re.fullmatch(r"route/web created \(revision \d+\)", lines[1]), lines
    # Read-your-writes: the route answers as soon as apply returned.
    r = requests.get(proxy.url("/hello"), timeout=5)
    assert r.status_code == 200 and r.headers.get("X-Backend") == "b1"

    p = ctl(proxy, "apply", "-f", f)
    assert p.returncode == 0, err(p)
    assert [ln.split(" (")[0] for ln in out(p).splitlines()] == [
        "service/web configured", "route/web configured"]

    p = ctl(proxy, "get", "services")
    assert p.returncode == 0, err(p)
    rows = table(out(p))
    assert rows[0] == ["NAME", "LB", "ENDPOINTS", "VERSIONS"]
    assert rows[1] == ["web", "round_robin", "2", "v1,v2"]

    p = ctl(proxy, "get", "routes")
    assert p.returncode == 0, err(p)
    rows = table(out(p))
    assert rows[0] == ["ID", "PRIORITY", "HOST", "PATH", "SPLIT"]
    assert rows[1] == ["web", "5", "*", "/", "web:v1=100,web:v2=0"]

    p = ctl(proxy, "get", "routes", "-o", "json")
    assert p.returncode == 0, err(p)
    doc = json.loads(out(p))
    assert [x["id"] for x in doc["routes"]] == ["web"]
    assert isinstance(doc["revision"], int)

    p = ctl(proxy, "get", "config", "-o", "json")
    assert p.returncode == 0, err(p)
    assert [s["name"] for s in json.loads(out(p))["services"]] == ["web"]

    p = ctl(proxy, "delete", "route", "web")
    assert p.returncode == 0, err(p)
    assert re.fullmatch(r"route/web deleted \(revision \d+\)\n", out(p))
    p = ctl(proxy, "delete", "service", "web")
    assert p.returncode == 0, err(p)
    assert table(out(ctl(proxy, "get", "services"))) == [["NAME", "LB", "ENDPOINTS", "VERSIONS"]]

    p = ctl(proxy, "changes")
    assert p.returncode == 0, err(p)
    rows = table(out(p))
    assert rows[0] == ["REVISION", "TIME", "KIND", "NAME", "SOURCE"]
    kinds = [(row[2], row[3]) for row in rows[1:]]
    assert kinds[-6:] == [("upsert_service", "web"), ("upsert_route", "web"),
                          ("upsert_service", "web"), ("upsert_route", "web"),
                          ("remove_route", "web"), ("remove_service", "web")], rows
    assert all(row[4] == "api" for row in rows[-6:])
    revisions = [int(row[0]) for row in rows[1:]]
    assert revisions == sorted(revisions)

    since = revisions[-2]
    p = ctl(proxy, "changes", "--since", since, "-o", "json")
    assert p.returncode == 0, err(p)
    changes = json.loads(out(p))["changes"]
    assert [(c["revision"], c["kind"]) for c in changes] == [(revisions[-1], "remove_service")]


def test_get_one_round_trips_through_apply(proxy, backend_factory, tmp_path):
    f = tmp_path / "web.yaml"
    f.write_text(to_yaml(web_config(backend_factory("b1"), backend_factory("b2"))))
    assert ctl(proxy, "apply", "-f", f).returncode == 0

    p = ctl(proxy, "get", "service", "web")
    assert p.returncode == 0, err(p)
    assert "name: web" in out(p)
    again = tmp_path / "again.yaml"
    again.write_text(out(p))
    p2 = ctl(proxy, "apply", "-f", again)
    assert p2.returncode == 0, err(p2)
    assert out(p2).startswith("service/web configured"), out(p2)

    p = ctl(proxy, "get", "route", "web", "-o", "json")
    assert p.returncode == 0, err(p)
    assert json.loads(out(p))["id"] == "web"


def test_apply_single_objects_from_stdin_and_lists(proxy, backend):
    svc = {"name": "api", "endpoints": [{"address": backend.address, "version": "v1"}]}
    p = ctl(proxy, "apply", "-f", "-", stdin=json.dumps(svc))
    assert p.returncode == 0, err(p)
    assert out(p).startswith("service/api created (revision ")

    # A YAML route whose version is a plain number: still the version "1"... which api
    # does not have, so the server names the field.
    p = ctl(proxy, "apply", "-f", "-",
            stdin="id: r1\nmatch: {path_prefix: /api}\nsplit: [{service: api, version: 1}]\n")
    assert p.returncode == 1
    assert re.search(r"^error: route/r1: split\[0\]\.version: .* \(400\)$", err(p), re.M), err(p)

    docs = "id: r1\nmatch: {path_prefix: /api}\nsplit: [{service: api, version: v1}]\n---\n" \
           + to_yaml({"name": "api2", "endpoints": [{"address": backend.address}]})
    p = ctl(proxy, "apply", "-f", "-", stdin=docs)
    assert p.returncode == 0, err(p)
    assert [ln.split(" (")[0] for ln in out(p).splitlines()] == [
        "service/api2 created", "route/r1 created"]
    assert requests.get(proxy.url("/api/x"), timeout=5).status_code == 200


def test_apply_keeps_objects_not_in_the_file_unless_replace(proxy, backend, tmp_path):
    first = tmp_path / "first.yaml"
    first.write_text(to_yaml({"services": [service("a", endpoint(backend))],
                              "routes": [route("ra", "a", match={"path_prefix": "/a"})]}))
    second = tmp_path / "second.yaml"
    second.write_text(to_yaml({"services": [service("b", endpoint(backend))],
                               "routes": [route("rb", "b", match={"path_prefix": "/b"})]}))
    assert ctl(proxy, "apply", "-f", first).returncode == 0
    assert ctl(proxy, "apply", "-f", second).returncode == 0
    names = [r[0] for r in table(out(ctl(proxy, "get", "services")))[1:]]
    assert names == ["a", "b"]

    p = ctl(proxy, "apply", "--replace", "-f", second)
    assert p.returncode == 0, err(p)
    assert re.fullmatch(r"configuration replaced \(revision \d+\)\n", out(p))
    names = [r[0] for r in table(out(ctl(proxy, "get", "services")))[1:]]
    assert names == ["b"]
    kinds = [r[2] for r in table(out(ctl(proxy, "changes")))[1:]]
    assert kinds[-1] == "replace_all"


def test_lists_page_past_one_thousand(proxy, backend, tmp_path):
    n = 1205
    config = {"services": [service("s", endpoint(backend))],
              "routes": [route(f"r{i:04d}", "s", match={"path_prefix": f"/p{i}"})
                         for i in range(n)]}
    f = tmp_path / "many.json"
    f.write_text(json.dumps(config))
    p = ctl(proxy, "apply", "--replace", "-f", f)
    assert p.returncode == 0, err(p)
    p = ctl(proxy, "get", "routes")
    assert p.returncode == 0, err(p)
    ids = [r[0] for r in table(out(p))[1:]]
    assert sorted(ids) == [f"r{i:04d}" for i in range(n)]
    p = ctl(proxy, "get", "routes", "-o", "json")
    assert len(json.loads(out(p))["routes"]) == n


def test_server_errors_exit_1_with_field(proxy, backend, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(to_yaml(route("bad", "nope")))
    p = ctl(proxy, "apply", "-f", bad)
    assert p.returncode == 1
    assert re.search(r"^error: route/bad: split\[0\]\.service: .*nope.* \(400\)$", err(p), re.M), \
        err(p)
    assert out(p) == ""

    p = ctl(proxy, "delete", "route", "ghost")
    assert p.returncode == 1
    assert re.search(r"^error: route/ghost: .*\(404\)$", err(p), re.M), err(p)
    p = ctl(proxy, "get", "service", "ghost")
    assert p.returncode == 1 and "(404)" in err(p)

    # A service still used by a route cannot go: 409, and the route is named.
    ok = tmp_path / "ok.yaml"
    ok.write_text(to_yaml({"services": [service("used", endpoint(backend))],
                           "routes": [route("user", "used")]}))
    assert ctl(proxy, "apply", "-f", ok).returncode == 0
    p = ctl(proxy, "delete", "service", "used")
    assert p.returncode == 1
    assert "(409)" in err(p) and "user" in err(p), err(p)


def test_bad_files_exit_1_without_calling(proxy, tmp_path):
    before = out(ctl(proxy, "changes"))
    syntax = tmp_path / "syntax.yaml"
    syntax.write_text("name: a\nendpoints: [\n")
    p = ctl(proxy, "apply", "-f", syntax)
    assert p.returncode == 1 and "line " in err(p), err(p)
    p = ctl(proxy, "apply", "-f", tmp_path / "missing.yaml")
    assert p.returncode == 1 and "cannot read" in err(p), err(p)
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("colour: red\n")
    p = ctl(proxy, "apply", "-f", unknown)
    assert p.returncode == 1 and "cannot tell" in err(p), err(p)
    assert out(ctl(proxy, "changes")) == before  # nothing was written


@pytest.mark.parametrize("args", [
    [], ["frobnicate"], ["get"], ["get", "listeners"], ["apply"], ["delete", "route"],
    ["get", "services", "-o", "xml"], ["get", "services", "--bogus"], ["changes", "--since", "x"],
])
def test_bad_usage_exits_2(proxy, args):
    p = ctl(proxy, *args)
    assert p.returncode == 2, (args, out(p), err(p))
    assert "usage: turnout ctl" in err(p)
    assert out(p) == ""


def test_help_exits_0(proxy):
    p = ctl(proxy, "--help")
    assert p.returncode == 0 and "usage: turnout ctl" in out(p)


def test_connection_refused(turnout_bin, dead_port):
    p = subprocess.run([turnout_bin, "ctl", "--admin", f"{LOCALHOST}:{dead_port}", "get",
                        "services"], capture_output=True, timeout=CTL_TIMEOUT, env=clean_env())
    assert p.returncode == 1
    assert f"cannot connect to the admin API at {LOCALHOST}:{dead_port}" in err(p), err(p)


def test_admin_address_and_token_from_environment(turnout_factory):
    t = turnout_factory(extra=["--admin-token", "s3cret"])
    p = ctl(t, "get", "services")
    assert p.returncode == 1 and "401" in err(p), err(p)
    p = ctl(t, "get", "services", "--token", "s3cret")
    assert p.returncode == 0, err(p)
    env = clean_env(TURNOUT_ADMIN=f"{LOCALHOST}:{t.admin_port}", TURNOUT_ADMIN_TOKEN="s3cret")
    p = ctl(t, "get", "routes", env=env, admin=False)
    assert p.returncode == 0, err(p)
    assert table(out(p))[0] == ["ID", "PRIORITY", "HOST", "PATH", "SPLIT"]
