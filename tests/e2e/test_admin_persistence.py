"""Admin API persistence (docs/admin-api.md "The configuration file and the store"):
restarts, config-file precedence, crash safety under kill -9, concurrent writers."""
import threading
import time

from harness import (
    RawClient,
    closed_port,
    assert_subset,
    describe,
    endpoint,
    etag_revision,
    item_of,
    route,
    service,
)


def _who(port, path="/echo"):
    with RawClient(port) as c:
        r = c.request("GET", path)
    return r.status, r.header("X-Backend")


def _changes(api, since=0):
    out, pages = [], 0
    while since is not None and pages < 20:
        doc = api.ok("GET", f"/v1/changes?since={since}", expect=200)
        out += doc["changes"]
        since = doc.get("next_since")
        pages += 1
    return out


def _keyed(items, key):
    return {i[key]: i for i in items}


def _shows_exactly(doc, cfg):
    for kind, key in (("services", "name"), ("routes", "id")):
        got, want = _keyed(doc[kind], key), _keyed(cfg[kind], key)
        assert set(got) == set(want), (kind, sorted(got), sorted(want))
        assert_subset(want, got, kind)


# --------------------------------------------------------------------------------------------
def test_api_changes_survive_restart(admin_factory, backend_factory):
    a, b = backend_factory("a"), backend_factory("b")
    t = admin_factory()
    api = t.api()
    api.ok("POST", "/v1/services", json=service("a", endpoint(a)), expect=201)
    api.ok("PUT", "/v1/services/b", json=service("b", endpoint(b, "v1")), expect=201)
    api.ok("PUT", "/v1/services/a/endpoints", json=[endpoint(a, "v1", 3), endpoint(f"127.0.0.1:{closed_port()}", "v2", 1)],
           expect=200)
    api.ok("PUT", "/v1/routes/r1", json=route("r1", {"service": "a", "version": "v1"},
                                              match={"path_prefix": "/a"}), expect=201)
    api.ok("PUT", "/v1/routes/r2", json=route("r2", "b", match={"path_prefix": "/b"}), expect=201)
    api.ok("POST", "/v1/routes", json=route("r3", "b", match={"path_prefix": "/gone"}), expect=201)
    api.ok("DELETE", "/v1/routes/r3", expect=200)
    api.ok("PUT", "/v1/routes/r1", json=route("r1", {"service": "a", "version": "v1"},
                                              match={"path_prefix": "/a"},
                                              strip_prefix=True, priority=7), expect=200)
    before = api.config()
    log_before = _changes(api)
    assert before["revision"] == log_before[-1]["revision"]

    for kill in (False, True):  # SIGTERM, then SIGKILL
        t.restart(kill=kill)
        api = t.api()
        after = api.config()
        assert after == before, f"after restart (kill={kill}):\n{after}\n!=\n{before}"
        assert _changes(api) == log_before
        assert _who(t.port, "/a/echo") == (200, "a")
        assert _who(t.port, "/b/echo") == (200, "b")
        assert _who(t.port, "/gone/echo")[0] == 404
        assert a.last().target == "/echo"  # strip_prefix survived

    r = api.put("/v1/routes/r4", json=route("r4", "a", match={"path_prefix": "/four"}))
    assert r.status_code == 201 and r.json()["revision"] == before["revision"] + 1, describe(r)


