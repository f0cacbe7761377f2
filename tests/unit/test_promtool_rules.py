"""The Prometheus rules pass `promtool check rules` and their unit tests (`promtool test
rules`), and every alert has a firing case and a quiet case."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest
import yaml

from tests.unit.test_metrics_catalog import RULES_DIR, rules

REPO = Path(__file__).resolve().parents[2]
TESTS_DIR = REPO / "deploy" / "prometheus" / "tests"


def promtool() -> str:
    """The promtool `make test` installs (`make promtool`) beside the venv's python, else the
    one on PATH; a missing promtool fails the test (it is never skipped)."""
    beside = Path(sys.executable).parent / "promtool"
    if beside.exists() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("promtool")
    if found is None:
        pytest.fail("promtool not found: run `make promtool` (make test does it; it unpacks "
                    "Debian's prometheus package into .venv/bin) or put promtool on PATH")
    return found


def run(*args: str) -> str:
    done = subprocess.run([promtool(), *args], capture_output=True, text=True, cwd=REPO,
                          timeout=120, check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"promtool {' '.join(args)} failed:\n{output}"
    return output


def test_promtool_check_rules() -> None:
    files = sorted(str(p.relative_to(REPO)) for p in RULES_DIR.glob("*.yml"))
    assert files
    out = run("check", "rules", *files)
    assert out.count("SUCCESS") == len(files)


def test_promtool_test_rules() -> None:
    files = sorted(str(p.relative_to(REPO)) for p in TESTS_DIR.glob("*.yml"))
    assert files
    out = run("test", "rules", *files)
    assert "SUCCESS" in out


def test_every_alert_has_a_firing_case_and_a_quiet_case() -> None:
    cases: dict[str, set[str]] = defaultdict(set)
    for path in TESTS_DIR.glob("*.yml"):
        for group in yaml.safe_load(path.read_text(encoding="utf-8"))["tests"]:
            for case in group.get("alert_rule_test", []):
                cases[case["alertname"]].add("firing" if case.get("exp_alerts") else "quiet")
    alerts = {r["alert"] for r in rules() if "alert" in r}
    assert len(alerts) >= 6
    assert {a: cases[a] for a in alerts} == {a: {"firing", "quiet"} for a in alerts}
