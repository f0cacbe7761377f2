"""The metrics table, the dashboard and the rules name only series the worker exports."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from streams.adapters.metrics import Metrics

REPO = Path(__file__).resolve().parents[2]
METRICS_DOC = REPO / "docs" / "metrics.md"
DASHBOARD = REPO / "deploy" / "grafana" / "qualstream.json"
RULES_DIR = REPO / "deploy" / "prometheus" / "rules"

_ROW = re.compile(r"^\| `(qualstream_[a-z0-9_]+)` \| ([a-z]+)")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_SUFFIXES = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_sum", "_count"),
             "gauge": ("",)}


def documented() -> dict[str, str]:
    """Series name -> type, from the table of docs/metrics.md."""
    rows = (_ROW.match(line) for line in METRICS_DOC.read_text(encoding="utf-8").splitlines())
    return {m.group(1): m.group(2) for m in rows if m}


def documented_series() -> set[str]:
    """The documented series as metric family names (a counter's without ``_total``, as the
    exposition parser and the registry name them)."""
    return {name.removesuffix("_total") for name in documented()}


def defined() -> dict[str, str]:
    """Family name -> type of every series a worker defines."""
    return {family.name: family.type for family in Metrics().registry.collect()}


def exported_samples() -> set[str]:
    """Every sample name a worker can export (with the histogram and counter suffixes)."""
    return {name + suffix for name, kind in defined().items() for suffix in _SUFFIXES[kind]}


def rule_groups() -> list[dict[str, Any]]:
    groups: list[dict[str, Any]] = []
    for path in sorted(RULES_DIR.glob("*.yml")):
        groups.extend(yaml.safe_load(path.read_text(encoding="utf-8"))["groups"])
    return groups


def rules() -> Iterator[dict[str, Any]]:
    for group in rule_groups():
        yield from group["rules"]


def dashboard_queries(node: Any = None) -> Iterator[str]:
    """Every PromQL expression of the dashboard: panel targets and template variables."""
    if node is None:
        node = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("expr", "query", "definition") and isinstance(value, str):
                yield value
            elif isinstance(value, dict | list):
                yield from dashboard_queries(value)
    elif isinstance(node, list):
        for item in node:
            yield from dashboard_queries(item)


def metric_names(expr: str) -> set[str]:
    """The qualstream series and recording rules an expression reads (strings removed, so
    label values never count; label names never contain "qualstream")."""
    return {n for n in _NAME.findall(_STRING.sub('""', expr)) if "qualstream" in n}


def check_names(exprs: list[str], recorded: set[str]) -> list[str]:
    exported = exported_samples()
    unknown = []
    for expr in exprs:
        for name in metric_names(expr):
            known = recorded if ":" in name else exported
            if name not in known:
                unknown.append(f"{name} in {expr!r}")
    return unknown


def test_the_metrics_table_lists_exactly_the_series_a_worker_defines() -> None:
    table = {name.removesuffix("_total"): kind for name, kind in documented().items()}
    code = defined()
    assert table == code, (
        "docs/metrics.md and streams/adapters/metrics.py disagree; undocumented: "
        f"{sorted(set(code) - set(table))}, documented but not defined: "
        f"{sorted(set(table) - set(code))}, type differs: "
        f"{sorted(n for n in set(table) & set(code) if table[n] != code[n])}")
    assert all(name.endswith("_total") == (kind == "counter")
               for name, kind in documented().items())


def test_the_name_parser_sees_metrics_and_recording_rules_not_label_values() -> None:
    expr = ('sum by (kind) (rate(qualstream_sla_events_total{status="breached",x="qualstream_y"}'
            '[5m])) / job:qualstream_sla_events:rate5m')
    assert metric_names(expr) == {"qualstream_sla_events_total", "job:qualstream_sla_events:rate5m"}
    assert check_names([expr, "qualstream_nope_total"], set()) == [
        f"job:qualstream_sla_events:rate5m in {expr!r}",
        "qualstream_nope_total in 'qualstream_nope_total'"]


def test_every_series_the_rules_read_is_exported_or_recorded() -> None:
    recorded = {r["record"] for r in rules() if "record" in r}
    exprs = [r["expr"] for r in rules()]
    assert exprs and recorded
    assert check_names(exprs, recorded) == []


def test_every_series_the_dashboard_reads_is_exported_or_recorded() -> None:
    recorded = {r["record"] for r in rules() if "record" in r}
    exprs = list(dashboard_queries())
    assert len(exprs) >= 15
    assert check_names(exprs, recorded) == []
