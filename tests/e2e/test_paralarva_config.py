"""paralarva's config.yaml run as it is (`turnout run -f FILE`, `turnout check`, PUT
/v1/config), and the native `fallback:` shorthand. Backends listen on 127.0.0.1-3 only."""
import json
import re
import subprocess

import pytest

import harness
from harness import LOCALHOST, RawClient, api_error, closed_port, describe, run_cli

START_TIMEOUT_S = 10

# paralarva's tests/test_config.yaml, exactly (seed-behaviours §5.1).
TEST_CONFIG_YAML = """\
proxy:
  listen:
    address: "127.0.0.1"
    port: 8080
  services:
    - name: test-h1
      domain: h1
      hosts:
        - address: "127.0.0.1"
          port: 9200
    - name: test-h2
      domain: h2
      hosts:
        - address: "127.0.0.1"
          port: 9200
        - address: "127.0.0.2"
          port: 9200
    - name: test-h3
      domain: h3
      hosts:
        - address: "127.0.0.1"
          port: 9200
        - address: "127.0.0.2"
          port: 9200
        - address: "127.0.0.3"
          port: 9200
"""

# paralarva's config.yaml, exactly: its hosts (10.0.0.x) are never contacted here.
CONFIG_YAML = """\
proxy:
  listen:
    address: "127.0.0.1"
    port: 8080
  services:
    - name: my-service
      domain: my-service.my-company.com
      hosts:
        - address: "10.0.0.1"
          port: 9090
        - address: "10.0.0.2"
          port: 9090
"""


class LoopbackBackend(harness.Backend):
    """harness.Backend on any loopback address: 127.0.0.2 and 127.0.0.3 are real, distinct
    hosts for paralarva's test file."""

    def __init__(self, name: str, host: str):
        super().__init__(name, host=host)


@pytest.fixture
def hosts():
    """One recording backend per host address of paralarva's test file."""
    made = {ip: LoopbackBackend(f"b{ip.rsplit('.', 1)[1]}", ip)
            for ip in ("127.0.0.1", "127.0.0.2", "127.0.0.3")}
    yield made
    for b in made.values():
        b.close()


def rewrite_ports(text: str, hosts: dict, listen_port: int = 8080) -> str:
    """The seed's file with every host's port replaced by its backend's, and the listen port."""
    def host(m):
        return f'{m.group(1)}{hosts[m.group(2)].port}'

    text = re.sub(r'(- address: "([\d.]+)"\n\s+port: )9200', host, text)
    return text.replace("port: 8080", f"port: {listen_port}")


