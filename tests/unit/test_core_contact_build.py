"""The hot paths (a signal, new firmographics) build the new contact state in one go: no field
may be forgotten."""

from __future__ import annotations

from dataclasses import fields, replace

import pytest
from test_core_contact import ACME, MODEL, T0, VP

from streams.core.contact import ContactState, apply
from streams.core.contact_state import half_life_of
from streams.core.decay import advance
from streams.core.effects import Touch
from streams.core.events import (
    AccountProfiled,
    ContactInput,
    ContactProfiled,
    Origin,
    SignalObserved,
)

# what a signal changes; every other field must be carried over unchanged
CHANGED = {"ref_ms", "signal_values", "signal_counts", "last_touch", "recent_event_ids",
           "watermarks", "events_applied", "last_event_id", "updated_at"}


def _before() -> ContactState:
    early = Touch("e-0", "web.pricing", "web", "utm", T0 - 10)
    return replace(
        ContactState("c-1"), stage="sales_ready", email_domain="acme.com", account_id="acc-1",
        profile=VP, account=ACME, ref_ms=T0, signal_values=(("web.pricing", 1.0),),
        signal_counts=(("web.pricing", 1),), first_touch=early, last_touch=early,
        recent_event_ids=("old",), watermarks=(("events.email", 3),), events_applied=7,
        hold_until=T0 + 5_000, stage_since=T0 - 20, last_event_id="e-0", updated_at=T0 - 10,
        account_score=12.5, committee_size=3, account_stage="engaged")


def test_a_signal_carries_every_field_it_does_not_change() -> None:
    before = _before()
    signal = SignalObserved("e-1", T0 + 1, "email.open", "email", "utm", "other.com")
    after, effects = apply(before, ContactInput("c-1", signal, Origin("events.web", 0, 9)),
                           MODEL)
    assert after is not None and effects == []
    for field in fields(ContactState):
        if field.name not in CHANGED:
            assert getattr(after, field.name) == getattr(before, field.name), field.name
    assert after.ref_ms == T0 + 1 and after.updated_at == T0 + 1
    assert after.signal_counts == (("email.open", 1), ("web.pricing", 1))
    assert after.last_touch == Touch("e-1", "email.open", "email", "utm", T0 + 1)
    assert after.recent_event_ids[0] == "old" and len(after.recent_event_ids) == 2
    assert after.watermarks == (("events.email", 3), ("events.web:0", 9))
    assert (after.events_applied, after.last_event_id) == (8, "e-1")


@pytest.mark.parametrize("payload", [
    replace(VP, event_id="p-2", occurred_at=T0 + 1, account_id="acc-2", title="CRO"),
    replace(ACME, event_id="a-2", occurred_at=T0 + 1, account_id="acc-2", employee_count=900),
])
def test_firmographics_carry_every_field_they_do_not_change(
        payload: ContactProfiled | AccountProfiled) -> None:
    before = _before()
    after, _ = apply(before, ContactInput("c-1", payload, Origin("crm.x", 0, 9)), MODEL)
    assert after is not None
    changed = {"profile" if isinstance(payload, ContactProfiled) else "account", "account_id",
               "ref_ms", "signal_values", "recent_event_ids", "watermarks", "events_applied",
               "last_event_id", "updated_at"}
    for field in fields(ContactState):
        if field.name not in changed:
            assert getattr(after, field.name) == getattr(before, field.name), field.name
    assert getattr(after, "profile" if isinstance(payload, ContactProfiled) else "account") \
        is payload
    assert after.account_id == "acc-2" and after.ref_ms == after.updated_at == T0 + 1
    assert after.signal_values == tuple(
        advance(before.values, T0, T0 + 1, half_life_of(MODEL)).items())
    assert after.watermarks == (("crm.x:0", 9), ("events.email", 3))
    assert (after.events_applied, after.last_event_id) == (8, payload.event_id)
    assert len(after.recent_event_ids) == 2
