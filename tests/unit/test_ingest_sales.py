"""Sales-side ingest: roster and activity validation."""

from __future__ import annotations

import pytest

from streams.codecs import codec_for
from streams.ingest.errors import InvalidRecord
from streams.ingest.sales import normalise_activity, normalise_rep

NOW = 1_780_000_000_000
CODEC = codec_for(None)


def rep(**fields: object) -> dict[str, object]:
    record = CODEC.decode("sales.reps", CODEC.encode("sales.reps", {
        "event_id": "r1", "occurred_at": NOW, "rep_id": "rep-1", "name": "Ana", "active": True,
        "pools": ["NA:mid_market"], "territories": ["NA:mid_market"], "timezone":
        "America/New_York", "manager_rep_id": "mgr-1"}))
    record.update(fields)
    return record


def test_a_roster_record_with_schema_defaults() -> None:
    profile = normalise_rep(rep(), NOW, 60_000)
    assert (profile.rep_id, profile.weight, profile.max_open) == ("rep-1", 1, 10)
    assert profile.work_days == (1, 2, 3, 4, 5) and profile.timezone == "America/New_York"


@pytest.mark.parametrize(("fields", "reason"), [
    ({"work_start_minute": 1000, "work_end_minute": 900}, "invalid_working_hours"),
    ({"work_days": [0, 8]}, "invalid_work_days"),
    ({"timezone": "Mars/Olympus"}, "unknown_timezone"),
    ({"weight": 0}, "out_of_range"),
    ({"rep_id": ""}, "missing_rep_id"),
])
def test_impossible_rosters_are_rejected(fields: dict[str, object], reason: str) -> None:
    with pytest.raises(InvalidRecord) as err:
        normalise_rep(rep(**fields), NOW, 60_000)
    assert err.value.reason == reason


def test_activity_needs_a_reason_to_reject() -> None:
    base = {"event_id": "a1", "occurred_at": NOW, "contact_id": "c1", "rep_id": "rep-1",
            "type": "rejected", "reason_code": None, "assignment_id": "as-1"}
    with pytest.raises(InvalidRecord) as err:
        normalise_activity(base, NOW, 60_000)
    assert err.value.reason == "missing_reason_code"
    ok = normalise_activity({**base, "reason_code": "no_budget"}, NOW, 60_000)
    assert (ok.kind, ok.reason_code, ok.assignment_id) == ("rejected", "no_budget", "as-1")
