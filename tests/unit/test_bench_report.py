"""The bench's results table and JSON on made-up figures (no timing here)."""

from __future__ import annotations

import json
from collections.abc import Callable
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


def test_the_probes_stop_waiting_for_a_warm_up_once_the_backlog_keeps_growing(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker slower than its background never warms up: the wait ends once the backlog grew
    by more than a few seconds of traffic over the growth window, not after the whole cap
    (two more minutes of backlog in front of the probes). A backlog that shrinks, however
    slowly, is waited for."""
    import asyncio
    from types import SimpleNamespace

    from streams.bench import latency

    clock = SimpleNamespace(now=0.0)

    async def tick(seconds: float) -> None:
        clock.now += seconds

    monkeypatch.setattr(latency.asyncio, "sleep", tick)
    worker = SimpleNamespace(check_alive=lambda: None)

    # 1,000 events/s in, ~250/s worked off: +375 per half second
    monkeypatch.setattr(latency, "backlog", lambda worker: 5_000 + 750.0 * clock.now)
    got = asyncio.run(latency.warm_up(worker, 500.0, 5.0, 1_000.0,  # type: ignore[arg-type]
                                      clock=lambda: clock.now))
    assert got is None
    assert latency.GROWTH_AFTER_S <= clock.now < latency.GROWTH_AFTER_S + 1

    # catching up slowly: 5,000 behind, 10 fewer per second; never under 500 within the cap
    clock.now = 0.0
    monkeypatch.setattr(latency, "backlog", lambda worker: 5_000 - 10.0 * clock.now)
    got = asyncio.run(latency.warm_up(worker, 500.0, 5.0, 50.0,  # type: ignore[arg-type]
                                      clock=lambda: clock.now))
    assert got is None
    assert clock.now >= latency.WARMUP_CAP_S  # waited the whole cap

    # the same growth at a background too slow to matter (2 s of 10,000/s traffic): waited on
    clock.now = 0.0
    monkeypatch.setattr(latency, "backlog", lambda worker: 5_000 + 750.0 * clock.now
                        if clock.now < 60 else 100.0)
    got = asyncio.run(latency.warm_up(worker, 500.0, 5.0, 10_000.0,  # type: ignore[arg-type]
                                      clock=lambda: clock.now))
    assert got is not None and got >= 60


def test_an_interrupted_bench_still_writes_what_it_measured(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from streams.bench import __main__ as bench

    async def measured_then_stopped(sizes: object, sections: object, workdir: object,
                                    echo: object, results: dict[str, object],
                                    save: Callable[[], None]) -> None:
        results.update({"errors": {}, "seconds": {"throughput": 1.0}})
        results["raw_consume_eps"] = 80_000.0
        save()
        raise KeyboardInterrupt  # what SIGTERM raises (bench._interrupt)

    out = tmp_path / "bench.json"
    monkeypatch.setattr(bench, "run", measured_then_stopped)
    monkeypatch.setenv("BENCH_OUTPUT", str(out))
    monkeypatch.setenv("BENCH_SCALE", "0.05")
    monkeypatch.delenv("BENCH_ONLY", raising=False)
    with pytest.raises(KeyboardInterrupt):
        bench.main()
    written = json.loads(out.read_text())
    assert written["raw_consume_eps"] == 80_000.0
    assert "interrupted" in written["errors"]
    assert written["scale"] == 0.05 and written["targets"]
