"""What-if replay on the golden trace: the known differences, volumes, loads and timings."""

from __future__ import annotations

from pathlib import Path

import pytest

from streams.replay.compare import summarise, week_start
from streams.replay.history import read_history, write_history
from streams.replay.run import fold_records, replay_file
from tests.unit.golden_replay import (
    HOUR,
    MINUTE,
    WEEK1,
    WEEK2,
    WEEK3,
    X,
    Y,
    Z,
    golden_trace,
    models,
)


@pytest.fixture(scope="module")
def summary() -> dict:
    return summarise(fold_records(golden_trace(), models()))


def test_the_differences_are_exactly_x_and_y(summary: dict) -> None:
    [diff] = summary["comparisons"]
    assert (diff["baseline"], diff["candidate"]) == ("2026.11.0", "golden-b")
    assert diff["only_candidate"] == [X]
    assert diff["only_baseline"] == [Y]
    assert diff["both"] == 1  # Z, by its demo request


def test_weekly_sales_ready_volumes(summary: dict) -> None:
    a, b = summary["models"]
    assert a["weekly_sales_ready"] == {WEEK1: 1, WEEK2: 1}
    assert b["weekly_sales_ready"] == {WEEK1: 1, WEEK3: 1}


def test_rep_and_pool_loads(summary: dict) -> None:
    a, b = summary["models"]
    assert a["rep_load"] == {"rep-emea": 1, "rep-owner": 1}
    assert b["rep_load"] == {"rep-na": 1, "rep-owner": 1}
    assert a["pool_load"] == {"EMEA:smb": 1, "NA:enterprise": 1}
    assert b["pool_load"] == {"NA:enterprise": 1, "NA:mid_market": 1}
    for m in (a, b):
        assert m["routing_rules"] == {"account_owner": 1, "territory_round_robin": 1}
        assert m["unassigned"] == 0


def test_time_to_qualify(summary: dict) -> None:
    a, b = summary["models"]
    outcomes = fold_records(golden_trace(), models())
    assert outcomes[0].time_to_qualify_ms == {Z: HOUR, Y: 25 * MINUTE}
    assert outcomes[1].time_to_qualify_ms == {Z: HOUR, X: 20 * MINUTE}
    assert a["time_to_qualify"]["count"] == 2
    assert a["time_to_qualify"]["min_hours"] == round(25 / 60, 4)
    assert b["time_to_qualify"]["max_hours"] == 1.0


def test_stages_and_skipped_records(summary: dict) -> None:
    for m in summary["models"]:
        assert m["final_stages"] == {"accepted": 1, "nurture": 2, "sales_ready": 1}
        assert m["skipped"] == {"bot": 1}
        assert m["events"] == len(golden_trace())


def test_a_history_file_replays_like_the_records(tmp_path: Path) -> None:
    path = tmp_path / "history.avro"
    assert write_history(path, golden_trace()) == len(golden_trace())
    assert [r["key"] for r in read_history(path)] == [r["key"] for r in golden_trace()]
    from_file = summarise(replay_file(path, models()))
    in_memory = summarise(fold_records(golden_trace(), models()))
    for doc in (from_file, in_memory):
        for m in doc["models"]:
            m.pop("elapsed_s"), m.pop("events_per_second")
    assert from_file == in_memory


def test_week_start_is_the_monday_utc() -> None:
    from tests.unit.golden_replay import T0

    assert week_start(T0) == WEEK1
    assert week_start(T0 + 7 * 86_400_000 - 1) == WEEK1
    assert week_start(T0 - 1) == "2026-05-25"
