"""The dashboard at the admin listener's / : the page and its headers, GET /v1/stats, and the
page itself in headless Chromium while traffic flows (routes, splits, endpoints, live rates,
changes, the token form). Screenshots go to $TURNOUT_ARTIFACTS, else <repo>/build/test-artifacts.

The browser tests need chromium, chromedriver and python3-selenium; without them they are
skipped, unless TURNOUT_REQUIRE_BROWSER=1 (CI), which makes that a failure. Loopback only;
traffic is bounded in rate and time, and every wait is bounded.
"""
from __future__ import annotations

import collections
import os
import re
import shutil
import threading
import time
from pathlib import Path

import pytest
import requests

from harness import LOCALHOST, REPO, closed_port, describe, wait_until

TOKEN = "e2e-dashboard-token-0123456789"
CHROMEDRIVER = "/usr/bin/chromedriver"
CSP = ("default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'unsafe-inline'; "
       "connect-src 'self'; img-src data:")
DATA_TIMEOUT = 15.0


def _config(v1, v2):
    """A weighted split over two versions, and a route whose every request is aborted."""
    return {
        "services": [{"name": "shop", "lb": "round_robin",
                      "endpoints": [{"address": v1.address, "version": "v1"},
                                    {"address": v2.address, "version": "v2"}]}],
        "routes": [
            {"id": "shop", "match": {"path_prefix": "/shop"},
             "split": [{"service": "shop", "version": "v1", "weight": 80},
                       {"service": "shop", "version": "v2", "weight": 20}]},
            {"id": "broken", "match": {"path_prefix": "/broken"},
             "split": [{"service": "shop", "version": "v1"}],
             "faults": [{"abort": {"status": 503, "percent": 100}}]},
        ],
    }


class Traffic:
    """GETs to each path in turn at about `rate` per second from a background thread, for at
    most `duration` seconds (or until stop()); records every status per path."""

    def __init__(self, port: int, paths, rate: float = 30.0, duration: float = 60.0):
        self.port, self.paths, self.rate, self.duration = port, list(paths), rate, duration
        self.statuses: dict[str, collections.Counter] = {p: collections.Counter() for p in paths}
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self):
        session = requests.Session()
        deadline = time.monotonic() + self.duration
        limit = int(self.rate * self.duration)
        for i in range(limit):
            if self._stop.is_set() or time.monotonic() > deadline:
                break
            path = self.paths[i % len(self.paths)]
            try:
                r = session.get(f"http://{LOCALHOST}:{self.port}{path}", timeout=5)
                self.statuses[path][r.status_code] += 1
            except requests.RequestException as e:
                self.failures.append(f"{path}: {e!r}")
            self._stop.wait(1.0 / self.rate)
        session.close()


# --------------------------------------------------------------------------------------------
# Without a browser: the page, its headers, /v1/stats
# --------------------------------------------------------------------------------------------
def test_page_is_public_but_its_data_needs_the_token(admin_factory, backend_factory):
    t = admin_factory(config=_config(backend_factory("v1"), backend_factory("v2")), token=TOKEN)
    for path in ("/", "/dashboard"):
        r = requests.get(t.admin_url(path), timeout=5)
        assert r.status_code == 200, describe(r)
        assert r.headers["Content-Type"] == "text/html; charset=utf-8"
        assert r.headers["Content-Security-Policy"] == CSP
        assert r.headers.get("X-Content-Type-Options") == "nosniff"
        assert "<table" in r.text and 'id="traffic-rows"' in r.text
    # Only reading the page is public: the API behind it is not, nor other methods on it.
    assert requests.get(t.admin_url("/v1/stats"), timeout=5).status_code == 401
    assert requests.get(t.admin_url("/v1/config"), timeout=5).status_code == 401
    assert requests.post(t.admin_url("/"), timeout=5).status_code == 401
    auth = {"Authorization": f"Bearer {TOKEN}"}
    r = requests.post(t.admin_url("/"), headers=auth, timeout=5)
    assert r.status_code == 405 and r.headers.get("Allow") == "GET, HEAD", describe(r)


