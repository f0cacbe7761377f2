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


def test_promtool_check_config() -> None:
    """The docker-compose Prometheus config (its rule paths are the container's)."""
    out = run("check", "config", "--syntax-only", "deploy/prometheus/prometheus.yml")
    assert "SUCCESS" in out


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


def test_every_dashboard_query_is_valid_promql(tmp_path: Path) -> None:
    """promtool parses each dashboard expression as a recording rule (Grafana's variables
    replaced by what they expand to)."""
    from tests.unit.test_metrics_catalog import dashboard_queries

    exprs = [q for q in dashboard_queries() if "qualstream" in q or "ALERTS" in q]
    assert len(exprs) >= 15
    grafana = {"$__rate_interval": "2m", "$instance": ".*"}
    for name, value in grafana.items():
        exprs = [e.replace(name, value) for e in exprs]
    exprs = [e for e in exprs if not e.startswith("label_values(")]  # Grafana's own function
    assert not [e for e in exprs if "$" in e], "a Grafana variable this test does not expand"
    rules_file = tmp_path / "dashboard.yml"
    rules_file.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": [
        {"record": f"dashboard:query_{i}", "expr": e} for i, e in enumerate(exprs)]}]}))
    run("check", "rules", str(rules_file))


def test_every_alert_links_its_runbook_section() -> None:
    runbook = (REPO / "deploy" / "RUNBOOK.md").read_text(encoding="utf-8")
    sections = {line[3:].strip() for line in runbook.splitlines() if line.startswith("## ")}
    for rule in rules():
        if "alert" in rule:
            assert rule["alert"] in sections
            assert rule["annotations"]["runbook_url"] == (
                f"deploy/RUNBOOK.md#{rule['alert'].lower()}")
            assert rule["labels"]["severity"] in ("page", "ticket")
