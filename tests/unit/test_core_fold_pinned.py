"""Pins what the replay fold and the contact core produce on a generated trace of a few thousand
events, so that making the core faster cannot silently change a result.

The trace is the bench generator's realistic mix (seeded, fixed event times ten minutes apart,
so scores decay over weeks), with sales activity and CRM erasures mixed in, folded under the
default model and under one whose half-lives are short (many decay down-crossings). Every
effect the fold sees, every routed lead, every final state and its snapshot (fit, intent
breakdown, reasons) goes into one hash, floats by their exact repr. The pinned digests are
what the code produced before the speed work (issue 7); a change of behaviour, however small,
changes them. If a change of behaviour is intended, re-pin them and say why in the commit.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from streams.bench.core_fold import START_MS
from streams.bench.traffic import behaviour
from streams.codecs import codec_for
from streams.config import DEFAULT_MODEL_PATH
from streams.core.contact import snapshot
from streams.core.contact_state import ContactState
from streams.core.effects import ContactEffect, StageChanged
from streams.core.model import ScoringModel, parse_model
from streams.replay.fold import ModelFold
from streams.replay.history import (
    HistoryRecord,
    decoded_record,
    in_event_time_order,
    write_history,
)
from streams.replay.run import replay_file

EVENTS = 4_000
GAP_MS = 600_000.0  # ten minutes: 4,000 events span four weeks
ACTIVITY_EVERY = 53  # a sales activity on the contact of every 53rd behaviour record
ERASE_EVERY = 401  # a CRM tombstone for the contact of every 401st behaviour record
ACTIVITIES = ("accepted", "meeting_booked", "rejected", "call", "disqualified", "recycled",
              "first_touch")

# stage changes the trace must make (under the low thresholds)
TRIGGERS = ("engaged", "threshold", "instant", "requalified", "decay", "enrichment", "exclusion",
            "review", "sales_activity")
PINNED = {
    "default": "a24222a60578cfc1efaa63b63d800c51deee097434e670b72b055b755ab31c36",
    "short_half_lives": "0a3fe3a368058b18089fdc65bf2528356310380f20e06fb106c121e2b2a142fb",
    "low_thresholds": "8cbf59eaecae44e630daf74dd64ec8a6898f2c988ccbd2819ce7ddf604b4835a",
}


def _models() -> dict[str, str]:
    text = DEFAULT_MODEL_PATH.read_text(encoding="utf-8")
    short = text.replace('version = "2026.11.0"', 'version = "short"', 1)
    for days in ("30", "14", "7", "21", "60"):
        short = short.replace(f"half_life_days = {days} ", "half_life_days = 0.5 ")
    assert short.count("half_life_days = 0.5 ") >= 5
    low = short.replace('version = "short"', 'version = "low"', 1)
    for old, new in (("enter = 65\nexit = 50", "enter = 35\nexit = 30"),
                     ("enter = 60\nexit = 45", "enter = 30\nexit = 25"),
                     ("enter = 55\nexit = 40", "enter = 25\nexit = 20")):
        assert old in low, old
        low = low.replace(old, new, 1)
    return {"default": text, "short_half_lives": short, "low_thresholds": low}


def trace() -> list[HistoryRecord]:
    """The generated records with sales activity and erasures added, in event-time order."""
    codec = codec_for(None)
    records: list[HistoryRecord] = []
    offsets: dict[str, int] = {}

    def add(topic: str, key: str | None, value: Any, at: int, raw: bytes | None = None) -> None:
        offset = offsets[topic] = offsets.get(topic, -1) + 1
        if raw is not None or value is None:
            record = decoded_record(codec, topic, 0, offset, at, key and key.encode(), raw)
        else:
            record = {"topic": topic, "partition": 0, "offset": offset, "timestamp": at,
                      "key": key, "value": value}
        records.append(record)

    for n, draft in enumerate(behaviour(EVENTS, gap_ms=GAP_MS, start_ms=START_MS)):
        add(draft.topic_base, draft.key, None, START_MS, draft.value)
        contact_id = draft.record.get("contact_id") if isinstance(draft.record, dict) else None
        at = draft.record.get("occurred_at") if isinstance(draft.record, dict) else None
        if not isinstance(contact_id, str) or not isinstance(at, int):
            continue
        if n % ACTIVITY_EVERY == 0:
            kind = ACTIVITIES[(n // ACTIVITY_EVERY) % len(ACTIVITIES)]
            add("sales.activity", contact_id, {
                "event_id": f"act-{n}", "occurred_at": at + 60_000, "contact_id": contact_id,
                "rep_id": None, "type": kind, "reason_code": "pinned", "assignment_id": None,
            }, at + 60_000)
        if n % ERASE_EVERY == 0:
            add("crm.contacts", contact_id, None, at + 120_000)
    return in_event_time_order(records)


class RecordingFold(ModelFold):
    """The replay fold, hashing every effect list it handles on the way."""

    def __init__(self, model: ScoringModel) -> None:
        super().__init__(model)
        self.hash = hashlib.sha256()
        self.triggers: Counter[str] = Counter()

    def _effects(self, state: ContactState, effects: Iterable[ContactEffect]) -> None:
        effects = list(effects)
        self.triggers.update(e.trigger for e in effects if isinstance(e, StageChanged))
        self.hash.update(repr(("effects", state, effects)).encode())
        super()._effects(state, effects)

    def _route(self, state: ContactState, payload: Any, effects: list[ContactEffect]) -> None:
        super()._route(state, payload, effects)
        self.hash.update(repr(("route", state.contact_id, self.router)).encode())


def recorded(records: list[HistoryRecord], model: ScoringModel) -> RecordingFold:
    fold = RecordingFold(model)
    for r in records:
        fold.feed(r["topic"], r["key"], r["value"], r["partition"], r["offset"], r["timestamp"])
    fold.finish()
    return fold


def fold_digest(fold: RecordingFold) -> str:
    model = fold.model
    outcome = fold.outcome
    outcome.elapsed_s = 0.0
    h = fold.hash
    for contact_id in sorted(fold.contacts):
        state = fold.contacts[contact_id]
        h.update(repr((state, snapshot(state, model))).encode())
    h.update(repr(outcome).encode())
    h.update(repr(fold.router).encode())
    return h.hexdigest()


@pytest.fixture(scope="module")
def records() -> list[HistoryRecord]:
    return trace()


@pytest.fixture(scope="module")
def folds(records: list[HistoryRecord]) -> dict[str, RecordingFold]:
    return {name: recorded(records, parse_model(text)) for name, text in _models().items()}


def test_the_trace_covers_what_the_fold_does(records: list[HistoryRecord],
                                             folds: dict[str, RecordingFold]) -> None:
    fold = folds["low_thresholds"]
    outcome = fold.outcome
    assert outcome.events == len(records) > EVENTS
    assert outcome.rep_load, "nobody was routed to a rep"
    for reason in ("duplicate", "erased", "undecodable", "bot", "internal"):
        assert outcome.skipped[reason] > 0, reason
    for trigger in TRIGGERS:
        assert fold.triggers[trigger] > 0, (trigger, fold.triggers)


@pytest.mark.parametrize("name", sorted(PINNED))
def test_the_fold_gives_the_pinned_results(folds: dict[str, RecordingFold], name: str) -> None:
    assert fold_digest(folds[name]) == PINNED[name]


def test_a_history_file_folds_like_the_records(records: list[HistoryRecord],
                                                tmp_path: Path) -> None:
    path = tmp_path / "history.avro"
    write_history(path, records)
    model_text = _models()["default"]
    from_file = replay_file(path, [parse_model(model_text)])[0]
    in_memory = ModelFold(parse_model(model_text))
    for r in records:
        in_memory.feed(r["topic"], r["key"], r["value"], r["partition"], r["offset"],
                       r["timestamp"])
    expected = in_memory.finish()
    from_file.elapsed_s = expected.elapsed_s = 0.0
    assert repr(from_file) == repr(expected)
