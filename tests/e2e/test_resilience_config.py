"""Resilience settings in the configuration model (health_check, outlier, circuit_breakers, hash,
panic_threshold_percent, slow_start_ms, the ring_hash / maglev / ewma balancers, route
retries): accepted and shown back by the admin API, refused with a 400 naming the field and
changing nothing when wrong, reported by `turnout check` as FILE:LINE: field: message, and kept
by the store across restarts. Their runtime lands with issue 8; here only the model is tested,
plus the fact that a service using them still serves. Loopback only; every loop is bounded.
"""
import copy
import re

from harness import (
    RawClient,
    api_error,
    assert_subset,
    endpoint,
    item_of,
    route,
    run_cli,
    service,
    to_yaml,
)


def _full_service(b1, b2):
    """A service spelling every resilience field (and every field of its endpoints), so that
    its GET answer must equal it exactly."""
    return {
        "name": "reviews",
        "lb": "ring_hash",
        "endpoints": [{"address": b1.address, "version": "v1", "weight": 1},
                      {"address": b2.address, "version": "v1", "weight": 2}],
        "health_check": {"type": "http", "path": "/ready", "host": "reviews.internal",
                         "expected_statuses": ["200-299", 304], "interval_ms": 5000,
                         "timeout_ms": 500, "jitter_ms": 250, "healthy": 3, "unhealthy": 2},
        "outlier": {"consecutive_5xx": 0, "consecutive_gateway_failure": 3,
                    "consecutive_connect_failure": 2, "base_ejection_ms": 60000,
                    "max_ejection_ms": 60000, "max_ejection_percent": 100},
        "circuit_breakers": {"max_connections": 100, "max_pending": 50, "max_requests": 200,
                             "retry_budget_percent": 25, "min_retry_concurrency": 5},
        "hash": {"header": "x-user"},
        "panic_threshold_percent": 30,
        "slow_start_ms": 10000,
    }


def _full_retries():
    return {"attempts": 3, "on": ["connect-failure", "gateway-error", "retriable-status"],
            "statuses": [429, 503], "per_try_timeout_ms": 2000, "backoff_base_ms": 10,
            "backoff_max_ms": 1000, "non_idempotent": True}


def _full_route():
    r = route("reviews", "reviews", match={"path_prefix": "/"}, timeout_ms=5000)
    r["retries"] = _full_retries()
    return r


def _serves(t, want_backends):
    with RawClient(t.port, timeout=5) as c:
        r = c.request("GET", "/echo", headers={"X-User": "jason"})
    assert r.status == 200 and r.header("X-Backend") in want_backends, r


def _shows_full(api, svc, rt):
    got_service = item_of(api.ok("GET", "/v1/services/reviews", expect=200), "service")
    assert got_service == svc, f"service:\nwant={svc}\ngot ={got_service}"
    got_route = item_of(api.ok("GET", "/v1/routes/reviews", expect=200), "route")
    assert_subset(rt, got_route)
    assert got_route["retries"] == rt["retries"], got_route
    return got_service, got_route


# --------------------------------------------------------------------------------------------
# Admin API round trip and the store across restarts
# --------------------------------------------------------------------------------------------
def test_every_resilience_field_round_trips_and_survives_restart(admin_factory, backend_factory):
    b1, b2 = backend_factory("b1"), backend_factory("b2")
    t = admin_factory()
    api = t.api()
    svc, rt = _full_service(b1, b2), _full_route()
    put = api.ok("PUT", "/v1/services/reviews", json=svc, expect=201)
    assert put["service"] == svc, put
    api.ok("PUT", "/v1/routes/reviews", json=rt, expect=201)
    got_service, got_route = _shows_full(api, svc, rt)
    doc = api.config()
    assert doc["services"] == [svc], doc
    # The GET answers are valid bodies that change nothing but the revision.
    assert api.ok("PUT", "/v1/services/reviews", json=got_service, expect=200)["service"] == svc
    assert api.ok("PUT", "/v1/routes/reviews", json=got_route, expect=200)["route"] == got_route
    _serves(t, {"b1", "b2"})
    before = api.config()

    for kill in (False, True):  # SIGTERM, then SIGKILL
        t.restart(kill=kill)
        api = t.api()
        after = api.config()
        assert after == before, f"after restart (kill={kill}):\n{after}\n!=\n{before}"
        _shows_full(api, svc, rt)
        _serves(t, {"b1", "b2"})


