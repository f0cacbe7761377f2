"""The replay's cheap gate: when ``may_cross_by`` says no crossing can be due, none is."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from streams.core.contact import fire_decay, next_down_crossing
from streams.core.contact_state import ContactState
from streams.core.down_crossing import may_cross_by
from tests.unit.test_core_properties import DAY, MODEL, T0, fold, histories


def _sales_ready(state: ContactState | None) -> ContactState:
    assert state is not None
    # Force the stage so that every drawn history exercises the bound (the crossing search
    # works on any state's values; only sales_ready contacts have one).
    return replace(state, stage="sales_ready", hold_until=None)


@settings(max_examples=150, deadline=None)
@given(histories(), st.integers(min_value=0, max_value=400 * DAY))
def test_no_crossing_is_due_when_the_bound_says_so(payloads: list, later: int) -> None:
    state = _sales_ready(fold(payloads)[0])
    until = state.ref_ms + later
    fired, effects = fire_decay(state, until, MODEL)
    if not may_cross_by(state, until, MODEL):
        assert fired is state and not effects
    deadline = next_down_crossing(state, MODEL)
    if deadline is not None and deadline <= until:
        assert may_cross_by(state, until, MODEL)


def test_a_contact_not_sales_ready_never_crosses() -> None:
    state = ContactState("c-1", stage="nurture", ref_ms=T0)
    assert not may_cross_by(state, T0 + 100 * DAY, MODEL)
