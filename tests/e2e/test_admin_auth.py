"""Admin API authentication (docs/admin-api.md "Auth"): --admin-token / TURNOUT_ADMIN_TOKEN,
401 with WWW-Authenticate, and the refusal to expose an unauthenticated admin API.

Only one test binds 0.0.0.0 (test_non_loopback_admin_needs_token_or_insecure); it sends
nothing to that listener."""
import pytest

from harness import (
    AdminTurnout,
    TurnoutStartError,
    api_error,
    describe,
    endpoint,
    route,
    service,
)

TOKEN = "e2e-Secret-token-0123456789"


def _cfg(backend):
    return {"services": [service("s", endpoint(backend))], "routes": [route("r", "s")]}


def _assert_401(r):
    assert r.status_code == 401, describe(r)
    if r.headers.get("Content-Type", "").startswith("application/json"):
        api_error(r, 401)  # the error envelope, when the body is JSON
    www = r.headers.get("WWW-Authenticate")
    assert www is not None and www.split()[0].lower() == "bearer", describe(r)


def _check_token_enforced(t, backend):
    good = t.api(token=TOKEN)
    before = good.config()
    wrong_tokens = [None, "", "wrong", TOKEN[:-1], TOKEN + "x", TOKEN.upper(), TOKEN[1:],
                    "x" * len(TOKEN)]
    for tok in wrong_tokens:
        api = t.api(token=tok)
        _assert_401(api.get("/v1/config"))
        _assert_401(api.get("/v1/services"))
        _assert_401(api.post("/v1/services", json=service("evil", endpoint(backend))))
        _assert_401(api.put("/v1/config", json={"services": [], "routes": []}))
        _assert_401(api.delete("/v1/routes/r"))
        _assert_401(api.get("/v1/nope"))
    # other schemes and malformed headers
    bare = t.api(token=None)
    for value in (f"Basic {TOKEN}", TOKEN, f"Bearer  {TOKEN}x", f"Token {TOKEN}", "Bearer"):
        _assert_401(bare.get("/v1/config", headers={"Authorization": value}))
    # nothing changed, the right token works
    assert good.config() == before
    r = good.post("/v1/services", json=service("ok", endpoint(backend)))
    assert r.status_code == 201, describe(r)
    r = good.get("/v1/services/ok")
    assert r.status_code == 200, describe(r)


def test_admin_token_flag(admin_factory, backend):
    t = admin_factory(config=_cfg(backend), token=TOKEN)
    _check_token_enforced(t, backend)
    # the data path does not need the token
    import requests

    r = requests.get(t.url("/echo"), timeout=5)
    assert r.status_code == 200 and r.headers["X-Backend"] == "b1"


def test_admin_token_from_environment(admin_factory, backend, monkeypatch):
    monkeypatch.setenv("TURNOUT_ADMIN_TOKEN", TOKEN)
    t = admin_factory(config=_cfg(backend))  # no --admin-token on the command line
    monkeypatch.delenv("TURNOUT_ADMIN_TOKEN")
    assert "--admin-token" not in t.command(config=None)
    _check_token_enforced(t, backend)


def test_every_call_needs_the_token_health_included(admin_factory, backend):
    """"every call needs Authorization: Bearer T": /healthz and /readyz are calls too."""
    t = admin_factory(config=_cfg(backend), token=TOKEN)
    bare, good = t.api(token=None), t.api(token=TOKEN)
    for path in ("/healthz", "/readyz", "/v1/changes?since=0", "/v1/routes/r"):
        _assert_401(bare.get(path))
        assert good.get(path).status_code == 200, path


def test_no_token_configured_needs_no_header(admin_factory, backend):
    t = admin_factory(config=_cfg(backend))
    r = t.api(token=None).get("/v1/config")
    assert r.status_code == 200, describe(r)
    # a stray Authorization header is harmless when no token is configured
    r = t.api(token="anything").get("/v1/config")
    assert r.status_code == 200, describe(r)


def test_non_loopback_admin_needs_token_or_insecure(turnout_bin, tmp_path):
    # 1) 0.0.0.0 and no token: refuses to start, non-zero, a clear message, never listening
    t = AdminTurnout(turnout_bin, tmp_path, name="refuse", admin_address="0.0.0.0:0")
    try:
        with pytest.raises(TurnoutStartError) as info:
            t.start()
        rc = t.proc.returncode
        err = t.stderr_text()
        assert rc is not None and rc > 0, f"rc={rc}: {info.value}"
        low = err.lower()
        assert "0.0.0.0" in err or "loopback" in low, err
        assert "token" in low and "admin-insecure" in low, f"message not clear: {err!r}"
        assert not any('"listening"' in ln for ln in t.stdout_lines), t.stdout_lines
    finally:
        t.kill()

    # 2) --admin-insecure: starts (nothing is sent to the 0.0.0.0 listener)
    t = AdminTurnout(turnout_bin, tmp_path, name="insecure", admin_address="0.0.0.0:0",
                     insecure=True)
    try:
        t.start()
        assert t.alive()
        assert t.listening_event["admin"].startswith("0.0.0.0:"), t.listening_event
    finally:
        t.kill()

    # 3) with a token: starts too
    t = AdminTurnout(turnout_bin, tmp_path, name="token", admin_address="0.0.0.0:0",
                     token=TOKEN)
    try:
        t.start()
        assert t.alive()
        assert t.listening_event["admin"].startswith("0.0.0.0:"), t.listening_event
    finally:
        t.kill()
