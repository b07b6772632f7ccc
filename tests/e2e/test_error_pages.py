"""turnout's own answers (400, 404, 413, 414, 431, 502, 503, 504): a small page in HTML, or
JSON when Accept asks for it, with the status, a one-line reason and the request id; and a
listener's own pages from files (error_pages), validated like any configuration."""
from __future__ import annotations

import json
import subprocess

import pytest

from harness import LOCALHOST, RawClient, closed_port


def _config(backend_address: str, error_pages=None) -> dict:
    listener = {"name": "public", "address": f"{LOCALHOST}:0"}
    if error_pages:
        listener["error_pages"] = error_pages
    return {
        "listeners": [listener],
        "services": [
            {"name": "up", "endpoints": [{"address": backend_address}]},
            {"name": "down", "endpoints": [{"address": f"{LOCALHOST}:{closed_port()}"}]},
            {"name": "empty", "endpoints": []},
        ],
        "routes": [
            {"id": "up", "match": {"path_prefix": "/up/"}, "split": [{"service": "up"}]},
            {"id": "slow", "match": {"path_prefix": "/slow"}, "timeout_ms": 200,
             "split": [{"service": "up"}]},
            {"id": "down", "match": {"path_prefix": "/down/"}, "split": [{"service": "down"}]},
            {"id": "empty", "match": {"path_prefix": "/empty/"}, "split": [{"service": "empty"}]},
        ],
    }


# status -> raw request bytes that produce it (Accept is inserted after the request line).
def _requests() -> dict:
    return {
        400: b"GET /up/x HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        404: b"GET /nowhere HTTP/1.1\r\nHost: a\r\n\r\n",
        413: b"POST /up/x HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n" + b"x" * 100,
        414: b"GET /up/" + b"a" * 9000 + b" HTTP/1.1\r\nHost: a\r\n\r\n",
        431: b"GET /up/x HTTP/1.1\r\nHost: a\r\nX-Big: " + b"b" * 70000 + b"\r\n\r\n",
        502: b"GET /down/x HTTP/1.1\r\nHost: a\r\n\r\n",
        503: b"GET /empty/x HTTP/1.1\r\nHost: a\r\n\r\n",
        504: b"GET /slow?ms=2000 HTTP/1.1\r\nHost: a\r\n\r\n",
    }


def _with_accept(raw: bytes, accept: str) -> bytes:
    line_end = raw.index(b"\r\n") + 2
    return raw[:line_end] + f"Accept: {accept}\r\n".encode() + raw[line_end:]


def _ask(t, raw: bytes):
    with RawClient(t.port, timeout=5) as c:
        c.send(raw)
        return c.read_response()


@pytest.fixture
def proxy(turnout_factory, backend):
    return turnout_factory(config=_config(backend.address),
                           extra=["--max-request-body", "10"])


@pytest.mark.parametrize("status", [400, 404, 413, 414, 431, 502, 503, 504])
def test_every_page_in_html_and_json(proxy, status):
    raw = _requests()[status]
    r = _ask(proxy, _with_accept(raw, "text/html"))
    assert r.status == status, r
    request_id = r.header("X-Request-Id")
    assert request_id
    body = r.body.decode()
    assert r.header("Content-Type").startswith("text/html")
    assert f"<h1>{status} " in body and request_id in body, body
    r = _ask(proxy, _with_accept(raw, "application/json"))
    assert r.status == status and r.header("Content-Type") == "application/json", r
    err = json.loads(r.body)["error"]
    assert err["status"] == status and err["request_id"] == r.header("X-Request-Id")
    assert err["reason"] and "\n" not in err["reason"]


def test_listener_pages_from_files(turnout_factory, backend, tmp_path):
    page = tmp_path / "404.html"
    page.write_text("<html><p>lost: {{status}} {{reason}} id={{request_id}}</p></html>")
    bad_gateway = tmp_path / "502.html"
    bad_gateway.write_text("<html>our backends are resting ({{status}})</html>")
    t = turnout_factory(config=_config(backend.address, {"404": str(page),
                                                         "502": str(bad_gateway)}))
    r = _ask(t, _requests()[404])
    body = r.body.decode()
    assert r.status == 404 and body.startswith("<html><p>lost: 404 no route"), body
    assert f"id={r.header('X-Request-Id')}" in body
    r = _ask(t, _requests()[502])
    assert (r.status, r.body.decode()) == (502, "<html>our backends are resting (502)</html>")
    # JSON clients keep the JSON answer; statuses without a file keep the built-in page.
    r = _ask(t, _with_accept(_requests()[404], "application/json"))
    assert json.loads(r.body)["error"]["status"] == 404
    r = _ask(t, _requests()[503])
    assert r.status == 503 and "<h1>503 Service Unavailable</h1>" in r.body.decode()
    # A malformed request on that listener gets its page too (the 400 has no file: built-in).
    r = _ask(t, _requests()[400])
    assert r.status == 400 and "<h1>400 Bad Request</h1>" in r.body.decode()


def test_error_pages_are_validated(turnout_bin, tmp_path):
    big = tmp_path / "big.html"
    big.write_bytes(b"x" * (64 * 1024 + 1))
    ok = tmp_path / "ok.html"
    ok.write_text("fine")
    cases = [
        ({"418": str(ok)}, "listeners[0].error_pages.418: must be one of 400, 404, 413, 414, "
                           "431, 502, 503, 504"),
        ({"404": str(tmp_path / "missing.html")}, "listeners[0].error_pages.404: cannot read"),
        ({"404": str(big)}, "listeners[0].error_pages.404: "),
        ({"404": ""}, "listeners[0].error_pages.404: must be a file path"),
    ]
    for pages, wanted in cases:
        config = tmp_path / "c.json"
        config.write_text(json.dumps({"listeners": [{"name": "l", "address": "127.0.0.1:0",
                                                      "error_pages": pages}]}))
        proc = subprocess.run([turnout_bin, "check", "--config", str(config)],
                              capture_output=True, text=True, timeout=10)
        assert proc.returncode == 1, (pages, proc.stdout, proc.stderr)
        assert wanted in proc.stdout + proc.stderr, (pages, proc.stdout, proc.stderr)