def test_page_refers_to_nothing_outside_itself(admin_factory):
    t = admin_factory()
    html = requests.get(t.admin_url("/"), timeout=5).text
    assert not re.search(r"(?i)\bhttps?:", html), "the page names an absolute URL"
    refs = re.findall(r"""(?i)\b(?:src|href|action|srcset)\s*=\s*["']([^"']*)""", html)
    assert refs and all(ref.startswith("data:") for ref in refs), refs
    assert '<link rel="icon" href="data:,">' in html
    assert not re.search(r"(?i)@import|url\(\s*['\"]?(?!data:)", html)


def test_stats_answers_its_shape_and_refuses_writes(admin_factory):
    t = admin_factory()
    api = t.api()
    r = api.get("/v1/stats")
    assert r.status_code == 200, describe(r)
    stats = r.json()
    assert stats["revision"] == api.revision()
    assert abs(stats["now_ms"] / 1000 - time.time()) < 60
    assert 0 <= stats["uptime_s"] < 60
    assert stats["bounds"][0] == 0.0001 and stats["bounds"][-1] == 60 and len(stats["bounds"]) == 19
    assert isinstance(stats["routes"], list)
    assert api.post("/v1/stats", json={}).status_code == 405


def test_stats_count_requests_by_route_class_and_target(admin_factory, backend_factory):
    t = admin_factory(config=_config(backend_factory("v1"), backend_factory("v2")))
    session = requests.Session()
    sent = {"/shop/a": 10, "/broken/a": 4, "/nowhere": 2}
    for path, n in sent.items():
        for _ in range(n):
            session.get(t.url(path), timeout=5)
    api = t.api()

    def routes():
        return {r["route"]: r for r in api.get("/v1/stats").json()["routes"]}

    # Counters are read at scrape time; give the workers' last increments a moment.
    assert wait_until(lambda: routes().get("shop", {}).get("requests") == 10
                      and routes().get("broken", {}).get("requests") == 4
                      and routes().get("", {}).get("requests") == 2, timeout=5), routes()
    got = routes()
    assert list(got) == sorted(got), "routes are sorted by id"
    shop, broken, unrouted = got["shop"], got["broken"], got[""]
    assert unrouted["classes"]["4xx"] == 2  # matched no route: 404
    assert shop["classes"] == {"1xx": 0, "2xx": 10, "3xx": 0, "4xx": 0, "5xx": 0}
    assert broken["classes"]["5xx"] == 4 and broken["classes"]["2xx"] == 0
    assert sum(shop["duration_buckets"]) == 10 and len(shop["duration_buckets"]) == 20
    by_version = {tg["version"]: tg["requests"] for tg in shop["targets"]}
    assert sum(by_version.values()) == 10 and set(by_version) <= {"v1", "v2"}, shop["targets"]


