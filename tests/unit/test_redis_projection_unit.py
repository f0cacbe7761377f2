"""Redis projection, pure parts: keys, hash fields, versions and the script's arguments."""

from __future__ import annotations

import json
from typing import Any

import pytest

from streams.adapters.projection_queues import AssignmentWrite, SlaWrite
from streams.adapters.projection_writes import (
    SEGMENTS,
    AccountWrite,
    ContactWrite,
    Version,
    account_fields,
    contact_key,
    hash_fields,
    hot_key,
    may_replace,
)
from streams.adapters.redis_projection import MAX_BACKOFF_S, next_backoff, rewind_targets

T = 1_700_000_000_000


def state(contact_id: str = "c-1", **extra: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "contact_id": contact_id, "account_id": "A1", "domain": "acme-corp.com",
        "stage": "sales_ready", "fit": 80.0, "intent": 70.5, "total": 74.3, "fit_grade": "A",
        "segment": "mid_market", "model_version": "2024.1", "exclusion": None,
        "review_reasons": [],
        "reasons": [{"signal": f"s{i}", "category": "intent", "points": 10.0 - i + 0.123,
                     "count": 1} for i in range(7)],
        "first_touch": None, "last_touch": None, "events_applied": 3,
        "last_event_id": "ev-3", "updated_at": T,
    }
    record.update(extra)
    return record


def test_keys() -> None:
    assert contact_key("c-1") == "qs:contact:c-1"
    assert hot_key("mid_market") == "qs:hot:mid_market"


def test_hash_fields_hold_scores_and_company_facts_only() -> None:
    fields = hash_fields(state(email="vera@acme-corp.com", first_name="Vera"))
    assert set(fields) == {"stage", "fit", "intent", "total", "fit_grade", "segment",
                           "account_id", "domain", "model_version", "events_applied",
                           "updated_at", "reasons"}  # exclusion is null: left out
    assert fields["total"] == "74.3" and fields["updated_at"] == str(T)
    assert all("@" not in v and "Vera" not in v for v in fields.values())
    reasons = json.loads(fields["reasons"])
    assert [r["signal"] for r in reasons] == ["s0", "s1", "s2", "s3", "s4"]
    assert reasons[0] == {"signal": "s0", "category": "intent", "points": 10.12, "count": 1}
    assert " " not in fields["reasons"]


def test_exclusion_is_kept_when_set() -> None:
    assert hash_fields(state(exclusion="competitor"))["exclusion"] == "competitor"


@pytest.mark.parametrize(("candidate", "held", "newer"), [
    (Version(3, T), None, True),
    (Version(3, T), Version(2, T), True),
    (Version(2, T), Version(3, T), False),
    (Version(3, T), Version(3, T), True),  # a replay (same fields) or a timer-fired snapshot
    (Version(3, T + 1), Version(3, T), True),
    # A late event (older event time) still makes a newer snapshot: events_applied leads.
    (Version(4, T - 60_000), Version(3, T), True),
    (Version(2, T + 60_000), Version(3, T), False),
])
def test_version_order(candidate: Version, held: Version | None, newer: bool) -> None:
    assert may_replace(candidate, held) is newer
    # The Lua script's comparison, spelled the same way.
    if held is not None:
        n, t = candidate.events_applied, candidate.updated_at
        stale = n < held.events_applied or (n == held.events_applied and t < held.updated_at)
        assert stale is not newer


def test_script_call_of_a_sales_ready_snapshot_joins_its_segment_only() -> None:
    write = ContactWrite("c-1", state())
    keys, args = write.script_call()
    assert keys == ["qs:contact:c-1", *(f"qs:hot:{s}" for s in SEGMENTS)]
    member, mode, events, updated, hot, score = args[:6]
    assert (member, mode, events, updated) == ("c-1", "put", "3", str(T))
    assert keys[int(hot) - 1] == "qs:hot:mid_market"  # Lua KEYS are 1-based
    assert float(score) == 74.3
    pairs = dict(zip(args[6::2], args[7::2], strict=True))
    assert pairs == hash_fields(state())


