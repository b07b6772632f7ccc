"""deploy/prometheus: the alert rules, their promtool unit tests and the example scrape config.

Needs promtool (Debian package `prometheus`, scripts/setup installs it). Without it the tests are
skipped, unless TURNOUT_REQUIRE_BIN=1 (CI), which makes that a failure. No turnout binary needed:
the unit tests feed synthetic series.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from harness import REPO

PROM_DIR = REPO / "deploy" / "prometheus"
ALERTS = "deploy/prometheus/alerts.yml"
ALERTS_TEST = "deploy/prometheus/alerts_test.yml"
CONFIG = "deploy/prometheus/prometheus.yml"
ALERT_NAMES = [
    "TurnoutInstanceDown",
    "TurnoutRequestLatencyHigh",
    "TurnoutUpstreamLatencyHigh",
    "TurnoutErrorRateHigh",
    "TurnoutConfigApplyFailing",
]
PROMTOOL_TIMEOUT = 60.0


@pytest.fixture(scope="module")
def promtool() -> str:
    path = shutil.which("promtool") or "/usr/bin/promtool"
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        msg = ("promtool not found (install the Debian package `prometheus`, "
               "e.g. with scripts/setup)")
        if os.environ.get("TURNOUT_REQUIRE_BIN") == "1":
            pytest.fail(msg)
        pytest.skip(msg)
    return path


def run(promtool: str, *args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run([promtool, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=PROMTOOL_TIMEOUT)


def output(proc: subprocess.CompletedProcess) -> str:
    return proc.stdout + proc.stderr


def test_check_rules(promtool):
    proc = run(promtool, "check", "rules", ALERTS)
    assert proc.returncode == 0, output(proc)
    assert f"SUCCESS: {len(ALERT_NAMES)} rules found" in output(proc), output(proc)
    text = (REPO / ALERTS).read_text()
    for name in ALERT_NAMES:
        assert f"alert: {name}\n" in text, name


def test_check_config(promtool):
    proc = run(promtool, "check", "config", CONFIG)
    assert proc.returncode == 0, output(proc)
    # The rule file is referenced relatively and promtool followed it.
    assert "SUCCESS: 1 rule files found" in output(proc), output(proc)
    assert "Checking deploy/prometheus/alerts.yml" in output(proc), output(proc)
    config = (REPO / CONFIG).read_text()
    assert "- alerts.yml" in config
    assert "job_name: turnout" in config
    assert "127.0.0.1:9901" in config
    assert "metrics_path: /metrics" in config


def test_unit_tests_pass(promtool):
    proc = run(promtool, "test", "rules", ALERTS_TEST)
    assert proc.returncode == 0, output(proc)
    assert "SUCCESS" in output(proc), output(proc)
    assert "FAILED" not in output(proc), output(proc)


def test_unit_tests_cover_every_alert():
    text = (REPO / ALERTS_TEST).read_text()
    for name in ALERT_NAMES:
        assert f"alertname: {name}\n" in text, f"{name} has no unit test"
        assert text.count(f"alertname: {name}\n") >= 2, f"{name} needs a firing and a quiet case"


BROKEN = {
    "promql": ('up{job="turnout"} < 1', 'up{job="turnout"} <', "parse error"),
    "template": ("{{ $labels.instance }} is down", "{{ $labels.instance is down",
                 'function "is" not defined'),
    "duration": ("for: 5m", "for: 5 minutes", "not a valid duration"),
}


@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_check_rules_rejects_broken_copy(promtool, tmp_path, kind):
    old, new, message = BROKEN[kind]
    text = (REPO / ALERTS).read_text()
    assert old in text, f"{old!r} no longer in {ALERTS}; update this test"
    broken = tmp_path / "alerts.yml"
    broken.write_text(text.replace(old, new, 1))
    proc = run(promtool, "check", "rules", str(broken))
    assert proc.returncode != 0, output(proc)
    assert "FAILED" in output(proc), output(proc)
    assert message in output(proc), output(proc)


# Each mutation of the rules must make some unit test fail: the tests pin thresholds, `for`
# durations, the 5xx selector, the aggregation labels and the job matcher.
MUTATIONS = {
    "instance-down-for": ("for: 5m", "for: 4m"),
    "request-latency-threshold": (") > 1\n", ") > 2\n"),
    "upstream-latency-threshold": (") > 0.5\n", ") > 0.4\n"),
    "error-counts-4xx": ('code_class="5xx"', 'code_class=~"4xx|5xx"'),
    "error-threshold": (") > 0.01\n", ") > 0.001\n"),
    "latency-by-instance": ("sum by (route, le)", "sum by (instance, route, le)"),
    "any-job-down": ('up{job="turnout"} < 1', "up < 1"),
    "config-apply-for": ("for: 0m", "for: 1m"),
}


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_unit_tests_catch_mutation(promtool, tmp_path, name):
    old, new = MUTATIONS[name]
    text = (REPO / ALERTS).read_text()
    assert old in text, f"{old!r} no longer in {ALERTS}; update this test"
    (tmp_path / "alerts.yml").write_text(text.replace(old, new, 1))
    shutil.copy(REPO / ALERTS_TEST, tmp_path / "alerts_test.yml")
    check = run(promtool, "check", "rules", "alerts.yml", cwd=tmp_path)
    assert check.returncode == 0, f"mutation must still be valid rules: {output(check)}"
    proc = run(promtool, "test", "rules", "alerts_test.yml", cwd=tmp_path)
    assert proc.returncode != 0, f"unit tests did not notice {name}: {output(proc)}"
    assert "FAILED" in output(proc), output(proc)