# --------------------------------------------------------------------------------------------
# In headless Chromium
# --------------------------------------------------------------------------------------------
def _require_browser():
    missing = []
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        missing.append("chromium")
    if not (os.path.isfile(CHROMEDRIVER) and os.access(CHROMEDRIVER, os.X_OK)):
        missing.append(CHROMEDRIVER)
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("python3-selenium")
    if missing:
        reason = "the dashboard tests need " + ", ".join(missing) + " (scripts/setup installs them)"
        if os.environ.get("TURNOUT_REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return chromium


@pytest.fixture
def browser():
    chromium = _require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1400,1000", "--no-first-run", "--disable-extensions",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-default-apps"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(20)
    driver.set_script_timeout(10)
    try:
        yield driver
    finally:
        driver.quit()


def _artifact(name: str) -> Path:
    base = os.environ.get("TURNOUT_ARTIFACTS")
    directory = Path(base) if base else REPO / "build" / "test-artifacts"
    directory.mkdir(parents=True, exist_ok=True)
    return directory / name


def _until(driver, what: str, predicate, timeout: float = DATA_TIMEOUT):
    """Waits (bounded) for predicate(driver) to be truthy; returns its value."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.2).until(predicate)
    except TimeoutException:
        raise AssertionError(f"timed out after {timeout} s waiting for {what}; page shows:\n"
                             f"{_page_text(driver)}") from None


def _page_text(driver) -> str:
    return driver.execute_script("return document.body.innerText")[:3000]


_TRAFFIC_JS = """
return Array.from(document.querySelectorAll('#traffic-rows tr')).map(tr => {
  const cell = f => tr.querySelector(`[data-field="${f}"]`);
  return {route: tr.dataset.route,
          rps: cell('rps').textContent, rps_value: cell('rps').dataset.value,
          error_rate: cell('error_rate').textContent,
          error_rate_value: cell('error_rate').dataset.value,
          p99_ms: cell('p99_ms').textContent, p99_value: cell('p99_ms').dataset.value};
});
"""


def _traffic(driver) -> dict:
    return {row["route"]: row for row in driver.execute_script(_TRAFFIC_JS)}


def _flowing(driver, routes) -> dict | bool:
    rows = _traffic(driver)
    ok = all(r in rows and rows[r]["rps_value"] and float(rows[r]["rps_value"]) > 0
             for r in routes)
    return rows if ok else False


def _text(driver, selector: str) -> str | None:
    return driver.execute_script(
        "const e = document.querySelector(arguments[0]); return e ? e.textContent : null;",
        selector)


def _same_origin_resources(driver, origin: str):
    names = driver.execute_script(
        "return performance.getEntriesByType('navigation').concat("
        "performance.getEntriesByType('resource')).map(e => e.name);")
    assert names, "the performance API recorded nothing"
    foreign = [n for n in names if not n.startswith(origin + "/")]
    assert not foreign, f"the page reached beyond {origin}: {foreign}"
    return names


def test_dashboard_shows_live_traffic_and_follows_changes(admin_factory, backend_factory,
                                                         browser):
    v1, v2 = backend_factory("v1"), backend_factory("v2")
    t = admin_factory(config=_config(v1, v2))
    api = t.api()
    origin = f"http://{LOCALHOST}:{t.admin_port}"
    with Traffic(t.port, ["/shop/item", "/broken/item"], rate=30, duration=60) as traffic:
        browser.get(origin + "/")
        browser.execute_script("performance.setResourceTimingBufferSize(5000);"
                               "window.__sameDocument = 'yes';")
        rows = _until(browser, "requests per second > 0 on both routes",
                      lambda d: _flowing(d, ["shop", "broken"]))
        # The error rate and p99 fill in with the same poll; let one more poll settle them.
        rows = _until(browser, "error rates and p99 on both routes", lambda d: (
            lambda r: r if r["broken"]["error_rate"] == "100 %" and r["shop"]["error_rate"] == "0 %"
            and r["shop"]["p99_value"] else False)(_traffic(d)))

        assert {"shop", "broken"} <= set(rows), rows  # every configured route has a row
        assert float(rows["broken"]["error_rate_value"]) == 1.0
        assert float(rows["shop"]["error_rate_value"]) == 0.0
        for route in ("shop", "broken"):
            p99 = float(rows[route]["p99_ms"])  # the cell is a plain number of milliseconds
            assert 0 < p99 < 5000, rows[route]
            assert 0 < float(rows[route]["rps"]) < 100, rows[route]

        # Splits as configured, endpoints with the health /v1/status gives.
        assert "80 %" in _text(browser, '[data-route-config="shop"] [data-target="shop/v1"]')
        assert "20 %" in _text(browser, '[data-route-config="shop"] [data-target="shop/v2"]')
        assert "abort 503" in _text(browser, '[data-route-config="broken"] [data-field="faults"]')
        status = api.get("/v1/status").json()
        for ep in status["services"][0]["endpoints"]:
            health = _text(browser, f'tr[data-endpoint="{ep["address"]}"] [data-field="health"]')
            assert health is not None and ep["health"] in health, (ep, health)

        # The header and the change log show the running revision.
        revision = api.revision()
        assert _text(browser, "#revision") == str(revision)
        assert _text(browser, f'#changes li[data-revision="{revision}"]') is not None

        # A change through the API appears without a reload.
        r = api.put("/v1/routes/shop", json={
            "match": {"path_prefix": "/shop"},
            "split": [{"service": "shop", "version": "v1", "weight": 50},
                      {"service": "shop", "version": "v2", "weight": 50}]})
        assert r.status_code == 200, describe(r)
        _until(browser, f"revision {revision + 1} on the page", lambda d: (
            _text(d, "#revision") == str(revision + 1)
            and _text(d, f'#changes li[data-revision="{revision + 1}"]') is not None
            and "50 %" in (_text(d, '[data-route-config="shop"] [data-target="shop/v2"]') or "")))
        assert "upsert_route" in _text(browser, f'#changes li[data-revision="{revision + 1}"]')
        assert browser.execute_script("return window.__sameDocument") == "yes", "the page reloaded"
        assert browser.find_element("id", "error-banner").is_displayed() is False
        browser.save_screenshot(str(_artifact("dashboard.png")))

        _same_origin_resources(browser, origin)
    assert not traffic.failures, traffic.failures[:5]
    assert set(traffic.statuses["/shop/item"]) == {200}, traffic.statuses
    assert set(traffic.statuses["/broken/item"]) == {503}, traffic.statuses
    severe = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not severe, severe


def test_dashboard_asks_for_the_token_and_keeps_it(admin_factory, backend_factory, browser):
    t = admin_factory(config=_config(backend_factory("v1"), backend_factory("v2")), token=TOKEN)
    revision = t.api().revision()
    origin = f"http://{LOCALHOST}:{t.admin_port}"
    browser.get(origin + "/")
    form = browser.find_element("id", "token-form")
    _until(browser, "the token form", lambda d: form.is_displayed())
    assert _text(browser, "#revision") == "—", "data shown without a token"

    def submit(token):
        field = browser.find_element("id", "token-input")
        field.clear()
        field.send_keys(token)
        browser.find_element("id", "token-submit").click()

    submit("not-the-token")
    _until(browser, "the form again, saying the token was refused",
           lambda d: form.is_displayed() and "refused" in _text(d, "#token-message"))
    browser.save_screenshot(str(_artifact("dashboard-token.png")))
    submit(TOKEN)
    _until(browser, "the data behind the token", lambda d: (
        _text(d, "#revision") == str(revision)
        and _text(d, 'tr[data-route="shop"]') is not None
        and _text(d, 'tr[data-route="broken"]') is not None))
    assert not form.is_displayed()
    assert browser.execute_script("return sessionStorage.getItem('turnout.admin-token')") == TOKEN

    # The token lives in the tab's session: a reload shows the data without asking again.
    browser.refresh()
    _until(browser, "the data after a reload",
           lambda d: _text(d, "#revision") == str(revision))
    assert not browser.find_element("id", "token-form").is_displayed()
    _same_origin_resources(browser, origin)
    # The refused requests are the only errors the console saw.
    severe = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert all("401" in e["message"] for e in severe), severe


def test_dashboard_shows_a_banner_while_turnout_is_down_and_recovers(admin_factory, browser):
    t = admin_factory(admin_address=f"{LOCALHOST}:{closed_port()}")  # the same after a restart
    revision = t.api().revision()
    browser.get(f"http://{LOCALHOST}:{t.admin_port}/")
    _until(browser, "the revision", lambda d: _text(d, "#revision") == str(revision))
    banner = browser.find_element("id", "error-banner")
    assert not banner.is_displayed()
    t.stop()
    _until(browser, "the error banner", lambda d: banner.is_displayed())
    assert "Cannot read the admin API" in banner.text
    t.restart()
    _until(browser, "the banner gone and the data back", lambda d: (
        not banner.is_displayed() and _text(d, "#revision") == str(revision)
        and _text(d, "#uptime") in ("0s", "1s", "2s", "3s", "4s", "5s")))