def write(tmp_path, text: str, name: str = "config.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def start_file(turnout_factory, path, *extra, workers=1):
    """`turnout run -f FILE` (the harness adds --listen 127.0.0.1:0 and a private admin)."""
    return turnout_factory(workers=workers, extra=["-f", str(path), *extra])


def ask(port: int, host: str, method="GET", target="/", body=b"", headers=None):
    with RawClient(port) as c:
        return c.request(method, target, headers=headers, body=body, host=host)


# --------------------------------------------------------------------------------------------
# paralarva's README flow through turnout
# --------------------------------------------------------------------------------------------
def test_json_documents_posted_with_host_h1_reach_its_backend_intact(turnout_factory, hosts,
                                                                     tmp_path):
    t = start_file(turnout_factory, write(tmp_path, rewrite_ports(TEST_CONFIG_YAML, hosts)))
    docs = [{"user": f"user{i}", "post_date": "2021-02-01T10:00:00", "message": "é" * i}
            for i in range(5)]
    with RawClient(t.port) as c:  # one keep-alive connection, as es clients do
        for doc in docs:
            body = json.dumps(doc).encode()
            r = c.request("POST", "/my-index/_doc/?pretty", body=body, host="h1",
                          headers={"Content-Type": "application/json"})
            assert r.status == 200, r
            assert r.header("X-Backend") == "b1"
    received = hosts["127.0.0.1"].snapshot()
    assert [json.loads(rec.body) for rec in received] == docs
    assert all(rec.target == "/my-index/_doc/?pretty" for rec in received)
    assert all(rec.header("Host") == "h1" for rec in received)
    assert hosts["127.0.0.2"].count == hosts["127.0.0.3"].count == 0


def test_host_with_port_and_other_case_round_robins_over_the_service_hosts(turnout_factory,
                                                                           hosts, tmp_path):
    t = start_file(turnout_factory, write(tmp_path, rewrite_ports(TEST_CONFIG_YAML, hosts)))
    seen = [ask(t.port, "H2:8080").header("X-Backend") for _ in range(6)]
    assert sorted(seen) == ["b1"] * 3 + ["b2"] * 3, seen
    assert seen[0] != seen[1], f"round robin alternates: {seen}"
    assert hosts["127.0.0.3"].count == 0
    seen = {ask(t.port, "h3").header("X-Backend") for _ in range(3)}
    assert seen == {"b1", "b2", "b3"}


def test_unknown_host_is_404(turnout_factory, hosts, tmp_path):
    # paralarva answered 400; turnout answers its usual 404 for a request no route matches.
    t = start_file(turnout_factory, write(tmp_path, rewrite_ports(TEST_CONFIG_YAML, hosts)))
    for host in ("h4", "h1.example", "my-service.my-company.com"):
        assert ask(t.port, host).status == 404, host
    assert sum(b.count for b in hosts.values()) == 0


def test_paralarva_way_of_starting_listens_where_the_file_says(turnout_bin, hosts, tmp_path):
    # `turnout -f FILE`, no `run`, no --listen: the listener comes from proxy.listen.
    port = closed_port()
    path = write(tmp_path, rewrite_ports(TEST_CONFIG_YAML, hosts, listen_port=port))
    proc = subprocess.Popen([turnout_bin, "-f", str(path), "--admin", f"{LOCALHOST}:0",
                             "--workers", "1", "--data-dir", str(tmp_path / "data")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line, f"no listening line: {proc.stderr.read() if proc.poll() is not None else ''}"
        assert json.loads(line)["data"] == [f"{LOCALHOST}:{port}"]
        assert ask(port, "h1").header("X-Backend") == "b1"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=START_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_dry_run_answers_without_contacting_backends(turnout_factory, hosts, tmp_path):
    t = start_file(turnout_factory, write(tmp_path, rewrite_ports(TEST_CONFIG_YAML, hosts)), "-d")
    for host in ("h1", "h2", "h3"):
        r = ask(t.port, host, "POST", "/my-index/_doc/", body=b'{"a": 1}')
        assert r.status == 200, r
        assert r.body.strip() == b"<h1>200 OK (dry-run)</h1>"
    assert sum(b.count for b in hosts.values()) == 0
    assert sum(len(b.connections) for b in hosts.values()) == 0


def test_readme_dry_run_example_with_the_seed_file_as_is(turnout_factory, tmp_path):
    t = start_file(turnout_factory, write(tmp_path, CONFIG_YAML), "-d")
    r = ask(t.port, "my-service.my-company.com")
    assert (r.status, r.body.strip()) == (200, b"<h1>200 OK (dry-run)</h1>")


def test_check_accepts_both_seed_files(turnout_bin, tmp_path):
    for name, text, counts in [("config.yaml", CONFIG_YAML, "1 listeners, 1 services, 1 routes"),
                               ("test_config.yaml", TEST_CONFIG_YAML,
                                "1 listeners, 3 services, 3 routes")]:
        path = write(tmp_path, text, name)
        p = run_cli(turnout_bin, ["check", "--config", str(path)])
        assert p.returncode == 0, p.stderr
        assert p.stdout.decode().strip() == f"{path}: ok ({counts})"


# --------------------------------------------------------------------------------------------
# Invalid files: `turnout check` names the paralarva field and its line
# --------------------------------------------------------------------------------------------
def _edit(line: int, replacement: str) -> str:
    lines = TEST_CONFIG_YAML.splitlines(keepends=True)
    lines[line - 1] = replacement
    return "".join(lines)


def _without_h1_hosts(replacement: str) -> str:
    lines = TEST_CONFIG_YAML.splitlines(keepends=True)
    return "".join(lines[:7] + [replacement] + lines[10:])


INVALID = [
    ("duplicate-domain", _edit(12, "      domain: h1\n"),
     12, "proxy.services[1].domain", "duplicate domain 'h1'"),
    ("duplicate-domain-case", _edit(19, "      domain: H2\n"),
     19, "proxy.services[2].domain", "duplicate domain 'H2'"),
    ("duplicate-name", _edit(18, "    - name: test-h1\n"),
     18, "proxy.services[2].name", "duplicate name 'test-h1'"),
    ("string-port", _edit(4, '    port: "8080"\n'),
     4, "proxy.listen.port", "must be an integer between 1 and 65535"),
    ("port-range", _edit(17, "          port: 70000\n"),
     17, "proxy.services[1].hosts[1].port", "must be an integer between 1 and 65535"),
    ("host-name-address", _edit(9, '        - address: "es0.local"\n'),
     9, "proxy.services[0].hosts[0].address",
     "must be an IP address (host names are not accepted)"),
    ("bad-ip", _edit(3, '    address: "256.0.0.1"\n'),
     3, "proxy.listen.address", "must be an IP address (host names are not accepted)"),
    ("empty-hosts", _without_h1_hosts("      hosts: []\n"),
     8, "proxy.services[0].hosts", "must not be empty"),
    ("missing-hosts", _without_h1_hosts(""),
     6, "proxy.services[0].hosts", "required"),
    ("hosts-not-mappings", _without_h1_hosts("      hosts: [0]\n"),
     8, "proxy.services[0].hosts[0]", "must be a mapping"),
    ("no-services", "proxy:\n  listen: {address: 127.0.0.1, port: 8080}\n  services: []\n",
     3, "proxy.services", "must not be empty"),
    ("no-listen", "proxy:\n" + "".join(TEST_CONFIG_YAML.splitlines(keepends=True)[4:]),
     1, "proxy.listen", "required"),
    ("domain-with-port", _edit(7, '      domain: "h1:8080"\n'),
     7, "proxy.services[0].domain", "must not include a port"),
    ("unknown-key", _edit(7, "      domain: h1\n      strategy: random\n"),
     8, "proxy.services[0].strategy", "unknown field"),
    ("mixed-with-native", TEST_CONFIG_YAML + "routes: []\n",
     27, "routes", "cannot be mixed with proxy (paralarva's format) in one document"),
]


@pytest.mark.parametrize("text,line,field,message", [v[1:] for v in INVALID],
                         ids=[v[0] for v in INVALID])
def test_check_reports_the_paralarva_field_and_line(turnout_bin, tmp_path, text, line, field,
                                                    message):
    path = write(tmp_path, text)
    p = run_cli(turnout_bin, ["check", "--config", str(path)])
    err = p.stderr.decode()
    assert p.returncode == 1, (p.stdout, err)
    assert f"{path}:{line}: {field}: {message}\n" in err, err
    assert err.endswith(f"{path}: 1 error\n"), err


def test_run_refuses_an_invalid_file_with_the_same_message(turnout_bin, tmp_path):
    path = write(tmp_path, INVALID[0][1])
    p = run_cli(turnout_bin, ["run", "-f", str(path), "--listen", f"{LOCALHOST}:0",
                              "--admin", f"{LOCALHOST}:0", "--data-dir", str(tmp_path / "d")])
    assert p.returncode == 1
    assert f"{path}:12: proxy.services[1].domain: duplicate domain 'h1'" in p.stderr.decode()


# --------------------------------------------------------------------------------------------
# The admin API takes the same document
# --------------------------------------------------------------------------------------------
def test_put_config_accepts_paralarva_json(admin_factory, hosts):
    t = admin_factory(workers=1)
    api = t.api()
    doc = {"proxy": {"listen": {"address": "127.0.0.1", "port": 8080},
                     "services": [{"name": "es0", "domain": "es0",
                                   "hosts": [{"address": "127.0.0.2",
                                              "port": hosts["127.0.0.2"].port}]}]}}
    r = api.put("/v1/config", json=doc)
    assert r.status_code == 200, describe(r)
    shown = api.config()
    assert [s["name"] for s in shown["services"]] == ["es0"]
    assert shown["routes"][0]["match"]["host"] == "es0"
    assert ask(t.port, "es0").header("X-Backend") == "b2"

    doc["proxy"]["services"].append(dict(doc["proxy"]["services"][0], name="es1"))
    api_error(api.put("/v1/config", json=doc), 400, field="proxy.services[1].domain")


# --------------------------------------------------------------------------------------------
# fallback:
# --------------------------------------------------------------------------------------------
def test_native_fallback_takes_the_hosts_no_route_matches(turnout_factory, hosts, tmp_path):
    b1, b2 = hosts["127.0.0.1"], hosts["127.0.0.2"]
    text = (f'services: [{{name: api, endpoints: [{{address: "{b1.address}"}}]}}]\n'
            f'routes: [{{id: api, match: {{host: api.example.com}}, split: [{{service: api}}]}}]\n'
            f'fallback: "{b2.address}"\n')
    t = start_file(turnout_factory, write(tmp_path, text))
    assert ask(t.port, "api.example.com").header("X-Backend") == "b1"
    for host in ("other.example.com", "h1", LOCALHOST):
        assert ask(t.port, host, target="/x?y=1").header("X-Backend") == "b2", host
    assert b2.last().target == "/x?y=1"


def test_fallback_beside_a_paralarva_file(turnout_factory, hosts, tmp_path):
    text = rewrite_ports(TEST_CONFIG_YAML, hosts) + f'fallback: "{hosts["127.0.0.3"].address}"\n'
    t = start_file(turnout_factory, write(tmp_path, text))
    assert ask(t.port, "h1").header("X-Backend") == "b1"
    assert ask(t.port, "unknown").header("X-Backend") == "b3"


def test_check_refuses_a_fallback_clash(turnout_bin, tmp_path):
    text = ('services: [{name: fallback, endpoints: [{address: "127.0.0.1:9"}]}]\n'
            'fallback: "127.0.0.1:10"\n')
    path = write(tmp_path, text)
    p = run_cli(turnout_bin, ["check", "--config", str(path)])
    assert p.returncode == 1
    assert f"{path}:2: fallback: a service named 'fallback' already exists" in p.stderr.decode()
