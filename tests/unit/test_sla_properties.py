"""SLA timer properties: once per status, never backwards, met means no breach, exact deadlines."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from streams.core.sales_events import RepProfile, SalesActivityObserved
from streams.core.sla import (
    DECISION_ACTIVITIES,
    EMPTY,
    FIRST_TOUCH_ACTIVITIES,
    SlaEffect,
    SlaEventRaised,
    SlaState,
    cancel,
    due,
    next_deadline,
    on_activity,
    start,
)
from streams.core.sla_rules import parse_sla

T0 = 1_800_000_000_000
RULES = parse_sla({
    "first_touch": {"seconds": {"p1": 2, "p2": 5, "p3": 9}},
    "accept_reject": {"seconds": {"p1": 6, "p2": 12, "p3": 20}, "business_hours": False},
})
REPS = (None, RepProfile("ev", 0, "r1", True, (), (), manager_rep_id="m1"),
        RepProfile("ev", 0, "r2", True, (), ()))
ASSIGNMENTS = ("a1", "a2", "a3")
ACTIVITY_KINDS = ("first_touch", "call", "email_sent", "meeting_booked", "accepted", "rejected",
                  "disqualified", "recycled", "note_added")
# Allowed successions of event statuses of one timer.
NEXT = {None: {"started"}, "started": {"warning", "breached", "met", "cancelled"},
        "warning": {"breached", "met", "cancelled"}}


@dataclass(frozen=True)
class Op:
    advance_ms: int  # wall-clock time passing before the operation
    what: str  # start | tick | activity | cancel
    assignment: str
    detail: str  # kinds for start (first_touch|accept_reject|both), activity kind otherwise
    priority: str
    rep: int
    lag_ms: int  # how much earlier than now the activity happened
    named: bool  # the activity names its assignment


ops = st.builds(
    Op,
    advance_ms=st.integers(0, 4000),
    what=st.sampled_from(("start", "start", "tick", "tick", "activity", "activity", "cancel")),
    assignment=st.sampled_from(ASSIGNMENTS),
    detail=st.sampled_from((*ACTIVITY_KINDS, "both")),
    priority=st.sampled_from(("p1", "p2", "p3")),
    rep=st.integers(0, len(REPS) - 1),
    lag_ms=st.integers(0, 3000),
    named=st.booleans(),
)


def _kinds(detail: str) -> tuple[str, ...]:
    if detail == "both":
        return ("first_touch", "accept_reject")
    return ("accept_reject",) if detail in DECISION_ACTIVITIES else ("first_touch",)


def _apply(state: SlaState, op: Op, now: int) -> tuple[SlaState, tuple[SlaEffect, ...]]:
    if op.what == "start":
        return start(state, op.assignment, "c1", REPS[op.rep], op.priority, _kinds(op.detail),
                     now, RULES)
    if op.what == "tick":
        return due(state, now)
    if op.what == "cancel":
        return cancel(state, op.assignment, now)
    kind = "call" if op.detail == "both" else op.detail
    activity = SalesActivityObserved(f"act-{now}", now - op.lag_ms, "c1", "r1", kind,
                                     assignment_id=op.assignment if op.named else None)
    return on_activity(state, activity, now)


def _run(sequence: list[Op]) -> list[tuple[SlaState, Op, int, SlaState, tuple[SlaEffect, ...]]]:
    state, now, steps = EMPTY, T0, []
    for op in sequence:
        now += op.advance_ms
        after, effects = _apply(state, op, now)
        steps.append((state, op, now, after, effects))
        state = after
    return steps


@settings(max_examples=300, deadline=None)
@given(st.lists(ops, max_size=40))
def test_each_status_at_most_once_and_never_backwards(sequence: list[Op]) -> None:
    last: dict[str, str | None] = defaultdict(lambda: None)
    seen: set[str] = set()
    for _, _, _, _, effects in _run(sequence):
        for effect in effects:
            if not isinstance(effect, SlaEventRaised):
                continue
            assert effect.event_id not in seen
            seen.add(effect.event_id)
            assert effect.status in NEXT[last[effect.sla_id]], (last[effect.sla_id], effect)
            last[effect.sla_id] = effect.status


@settings(max_examples=300, deadline=None)
@given(st.lists(ops, max_size=40))
def test_an_activity_that_meets_before_due_means_no_breach(sequence: list[Op]) -> None:
    met_in_time: set[str] = set()
    for before, op, now, _, effects in _run(sequence):
        events = [e for e in effects if isinstance(e, SlaEventRaised)]
        assert not any(e.status == "breached" and e.sla_id in met_in_time for e in events)
        if op.what != "activity" or op.detail not in FIRST_TOUCH_ACTIVITIES | DECISION_ACTIVITIES:
            continue
        answered = {"first_touch"} | ({"accept_reject"} if op.detail in DECISION_ACTIVITIES
                                      else set())
        for timer in before.timers:
            if (timer.kind in answered and now < timer.due_at
                    and (not op.named or timer.assignment_id == op.assignment)):
                assert any(e.sla_id == timer.sla_id and e.status == "met" for e in events)
                met_in_time.add(timer.sla_id)


@settings(max_examples=300, deadline=None)
@given(st.lists(ops, max_size=40), st.integers(0, 30_000))
def test_next_deadline_is_exactly_when_the_next_effect_is_due(sequence: list[Op],
                                                              probe: int) -> None:
    for _, op, now, state, _ in _run(sequence):
        deadline = next_deadline(state)
        if deadline is None:
            assert due(state, now + probe) == (state, ())
            continue
        if op.what == "tick":
            assert deadline > now  # a tick fires everything due by then
        assert due(state, deadline - 1) == (state, ())
        assert due(state, T0 + probe % (deadline - T0)) == (state, ())
        fired = due(state, deadline)[1]
        assert fired and all(e.occurred_at == deadline for e in fired
                             if isinstance(e, SlaEventRaised))


@settings(max_examples=200, deadline=None)
@given(st.lists(ops, max_size=40), st.lists(st.integers(0, 25_000), max_size=8))
def test_ticks_replayed_at_other_times_emit_the_same_breaches(sequence: list[Op],
                                                              extra: list[int]) -> None:
    # Deadlines are state: how often the shell ticks changes no breach record, only whether a
    # warning gets a chance before its breach.
    states = [after for _, _, _, after, _ in _run(sequence)]
    final = states[-1] if states else EMPTY
    one_late_tick = [e for e in due(final, T0 + 10**9)[1] if isinstance(e, SlaEventRaised)]
    state, many = final, []
    for at in sorted(extra) + [10**9]:
        state, effects = due(state, T0 + at)
        many += [e for e in effects if isinstance(e, SlaEventRaised)]
    def breaches(events: list[SlaEventRaised]) -> list[SlaEventRaised]:
        return sorted((e for e in events if e.status == "breached"), key=lambda e: e.sla_id)

    assert breaches(many) == breaches(one_late_tick)
    assert state.timers == ()