def test_config_file_precedence(admin_factory, backend_factory):
    a, b = backend_factory("a"), backend_factory("b")
    f1 = {"services": [service("s", endpoint(a))], "routes": [route("r", "s")]}
    f2 = {"services": [service("s", endpoint(b)), service("t", endpoint(a))],
          "routes": [route("r", "s"), route("f2", "t", match={"path_prefix": "/f2"})]}

    # 1) an empty store is seeded from the file: one change, source config-file
    t = admin_factory(config=f1)
    api = t.api()
    doc = api.config()
    _shows_exactly(doc, f1)
    log = _changes(api)
    assert len(log) == 1 and log[0]["source"] == "config-file", log
    assert log[0]["revision"] == doc["revision"]
    assert _who(t.port) == (200, "a")

    # 2) an API change, then a restart with the unchanged file: the change stands
    api.ok("PUT", "/v1/routes/extra", json=route("extra", "s", match={"path_prefix": "/x"},
                                                 priority=1), expect=201)
    api.ok("PUT", "/v1/services/b", json=service("b", endpoint(b)), expect=201)
    api.ok("PUT", "/v1/routes/r", json=route("r", "b"), expect=200)
    before = api.config()
    t.restart(config=f1)
    api = t.api()
    assert api.config() == before, "an unchanged config file overwrote API changes"
    assert len(_changes(api)) == len(log) + 3
    assert _who(t.port) == (200, "b")

    # 3) a changed file wins once, as one replace_all change with source config-file
    t.restart(config=f2)
    api = t.api()
    doc = api.config()
    _shows_exactly(doc, f2)
    assert doc["revision"] == before["revision"] + 1
    log = _changes(api)
    assert log[-1]["revision"] == doc["revision"]
    assert log[-1]["kind"] == "replace_all" and log[-1]["source"] == "config-file", log[-1]
    assert [c["source"] for c in log[-4:-1]] == ["api"] * 3
    assert _who(t.port) == (200, "b")
    assert _who(t.port, "/f2/echo") == (200, "a")

    # 4) ... and only once: API changes made after it survive restarts with the same file
    api.ok("PUT", "/v1/routes/after", json=route("after", "t", match={"path_prefix": "/after"}),
           expect=201)
    before = api.config()
    t.restart(config=f2)
    api = t.api()
    assert api.config() == before
    assert _who(t.port, "/after/echo") == (200, "a")

    # 5) no --config at all: the store alone
    t.restart(config=None)
    api = t.api()
    assert api.config() == before

    # 6) the first file again differs from the last one applied: applied once more
    t.restart(config=f1)
    api = t.api()
    doc = api.config()
    _shows_exactly(doc, f1)
    assert doc["revision"] == before["revision"] + 1
    last = _changes(api, since=before["revision"])
    assert [(c["kind"], c["source"]) for c in last] == [("replace_all", "config-file")], last
    t.restart(config=f1)
    assert t.api().config() == doc


def test_crash_safety_200_acknowledged_writes(admin_factory, backend):
    cfg = {"services": [service("s", endpoint(backend))], "routes": []}
    t = admin_factory(config=cfg)
    api = t.api()
    rev0 = api.revision()
    n = 200
    deadline = time.monotonic() + 60
    last_rev = None
    for i in range(n):
        assert time.monotonic() < deadline, f"only {i} writes in 60 s"
        r = api.put(f"/v1/routes/r{i}", json=route(f"r{i}", "s", match={"path_prefix": f"/r{i}/"}))
        if i == n - 1:
            t.proc.kill()  # SIGKILL right after the 200th answer
        assert r.status_code == 201, describe(r)
        last_rev = r.json()["revision"]
        assert last_rev == rev0 + i + 1
    t.kill()
    assert t.proc.returncode == -9, t.proc.returncode

    t.restart(config=cfg)
    api = t.api()
    doc = api.config()
    assert doc["revision"] == last_rev, (doc["revision"], last_rev)
    routes = _keyed(doc["routes"], "id")
    missing = [f"r{i}" for i in range(n) if f"r{i}" not in routes]
    assert not missing, f"{len(missing)} acknowledged writes lost: {missing[:10]}..."
    for i in range(n):
        assert routes[f"r{i}"]["match"]["path_prefix"] == f"/r{i}/"
    assert _who(t.port, f"/r{n - 1}/echo") == (200, "b1")
    log = _changes(api, since=rev0)
    assert [c["revision"] for c in log] == list(range(rev0 + 1, last_rev + 1))