def test_script_call_of_a_nurture_snapshot_joins_no_hot_set() -> None:
    _, args = ContactWrite("c-1", state(stage="nurture")).script_call()
    assert args[4] == "0"


def test_unknown_segment_symbol_gets_its_own_hot_set() -> None:
    keys, args = ContactWrite("c-1", state(segment="strategic")).script_call()
    assert keys[-1] == "qs:hot:strategic" and keys[int(args[4]) - 1] == "qs:hot:strategic"


def test_tombstone_deletes_and_leaves_every_hot_set() -> None:
    write = ContactWrite("c-1", None)
    keys, args = write.script_call()
    assert write.version is None
    assert keys == ["qs:contact:c-1", *(f"qs:hot:{s}" for s in SEGMENTS)]
    assert args[:2] == ["c-1", "del"]


def test_backoff_doubles_up_to_the_cap() -> None:
    delays = [0.1]
    for _ in range(10):
        delays.append(next_backoff(delays[-1]))
    assert delays[:4] == pytest.approx([0.1, 0.2, 0.4, 0.8])
    assert max(delays) == MAX_BACKOFF_S


def test_rewind_targets_seek_back_where_redis_holds_less() -> None:
    from aiokafka import TopicPartition

    a, b, c, d = (TopicPartition("t", n) for n in range(4))
    position = {a: 10, b: 10, c: 10, d: 0}
    held: dict[TopicPartition, int | None] = {a: 10, b: 4, c: None, d: 0}
    # a: Redis has all we read; b: an older snapshot; c: an empty Redis; d: nothing read yet
    assert rewind_targets(held, position) == {b: 4, c: None}
    assert rewind_targets({a: 12}, {a: 10}) == {}  # Redis ahead (another worker): no seek


def test_account_write_is_newer_wins_by_event_time_then_offset() -> None:
    record = {"account_id": "A1", "domain": "acme.com", "stage": "engaged", "score": 40.0,
              "member_intent": 30.0, "third_party_intent": 10.0, "committee_size": 2,
              "committee_personas": ["champion", "decision_maker"],
              "has_decision_maker": True, "segment": "mid_market", "owner_rep_id": None,
              "model_version": "m1", "updated_at": T}
    keys, args = AccountWrite(record, 17).script_call()
    assert keys == ["qs:account:A1"]
    assert args[:2] == [str(T), "17"]
    pairs = dict(zip(args[2::2], args[3::2], strict=True))
    assert pairs == account_fields(record) and "owner" not in pairs
    assert pairs["committee_personas"] == '["champion","decision_maker"]'


def test_sales_writes_name_the_rep_queue_only_with_a_rep() -> None:
    assignment = {"event_id": "e", "assignment_id": "asg-1", "contact_id": "c-1",
                  "account_id": None, "rep_id": None, "pool": "NA:smb", "rule": "unassigned",
                  "priority": "p1", "trigger": "form.demo_request", "sla_due_at": None,
                  "caused_by": "x", "occurred_at": T, "model_version": "m1"}
    keys, args = AssignmentWrite(assignment).script_call()
    assert keys == ["qs:assignment:asg-1", "qs:contact:c-1"] and args[:4] == [
        "assign", "asg-1", "", str(T)]
    keys, _ = AssignmentWrite({**assignment, "rep_id": "rep-1"}).script_call()
    assert keys[-1] == "qs:queue:rep-1"
    sla = {"event_id": "s", "sla_id": "sla-1", "assignment_id": "asg-1", "contact_id": "c-1",
           "rep_id": "rep-1", "kind": "first_touch", "status": "warning", "due_at": T + 5,
           "occurred_at": T, "escalation_target": None, "priority": "p1"}
    keys, args = SlaWrite(sla).script_call()
    assert keys == ["qs:assignment:asg-1", "qs:contact:c-1", "qs:queue:rep-1"]
    assert args == ["sla", "asg-1", "rep-1", "first_touch", "2", "warning", str(T + 5), "c-1"]
