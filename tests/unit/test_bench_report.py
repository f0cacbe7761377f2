"""The bench's results table and JSON on made-up figures (no timing here)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from streams.bench.report import FIELDS, TARGETS, evaluate, finish, render_table

FAKE = {
    "raw_consume_eps": 50_000.0, "faust_bare_eps": 10_000.0, "pipeline_eps": 4_000.0,
    "route_latency_ms": {"p50": 12.0, "p99": 80.0},
    "timer_lateness_ms": {"sla_p99": 400.0, "decay_p99": 600.0},
    "replay_file_eps": 120_000.0, "replay_topic_eps": 30_000.0,
    "bytes_per_contact": {"memory": 3_000.0, "rocksdb": 500.0},
    "recovery_seconds_1m": 42.0, "errors": {},
}


def test_targets_are_judged_on_the_measured_figures(tmp_path: Path) -> None:
    results = json.loads(json.dumps(FAKE))
    out = tmp_path / "bench-results.json"
    printed: list[str] = []
    finish(results, out, printed.append)
    written = json.loads(out.read_text())
    assert written["pipeline_vs_faust_bare"] == 0.4
    assert written["replay_vs_raw"] == 0.6
    verdicts = {t["field"]: t["met"] for t in written["targets"]}
    assert verdicts == {
        "pipeline_vs_faust_bare": False, "replay_file_eps": True, "replay_vs_raw": True,
        "route_latency_ms.p99": False, "timer_lateness_ms.sla_p99": True,
        "timer_lateness_ms.decay_p99": True, "bytes_per_contact.memory": False,
        "bytes_per_contact.rocksdb": True, "recovery_seconds_1m": True,
    }
    assert written["machine"]["cpus"] >= 1
    table = printed[0]
    for name, _ in FIELDS:
        assert name in table
    assert "NO" in table and "yes" in table


def test_missing_figures_are_reported_as_not_measured() -> None:
    results = {"raw_consume_eps": 1.0, "errors": {"latency": "TimeoutError: probe"}}
    verdicts = evaluate(results)
    assert len(verdicts) == len(TARGETS)
    assert all(v["met"] is None for v in verdicts)
    table = render_table(results)
    assert "not measured" in table
    assert "latency failed: TimeoutError: probe" in table


def test_the_sustained_latency_run_uses_a_fifth_of_the_measured_throughput(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from streams.bench.__main__ import sustained_rate

    monkeypatch.delenv("BENCH_SUSTAINED_RATE", raising=False)
    assert sustained_rate(189.0) == 38.0
    assert sustained_rate(5.0) == 10.0
    assert sustained_rate(50_000.0) == 1_000.0
    assert sustained_rate(None) == 40.0
    monkeypatch.setenv("BENCH_SUSTAINED_RATE", "250")
    assert sustained_rate(189.0) == 250.0


def test_the_probes_wait_until_the_start_up_burst_is_worked_off(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio
    from types import SimpleNamespace

    from streams.bench import latency

    lags = iter([900.0, 400.0, None, 12.0, 9.0, 30.0, 8.0, 8.0, 8.0, 8.0])
    monkeypatch.setattr(latency, "backlog", lambda worker: next(lags))
    monkeypatch.setattr(latency, "WARMUP_QUIET_S", 0.0)

    async def no_sleep(_: float) -> None:
        return None

    monkeypatch.setattr(latency.asyncio, "sleep", no_sleep)
    worker = SimpleNamespace(check_alive=lambda: None)
    # quiet means at or under the steady backlog on consecutive checks; a spike starts over
    assert asyncio.run(latency.warm_up(worker, 10.0, 5.0)) is not None  # type: ignore[arg-type]
    assert next(lags) == 30.0  # it stopped at the first quiet check (12.0 was over)

    monkeypatch.setattr(latency, "WARMUP_CAP_S", 0.0)
    assert asyncio.run(latency.warm_up(worker, 10.0, 5.0)) is None  # type: ignore[arg-type]
