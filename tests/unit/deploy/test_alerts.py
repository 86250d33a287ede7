"""The alert rules as Prometheus itself reads them: `promtool check rules` and the unit tests in
deploy/prometheus/alerts.test.yml (`promtool test rules`), which cover every alert firing and staying silent.

promtool comes with Debian's `prometheus` package, which `make test` installs; without it these are skipped.
"""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

import pytest

from tests.support import PROJECT_ROOT

yaml = pytest.importorskip("yaml")

PROMETHEUS = PROJECT_ROOT / "deploy" / "prometheus"
RULES = PROMETHEUS / "alerts.yml"
RULE_TESTS = PROMETHEUS / "alerts.test.yml"


def promtool(*args: str) -> None:
    """Runs promtool from the project root, as the docs show it; fails with its output."""
    tool = shutil.which("promtool")
    if tool is None:
        pytest.skip("promtool not installed (make test installs it: apt-get install prometheus)")
    result = subprocess.run([tool, *args], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, f"promtool {' '.join(args)}:\n{result.stdout}{result.stderr}"


def test_promtool_checks_the_rules():
    promtool("check", "rules", str(RULES.relative_to(PROJECT_ROOT)))


def test_promtool_unit_tests_pass():
    promtool("test", "rules", str(RULE_TESTS.relative_to(PROJECT_ROOT)))


def test_every_alert_has_a_firing_and_a_silent_case():
    """So a new alert cannot be added without tests of when it fires and when it does not."""
    rules = yaml.safe_load(RULES.read_text())
    alerts = {rule["alert"] for group in rules["groups"] for rule in group["rules"] if "alert" in rule}
    tests: dict[str, Any] = yaml.safe_load(RULE_TESTS.read_text())
    assert tests["rule_files"] == [RULES.name]
    checks = [check for case in tests["tests"] for check in case.get("alert_rule_test", [])]
    firing = {check["alertname"] for check in checks if check.get("exp_alerts")}
    silent = {check["alertname"] for check in checks if not check.get("exp_alerts")}
    assert alerts - firing == set(), "alerts never expected to fire"
    assert alerts - silent == set(), "alerts never expected to stay silent"
    assert (firing | silent) - alerts == set(), "tests of alerts that alerts.yml does not have"
