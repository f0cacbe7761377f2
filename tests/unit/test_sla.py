"""SLA timers by example: start, warning, breach and escalation, meet, cancel, business hours."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from streams.core import sla
from streams.core.ids import derive_id
from streams.core.sales_events import RepProfile, SalesActivityObserved
from streams.core.sla import (
    EMPTY,
    ReassignRequested,
    SlaEffect,
    SlaEventRaised,
    SlaState,
    cancel,
    due,
    next_deadline,
    on_activity,
    start,
)
from streams.core.sla_rules import DEFAULT_SLA, parse_sla

BERLIN = ZoneInfo("Europe/Berlin")
T0 = 1_800_000_000_000
FAST = parse_sla({"first_touch": {"seconds": 2}, "accept_reject": {"seconds": 10,
                                                                   "business_hours": False}})
REP = RepProfile("rep-ev", 0, "r1", True, ("EMEA:smb",), ("EMEA:smb",), work_start_minute=540,
                 work_end_minute=1020, timezone="Europe/Berlin",
                 manager_rep_id="m1")
BOTH = ("first_touch", "accept_reject")


def _ms(year: int, month: int, day: int, hour: int, minute: int) -> int:
    """Epoch ms of a Berlin wall time."""
    return int(datetime(year, month, day, hour, minute, tzinfo=BERLIN).timestamp() * 1000)


def _activity(kind: str, at: int, assignment_id: str | None = "a1",
              contact_id: str = "c1") -> SalesActivityObserved:
    return SalesActivityObserved(f"act-{kind}-{at}", at, contact_id, "r1", kind,
                                 assignment_id=assignment_id)


def _statuses(effects: tuple[SlaEffect, ...]) -> list[tuple[str, str]]:
    return [(e.kind, e.status) for e in effects if isinstance(e, SlaEventRaised)]


def _started(kinds: tuple[str, ...] = ("first_touch",), rep: RepProfile | None = REP) -> SlaState:
    state, effects = start(EMPTY, "a1", "c1", rep, "p1", kinds, T0, FAST)
    assert _statuses(effects) == [(kind, "started") for kind in kinds]
    return state


def test_a_two_second_first_touch_warns_then_breaches_and_asks_for_reassignment() -> None:
    state = _started()
    (timer,) = state.timers
    assert timer.sla_id == derive_id("sla", "a1", "first_touch")
    assert (timer.warn_at, timer.due_at, timer.rep_id) == (T0 + 1500, T0 + 2000, "r1")
    assert next_deadline(state) == T0 + 1500
    assert due(state, T0 + 1499) == (state, ())
    state, effects = due(state, T0 + 1500)
    assert _statuses(effects) == [("first_touch", "warning")]
    assert effects[0] == SlaEventRaised(
        derive_id("sla-event", timer.sla_id, "warning"), timer.sla_id, "a1", "c1", "r1",
        "first_touch", "warning", T0 + 2000, T0 + 1500, None, "p1")
    assert next_deadline(state) == T0 + 2000
    state, effects = due(state, T0 + 2500)
    breach, reassign = effects
    assert isinstance(breach, SlaEventRaised) and breach.status == "breached"
    assert breach.occurred_at == T0 + 2000  # the deadline itself: a replay emits the same bytes
    assert reassign == ReassignRequested("a1", "c1", "r1", timer.sla_id, T0 + 2000)
    assert state.timers == () and state.finished == (timer.sla_id,)
    assert next_deadline(state) is None
    assert due(state, T0 + 99_000) == (state, ())


def test_met_before_due_is_met_only() -> None:
    state, effects = on_activity(_started(), _activity("call", T0 + 1000), T0 + 1000)
    assert _statuses(effects) == [("first_touch", "met")]
    assert isinstance(effects[0], SlaEventRaised) and effects[0].occurred_at == T0 + 1000
    assert due(state, T0 + 60_000) == (state, ())
    assert on_activity(state, _activity("call", T0 + 1200), T0 + 1200) == (state, ())


def test_an_overdue_timer_breaches_directly_without_a_warning() -> None:
    _, effects = due(_started(), T0 + 3_600_000)  # first tick long after a restart
    assert _statuses(effects) == [("first_touch", "breached")]


def test_manager_escalation_names_the_manager_on_warning_and_breach() -> None:
    state = _started(("accept_reject",))
    state, warned = due(state, T0 + 7500)
    state, breached = due(state, T0 + 10_000)
    assert [(e.status, e.escalation_target) for e in warned + breached
            if isinstance(e, SlaEventRaised)] == [("warning", "m1"), ("breached", "m1")]
    assert not any(isinstance(e, ReassignRequested) for e in breached)


def test_no_rep_means_no_manager_and_no_excluded_rep() -> None:
    state = _started(BOTH, rep=None)
    _, effects = due(state, T0 + 10_000)
    events = [e for e in effects if isinstance(e, SlaEventRaised)]
    assert {(e.kind, e.rep_id, e.escalation_target) for e in events} == {
        ("first_touch", None, None), ("accept_reject", None, None)}
    assert [e.excluded_rep for e in effects if isinstance(e, ReassignRequested)] == [None]


def test_a_decision_meets_both_timers_and_a_touch_only_the_first() -> None:
    state = _started(BOTH)
    touched, effects = on_activity(state, _activity("meeting_booked", T0 + 100), T0 + 100)
    assert _statuses(effects) == [("first_touch", "met")]
    _, effects = on_activity(touched, _activity("accepted", T0 + 200), T0 + 200)
    assert _statuses(effects) == [("accept_reject", "met")]
    _, effects = on_activity(state, _activity("disqualified", T0 + 200), T0 + 200)
    assert sorted(_statuses(effects)) == [("accept_reject", "met"), ("first_touch", "met")]


def test_recycled_cancels_everything_open_and_other_kinds_do_nothing() -> None:
    state = _started(BOTH)
    _, effects = on_activity(state, _activity("recycled", T0 + 100), T0 + 100)
    assert sorted(_statuses(effects)) == [("accept_reject", "cancelled"),
                                          ("first_touch", "cancelled")]
    assert on_activity(state, _activity("note_added", T0 + 100), T0 + 100) == (state, ())


def test_activity_matches_its_assignment_or_else_every_timer_of_the_contact() -> None:
    state = _started(BOTH)
    state, _ = start(state, "a2", "c1", REP, "p2", ("first_touch",), T0, FAST)
    assert on_activity(state, _activity("call", T0 + 1, "a9"), T0 + 1) == (state, ())
    assert on_activity(state, _activity("call", T0 + 1, "a1", "c2"), T0 + 1) == (state, ())
    _, effects = on_activity(state, _activity("call", T0 + 1, "a2"), T0 + 1)
    assert [e.assignment_id for e in effects if isinstance(e, SlaEventRaised)] == ["a2"]
    _, effects = on_activity(state, _activity("call", T0 + 1, None), T0 + 1)
    assert sorted(e.assignment_id for e in effects if isinstance(e, SlaEventRaised)) == [
        "a1", "a2"]


def test_a_late_delivered_activity_that_happened_in_time_still_meets() -> None:
    # the warning it passed (at 1.5 s) is still owed; the breach (at 2 s) is not
    _, effects = on_activity(_started(), _activity("call", T0 + 1900), T0 + 5000)
    assert _statuses(effects) == [("first_touch", "warning"), ("first_touch", "met")]


def test_an_activity_after_the_deadline_cannot_turn_a_breach_into_a_meet() -> None:
    state, effects = on_activity(_started(), _activity("call", T0 + 2500), T0 + 2600)
    assert _statuses(effects) == [("first_touch", "breached")]
    assert state.timers == ()


def test_a_redelivered_start_is_a_no_op_even_after_the_timer_finished() -> None:
    state = _started(BOTH)
    assert start(state, "a1", "c1", REP, "p1", BOTH, T0 + 5, FAST) == (state, ())
    finished, _ = cancel(state, "a1", T0 + 10)
    assert finished.timers == () and len(finished.finished) == 2
    assert start(finished, "a1", "c1", REP, "p1", BOTH, T0 + 20, FAST) == (finished, ())


def test_cancel_stops_only_that_assignment() -> None:
    state = _started()
    state, _ = start(state, "a2", "c1", REP, "p1", ("first_touch",), T0, FAST)
    state, effects = cancel(state, "a1", T0 + 100)
    assert [(e.assignment_id, e.status, e.occurred_at) for e in effects
            if isinstance(e, SlaEventRaised)] == [("a1", "cancelled", T0 + 100)]
    assert [t.assignment_id for t in state.timers] == ["a2"]
    assert cancel(state, "a1", T0 + 200) == (state, ())


def test_the_history_of_finished_ids_is_bounded() -> None:
    state = EMPTY
    for index in range(sla.HISTORY_LIMIT + 5):
        state, _ = start(state, f"a{index}", "c1", None, "p1", ("first_touch",), T0, FAST)
        state, _ = cancel(state, f"a{index}", T0)
    assert len(state.finished) == sla.HISTORY_LIMIT
    assert derive_id("sla", "a0", "first_touch") not in state.finished


def test_unknown_kind_or_priority_raises() -> None:
    with pytest.raises(ValueError, match="unknown priority"):
        start(EMPTY, "a1", "c1", REP, "p7", ("first_touch",), T0, FAST)
    with pytest.raises(ValueError, match="unknown kind"):
        start(EMPTY, "a1", "c1", REP, "p1", ("callback",), T0, FAST)


def test_business_hours_48h_from_friday_16_is_due_six_working_days_later() -> None:
    friday = _ms(2026, 11, 6, 16, 0)
    assert datetime(2026, 11, 6, tzinfo=BERLIN).isoweekday() == 5
    state, _ = start(EMPTY, "a1", "c1", REP, "p2", BOTH, friday, DEFAULT_SLA)
    decision = next(t for t in state.timers if t.kind == "accept_reject")
    # Fri 1 h + Mon..Fri 5 x 8 h = 41 h, then 7 h of the Monday after: 16:00, 6 working days on.
    assert decision.due_at == _ms(2026, 11, 16, 16, 0)
    # warning after 36 working hours: Fri 1 h + Mon..Thu 32 h, then 3 h of Friday: 12:00
    assert decision.warn_at == _ms(2026, 11, 13, 12, 0)
    touch = next(t for t in state.timers if t.kind == "first_touch")
    assert touch.due_at == friday + 60 * 60_000  # first touch counts calendar time (p2: 60 min)


def test_business_hours_across_the_spring_clock_change() -> None:
    friday = _ms(2026, 3, 20, 16, 0)  # CET; the clocks go forward on Sunday 29 March
    state, _ = start(EMPTY, "a1", "c1", REP, "p1", ("accept_reject",), friday, DEFAULT_SLA)
    (timer,) = state.timers
    assert timer.due_at == _ms(2026, 3, 30, 16, 0)  # 16:00 CEST
    assert timer.due_at - friday == (10 * 24 - 1) * 3_600_000


def test_business_hours_count_calendar_time_without_a_rep_or_working_time() -> None:
    friday = _ms(2026, 11, 6, 16, 0)
    for rep in (None, RepProfile("ev", 0, "r2", True, (), (), work_days=())):
        state, _ = start(EMPTY, "a1", "c1", rep, "p2", ("accept_reject",), friday, DEFAULT_SLA)
        assert state.timers[0].due_at == friday + 48 * 3_600_000