def test_config_file_with_resilience_fields_is_stored_and_kept(admin_factory, backend_factory):
    b1, b2 = backend_factory("b1"), backend_factory("b2")
    svc, rt = _full_service(b1, b2), _full_route()
    t = admin_factory(config={"services": [svc], "routes": [rt]})
    api = t.api()
    _shows_full(api, svc, rt)
    before = api.config()
    t.restart()
    api = t.api()
    assert api.config() == before
    _shows_full(api, svc, rt)
    _serves(t, {"b1", "b2"})


def test_defaults_are_not_written_back(admin_factory, backend):
    """Objects that do not use the new fields read back exactly as before they existed."""
    t = admin_factory()
    api = t.api()
    api.ok("PUT", "/v1/services/plain", json=service("plain", endpoint(backend)), expect=201)
    got = item_of(api.ok("GET", "/v1/services/plain", expect=200), "service")
    assert set(got) == {"name", "lb", "endpoints"}, got
    # Blocks spelling their defaults are defaults: not written back either.
    body = service("plain", endpoint(backend))
    body.update({"health_check": {}, "outlier": {"consecutive_5xx": 5},
                 "circuit_breakers": {"max_requests": 1024}, "hash": {},
                 "panic_threshold_percent": 50, "slow_start_ms": 0})
    api.ok("PUT", "/v1/services/plain", json=body, expect=200)
    got = item_of(api.ok("GET", "/v1/services/plain", expect=200), "service")
    assert set(got) == {"name", "lb", "endpoints"}, got
    r = route("plain", "plain")
    r["retries"] = {"attempts": 0}
    api.ok("PUT", "/v1/routes/plain", json=r, expect=201)
    got = item_of(api.ok("GET", "/v1/routes/plain", expect=200), "route")
    assert "retries" not in got, got


# --------------------------------------------------------------------------------------------
# 400s: field path, message, nothing changed
# --------------------------------------------------------------------------------------------
def _bad_services(b1, b2):
    """(name, service body, field of the error, a piece of its message)."""
    def with_(path, value):
        body = _full_service(b1, b2)
        target = body
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        return body

    hc, ol = "health_check", "outlier"
    return [
        ("hc-type", with_((hc, "type"), "grpc"), "health_check.type",
         "must be one of: http, tcp"),
        ("hc-path", with_((hc, "path"), "ready"), "health_check.path", "starting with '/'"),
        ("hc-interval", with_((hc, "interval_ms"), 50), "health_check.interval_ms",
         "between 100 and 3600000"),
        ("hc-timeout", with_((hc, "timeout_ms"), 5000), "health_check.timeout_ms",
         "below interval_ms (5000)"),
        ("hc-jitter", with_((hc, "jitter_ms"), 6000), "health_check.jitter_ms",
         "must not exceed interval_ms (5000)"),
        ("hc-healthy", with_((hc, "healthy"), 0), "health_check.healthy", "between 1 and 100"),
        ("hc-unhealthy", with_((hc, "unhealthy"), 101), "health_check.unhealthy",
         "between 1 and 100"),
        ("hc-status", with_((hc, "expected_statuses"), [200, 600]),
         "health_check.expected_statuses[1]", "\"LO-HI\""),
        ("hc-range-backwards", with_((hc, "expected_statuses"), ["299-200"]),
         "health_check.expected_statuses[0]", "LO <= HI"),
        ("hc-unknown", with_((hc, "interval"), 5), "health_check.interval", "unknown field"),
        ("hc-type-wrong", with_((hc, "interval_ms"), "5000"), "health_check.interval_ms",
         "must be an integer"),
        ("ol-percent", with_((ol, "max_ejection_percent"), 101), "outlier.max_ejection_percent",
         "between 0 and 100"),
        ("ol-base", with_((ol, "base_ejection_ms"), 0), "outlier.base_ejection_ms",
         "at least 1"),
        ("ol-max", with_((ol, "max_ejection_ms"), 1000), "outlier.max_ejection_ms",
         "at least base_ejection_ms (60000)"),
        ("cb-zero", with_(("circuit_breakers", "max_requests"), 0),
         "circuit_breakers.max_requests", "between 1 and"),
        ("cb-budget", with_(("circuit_breakers", "retry_budget_percent"), 101),
         "circuit_breakers.retry_budget_percent", "between 0 and 100"),
        ("cb-min-retries", with_(("circuit_breakers", "min_retry_concurrency"), -1),
         "circuit_breakers.min_retry_concurrency", "integer"),
        ("panic", with_(("panic_threshold_percent",), 101), "panic_threshold_percent",
         "between 0 and 100"),
        ("slow-start", with_(("slow_start_ms",), 3600001), "slow_start_ms",
         "between 0 and 3600000"),
        ("lb", with_(("lb",), "fastest"), "lb", "ring_hash, maglev, ewma"),
        ("hash-two", with_(("hash",), {"header": "x-user", "source_ip": True}), "hash",
         "only one of header, cookie or source_ip"),
        ("hash-header", with_(("hash",), {"header": "x user"}), "hash.header",
         "must be a header name"),
        ("hash-without-hashing-lb", with_(("lb",), "least_request"), "hash",
         "ring_hash or maglev"),
    ]


