"""Bench results: the targets of issue 7, pass/fail per target, the JSON file and a table."""

from __future__ import annotations

import json
import os
import platform
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Results = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Target:
    """One goal of the issue: ``field`` (a dotted path into the results) compared to ``limit``."""

    field: str
    op: str  # ">=" or "<="
    limit: float
    unit: str

    def check(self, value: float | None) -> bool | None:
        """True/False when measured, None when the figure is missing (not run or failed)."""
        if value is None:
            return None
        return value >= self.limit if self.op == ">=" else value <= self.limit


TARGETS = (
    Target("pipeline_vs_faust_bare", ">=", 0.5, "ratio"),
    Target("replay_file_eps", ">=", 100_000, "events/s per core"),
    Target("replay_vs_raw", ">=", 0.5, "ratio"),
    Target("route_latency_ms.p99", "<=", 50, "ms"),
    Target("timer_lateness_ms.sla_p99", "<=", 1_000, "ms"),
    Target("timer_lateness_ms.decay_p99", "<=", 1_000, "ms"),
    Target("bytes_per_contact.memory", "<=", 1_024, "bytes"),
    Target("bytes_per_contact.rocksdb", "<=", 1_024, "bytes"),
    Target("recovery_seconds_1m", "<=", 60, "s"),
)

# Every figure the issue asks for, in table order: (dotted field, unit).
FIELDS = (
    ("raw_consume_eps", "events/s"),
    ("faust_bare_eps", "events/s"),
    ("pipeline_eps", "events/s"),
    ("pipeline_vs_faust_bare", "ratio"),
    ("route_latency_ms.p50", "ms"),
    ("route_latency_ms.p99", "ms"),
    ("timer_lateness_ms.sla_p99", "ms"),
    ("timer_lateness_ms.decay_p99", "ms"),
    ("warmup_s", "s"),  # until the background's start-up burst was worked off (- : never)
    ("replay_file_eps", "events/s"),
    ("replay_topic_eps", "events/s"),
    ("replay_vs_raw", "ratio"),
    ("bytes_per_contact.memory", "bytes"),
    ("bytes_per_contact.rocksdb", "bytes"),
    ("recovery_seconds_1m", "s"),
    # the same latency probes under a background the worker keeps up with (no issue target)
    ("at_sustained_load.latency_background_eps", "events/s"),
    ("at_sustained_load.route_latency_ms.p50", "ms"),
    ("at_sustained_load.route_latency_ms.p99", "ms"),
    ("at_sustained_load.timer_lateness_ms.sla_p99", "ms"),
    ("at_sustained_load.timer_lateness_ms.decay_p99", "ms"),
    ("at_sustained_load.warmup_s", "s"),
)


def lookup(results: Results, dotted: str) -> float | None:
    node: Any = results
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return float(node) if isinstance(node, int | float) else None


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def add_ratios(results: Results) -> None:
    """The derived figures: pipeline/faust bare and replay (topic)/raw consume."""
    results["pipeline_vs_faust_bare"] = ratio(lookup(results, "pipeline_eps"),
                                              lookup(results, "faust_bare_eps"))
    results["replay_vs_raw"] = ratio(lookup(results, "replay_topic_eps"),
                                     lookup(results, "raw_consume_eps"))


def evaluate(results: Results) -> list[dict[str, Any]]:
    """One entry per target: the measured value and whether it met the target."""
    out = []
    for target in TARGETS:
        value = lookup(results, target.field)
        out.append({"field": target.field, "target": f"{target.op} {target.limit:g}",
                    "unit": target.unit, "value": value, "met": target.check(value)})
    return out


def machine_info() -> dict[str, Any]:
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": _cpu_model(),
        "cpus": os.cpu_count(),
        "load_average_at_end": [round(x, 2) for x in load] if load else None,
        "memory_bytes": _memory_bytes(),
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def _memory_bytes() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}" if value < 1 else f"{value:.2f}"


def render_table(results: Results) -> str:
    """A plain-text table: every figure, its target and whether it was met."""
    by_field = {t.field: t for t in TARGETS}
    rows = [("figure", "value", "unit", "target", "met")]
    for name, unit in FIELDS:
        value = lookup(results, name)
        target = by_field.get(name)
        verdict = {True: "yes", False: "NO", None: "-"}[target.check(value) if target else None]
        if target and value is None:
            verdict = "not measured"
        rows.append((name, _fmt(value), unit,
                     f"{target.op} {target.limit:g}" if target else "", verdict))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) if i != 1 else cell.rjust(w)
                       for i, (cell, w) in enumerate(zip(row, widths, strict=True))).rstrip()
             for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    errors: dict[str, str] = results.get("errors") or {}
    lines += [f"! {section} failed: {message}" for section, message in errors.items()]
    return "\n".join(lines)


def finish(results: Results, path: Path, echo: Callable[[str], None] = print) -> None:
    """Add ratios, targets and machine info, write ``path`` (JSON) and print the table."""
    add_ratios(results)
    results["targets"] = evaluate(results)
    results["machine"] = machine_info()
    path.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    echo(render_table(results))
    echo(f"written to {path}")
