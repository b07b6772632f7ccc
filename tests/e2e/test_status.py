"""GET /v1/status: uptime, revision, workers, readiness and every endpoint as the data plane runs
it (DNS names with their addresses are covered in test_dns_backends.py's fixtures)."""
from __future__ import annotations

import time


def test_status_reports_the_running_state(admin_factory, backend):
    config = {"services": [{"name": "web", "lb": "random",
                            "endpoints": [{"address": backend.address, "version": "v1"}]}],
              "routes": [{"id": "web", "split": [{"service": "web"}]}]}
    t = admin_factory(config=config, workers=3, extra=["--identity", "front:v2"])
    api = t.api()
    first = api.get("/v1/status")
    assert first.status_code == 200, first.text
    status = first.json()
    assert status["status"] == "ready"
    assert status["workers"] == 3
    assert status["identity"] == "front:v2"
    assert status["last_change_propagated"] is True
    assert status["revision"] == api.config()["revision"]
    assert 0 <= status["uptime_s"] < 60
    assert abs(status["started_at_ms"] / 1000 - time.time()) < 60
    assert status["services"] == [{
        "name": "web", "lb": "random",
        "endpoints": [{"address": backend.address, "version": "v1", "weight": 1,
                       "health": "unchecked"}]}]
    time.sleep(0.2)
    later = api.get("/v1/status").json()
    assert later["uptime_s"] > status["uptime_s"]
    # A change shows at once.
    r = api.put("/v1/services/web/endpoints", json=[{"address": backend.address, "weight": 7}])
    assert r.status_code == 200, r.text
    after = api.get("/v1/status").json()
    assert after["revision"] == status["revision"] + 1
    assert after["services"][0]["endpoints"][0]["weight"] == 7
    assert api.post("/v1/status", json={}).status_code == 405