def _bad_routes():
    def with_(key, value):
        body = _full_route()
        body["retries"][key] = value
        return body

    return [
        ("attempts", with_("attempts", 11), "retries.attempts", "between 0 and 10"),
        ("on", with_("on", ["reset", "timeout"]), "retries.on[1]",
         "connect-failure, refused-stream, reset, gateway-error, 5xx, retriable-status"),
        ("status", with_("statuses", [700]), "retries.statuses[0]", "between 100 and 599"),
        ("retriable-without-statuses", with_("statuses", []), "retries.statuses",
         "retriable-status"),
        ("per-try", with_("per_try_timeout_ms", 5001), "retries.per_try_timeout_ms",
         "timeout_ms (5000)"),
        ("backoff-base", with_("backoff_base_ms", 0), "retries.backoff_base_ms",
         "between 1 and 3600000"),
        ("backoff-max", with_("backoff_max_ms", 5), "retries.backoff_max_ms",
         "at least backoff_base_ms (10)"),
        ("unknown", with_("retry_on", "5xx"), "retries.retry_on", "unknown field"),
    ]


def _expect_400(api, method, path, body, field, message, failures, name):
    r = api.request(method, path, json=body)
    try:
        err = api_error(r, 400, field=field)
        assert message in err["message"], f"message {err['message']!r} lacks {message!r}"
    except AssertionError as e:
        failures.append(f"{name}: {e}")


def test_bad_resilience_fields_are_400_with_field_and_change_nothing(admin_factory,
                                                                      backend_factory):
    b1, b2 = backend_factory("b1"), backend_factory("b2")
    svc, rt = _full_service(b1, b2), _full_route()
    t = admin_factory(config={"services": [svc], "routes": [rt]})
    api = t.api()
    before = api.config()
    failures = []
    for name, body, field, message in _bad_services(b1, b2):
        _expect_400(api, "PUT", "/v1/services/reviews", body, field, message, failures, name)
        fresh = dict(copy.deepcopy(body), name="fresh")
        _expect_400(api, "POST", "/v1/services", fresh, field, message, failures, name + "/new")
    for name, body, field, message in _bad_routes():
        _expect_400(api, "PUT", "/v1/routes/reviews", body, field, message, failures, name)
    # A whole document names the field from its root.
    doc = {"services": [_bad_services(b1, b2)[0][1]], "routes": [rt]}
    _expect_400(api, "PUT", "/v1/config", doc, "services[0].health_check.type", "http, tcp",
                failures, "document")
    assert not failures, "\n".join(failures)
    assert api.config() == before
    api_error(api.get("/v1/services/fresh"), 404)
    _serves(t, {"b1", "b2"})