def _race(fns, timeout=30.0):
    """Runs every fn in its own thread, released together; returns their results."""
    barrier = threading.Barrier(len(fns), timeout=timeout)
    out = [None] * len(fns)

    def run(i, fn):
        try:
            barrier.wait()
            out[i] = fn()
        except Exception as e:  # noqa: BLE001 - reported by the caller
            out[i] = e

    threads = [threading.Thread(target=run, args=(i, fn), daemon=True) for i, fn in enumerate(fns)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout)
        assert not th.is_alive(), "a writer did not finish"
    return out


def test_two_writers_same_if_match_exactly_one_wins(admin_factory, backend_factory):
    a, b = backend_factory("a"), backend_factory("b")
    t = admin_factory(config={"services": [service("s", endpoint(a))], "routes": []})
    w1, w2 = t.api(), t.api()
    check = t.api()
    for rnd in range(20):
        rev = check.revision()
        if rnd % 2 == 0:  # two different new objects
            ra, rb = _race([
                lambda: w1.put(f"/v1/routes/w{rnd}a", json=route(f"w{rnd}a", "s"),
                               if_match=f'"{rev}"'),
                lambda: w2.post("/v1/routes", json=route(f"w{rnd}b", "s"),
                                if_match=f'"{rev}"'),
            ])
            want_ok = 201
        else:  # the same object, two versions
            ra, rb = _race([
                lambda: w1.put("/v1/services/s", json=service("s", endpoint(a)),
                               if_match=f'"{rev}"'),
                lambda: w2.put("/v1/services/s", json=service("s", endpoint(b)),
                               if_match=f'"{rev}"'),
            ])
            want_ok = 200
        for r in (ra, rb):
            assert not isinstance(r, Exception), f"round {rnd}: {r!r}"
        codes = sorted([ra.status_code, rb.status_code])
        assert codes == sorted([want_ok, 412]), \
            f"round {rnd}: {describe(ra)} / {describe(rb)}"
        win, lose = (ra, rb) if ra.status_code == want_ok else (rb, ra)
        assert win.json()["revision"] == rev + 1 == etag_revision(win)
        assert etag_revision(lose) == rev + 1, describe(lose)  # it lost because rev moved
        doc = check.config()
        assert doc["revision"] == rev + 1, f"round {rnd}: revision {doc['revision']}, want {rev + 1}"
        if rnd % 2 == 0:
            ids = {x["id"] for x in doc["routes"]}
            assert (f"w{rnd}a" in ids) != (f"w{rnd}b" in ids), ids
            winner_id = f"w{rnd}a" if win is ra else f"w{rnd}b"
            assert winner_id in ids
        else:
            got = item_of(check.ok("GET", "/v1/services/s", expect=200), "service")
            assert got["endpoints"] == win.json()["service"]["endpoints"]
            assert got["endpoints"][0]["address"] == (a if win is ra else b).address


def test_concurrent_writers_are_serialized(admin_factory, backend):
    t = admin_factory(config={"services": [service("s", endpoint(backend))], "routes": []})
    api = t.api()
    rev0 = api.revision()
    writers, per = 4, 25
    clients = [t.api() for _ in range(writers)]

    def writer(k):
        def run():
            codes = []
            for i in range(per):
                r = clients[k].put(f"/v1/routes/c{k}-{i}",
                                   json=route(f"c{k}-{i}", "s", match={"path_prefix": f"/c{k}/{i}/"}))
                codes.append((r.status_code, r.json().get("revision")))
            return codes
        return run

    results = _race([writer(k) for k in range(writers)], timeout=60)
    revs = []
    for res in results:
        assert not isinstance(res, Exception), repr(res)
        assert all(code == 201 for code, _ in res), res
        revs += [rv for _, rv in res]
    assert sorted(revs) == list(range(rev0 + 1, rev0 + 1 + writers * per)), "revisions not unique"
    doc = api.config()
    assert doc["revision"] == rev0 + writers * per
    assert len(doc["routes"]) == writers * per
    log = _changes(api, since=rev0)
    assert [c["revision"] for c in log] == list(range(rev0 + 1, rev0 + 1 + writers * per))