# --------------------------------------------------------------------------------------------
# turnout check
# --------------------------------------------------------------------------------------------
BAD_FILE = """\
services:
  - name: reviews
    lb: round_robin
    endpoints:
      - address: "127.0.0.1:9101"
    health_check:
      type: http
      path: healthz
      interval_ms: 1000
      timeout_ms: 1000
      expected_statuses: [200, 2xx]
    outlier:
      base_ejection_ms: 60000
      max_ejection_ms: 1000
    circuit_breakers: {max_pending: 0}
    hash: {cookie: session}
    panic_threshold_percent: 150
routes:
  - id: reviews
    split: [{service: reviews}]
    timeout_ms: 1000
    retries:
      attempts: 2
      on: [reset, sometimes]
      per_try_timeout_ms: 2000
      backoff_max_ms: 1
"""

BAD_FILE_ERRORS = [
    (8, "services[0].health_check.path", "must be a path starting with '/'"),
    (10, "services[0].health_check.timeout_ms",
     "must be at least 1 and below interval_ms (1000)"),
    (11, "services[0].health_check.expected_statuses[1]",
     "must be a status between 100 and 599, or a range \"LO-HI\" such as \"200-299\""),
    (14, "services[0].outlier.max_ejection_ms", "must be at least base_ejection_ms (60000)"),
    (15, "services[0].circuit_breakers.max_pending", "must be an integer between 1 and"),
    (16, "services[0].hash", "is read by lb ring_hash or maglev only (lb is 'round_robin')"),
    (17, "services[0].panic_threshold_percent", "must be an integer between 0 and 100"),
    (24, "routes[0].retries.on[1]", "must be one of: connect-failure, refused-stream, reset, "
                                    "gateway-error, 5xx, retriable-status"),
    (25, "routes[0].retries.per_try_timeout_ms", "must not exceed the route's timeout_ms (1000)"),
    (26, "routes[0].retries.backoff_max_ms", "must be at least backoff_base_ms (25)"),
]


def test_check_reports_resilience_errors_with_file_line_and_field(turnout_bin, tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text(BAD_FILE)
    p = run_cli(turnout_bin, ["check", "--config", str(f)])
    err = p.stderr.decode(errors="replace")
    assert p.returncode == 1, (p.returncode, err)
    for line, field, message in BAD_FILE_ERRORS:
        want = f"{f}:{line}: {field}: {message}"
        assert want in err, f"missing {want!r} in:\n{err}"
    reported = [l for l in err.splitlines() if re.match(rf"{re.escape(str(f))}:\d+: ", l)]
    assert len(reported) == len(BAD_FILE_ERRORS), "\n".join(reported)
    assert f"{f}: {len(BAD_FILE_ERRORS)} errors" in err, err


def test_check_accepts_every_resilience_field(turnout_bin, tmp_path, backend_factory):
    b1, b2 = backend_factory("b1"), backend_factory("b2")
    f = tmp_path / "good.yaml"
    f.write_text(to_yaml({"services": [_full_service(b1, b2)], "routes": [_full_route()]}))
    p = run_cli(turnout_bin, ["check", "--config", str(f)])
    assert p.returncode == 0, (f.read_text(), p.stdout, p.stderr)
    # DESIGN §1's own example lines.
    f.write_text(
        "services:\n"
        "  - name: helloworld\n"
        "    endpoints: [{address: \"127.0.0.1:9091\", version: v1}]\n"
        "    health_check: {type: http, path: /healthz, interval_ms: 2000, timeout_ms: 1000,"
        " healthy: 2, unhealthy: 3}\n"
        "    outlier: {consecutive_5xx: 5, base_ejection_ms: 30000, max_ejection_percent: 10}\n"
        "routes:\n"
        "  - id: hello\n"
        "    split: [{service: helloworld, version: v1}]\n"
        "    retries: {attempts: 2, on: [connect-failure, gateway-error],"
        " per_try_timeout_ms: 2000}\n")
    p = run_cli(turnout_bin, ["check", "--config", str(f)])
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert not re.search(r"error|unknown|not supported", p.stderr.decode(errors="replace"))
