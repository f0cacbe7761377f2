"""Internal topic records round-trip every payload through the Avro codec."""

from __future__ import annotations

import pytest

from streams.codecs import codec_for
from streams.core.account_events import (
    AccountFirmographics,
    AccountInput,
    MemberContributed,
    MemberJoined,
    MemberLeft,
    ThirdPartyIntent,
)
from streams.core.events import (
    AccountContextUpdated,
    AccountProfiled,
    ContactErased,
    ContactInput,
    ContactProfiled,
    Origin,
    SignalObserved,
    TimerTick,
)
from streams.core.routing import AssignmentClosed, RouteRequested
from streams.core.sales_events import AssignmentStarted, RepProfile, SalesActivityObserved
from streams.shell.records import (
    account_input_from_record,
    account_input_record,
    contact_input_from_record,
    contact_input_record,
    routing_from_record,
    routing_record,
    timer_tick_record,
)

CODEC = codec_for(None)
ORIGIN = Origin("events.web", 3, 42)
FACTS = ("A1", "acme.com", "software", 500, 90_000_000, "US", "NA", ("salesforce",), "rep-1",
         False, True)


@pytest.mark.parametrize("payload", [
    SignalObserved("e1", 1, "web.pricing", "web", "google", "acme.com"),
    ContactProfiled("e2", 2, "acme.com", None, "VP", "vp", "eng", "decision_maker", "US"),
    AccountProfiled("e3", 3, *FACTS),
    ContactErased("e4", 4),
    AccountContextUpdated("e5", 5, 61.5, 3, "qualified"),
])
def test_contact_inputs_round_trip(payload: object) -> None:
    inp = ContactInput("c-1", payload, ORIGIN)  # type: ignore[arg-type]
    raw = CODEC.encode("qualstream.contact-inputs", contact_input_record(inp))
    assert contact_input_from_record(CODEC.decode("qualstream.contact-inputs", raw)) == inp


def test_timer_tick_round_trip() -> None:
    raw = CODEC.encode("qualstream.contact-inputs", timer_tick_record(TimerTick("t1", 99)))
    assert contact_input_from_record(CODEC.decode("qualstream.contact-inputs", raw)) == \
        TimerTick("t1", 99)


@pytest.mark.parametrize("payload", [
    AccountFirmographics("a1", 1, *FACTS),
    ThirdPartyIntent("i1", 2, "lead scoring", 80, "bombora"),
    MemberJoined("j1", 3, "c-1"),
    MemberLeft("l1", 4, "c-1"),
    MemberContributed("m1", 5, "c-1", 7, 5, (("web.pricing", 12.5), ("email.open", 0.5)),
                      "champion", "director", 4, "nurture"),
])
def test_account_inputs_round_trip(payload: object) -> None:
    inp = AccountInput("acme.com", payload, ORIGIN)  # type: ignore[arg-type]
    raw = CODEC.encode("qualstream.account-inputs", account_input_record(inp))
    assert account_input_from_record(CODEC.decode("qualstream.account-inputs", raw)) == inp


REP = RepProfile("r1", 1, "rep-1", True, ("NA:smb",), ("NA:smb", "fallback"), 2, 5, 540, 1020,
                 (1, 2, 3), "Europe/Berlin", "mgr-1")


@pytest.mark.parametrize("payload", [
    SalesActivityObserved("s1", 6, "c-1", "rep-1", "rejected", "no_budget", "as-1"),
    AssignmentStarted("as1", 7, "as-1", "p1", "form.demo_request", "NA:smb", REP),
    AssignmentStarted("as2", 8, "as-2", "p2", "sales_ready", "NA:smb", None),
])
def test_sales_payloads_round_trip(payload: object) -> None:
    inp = ContactInput("c-1", payload, ORIGIN)  # type: ignore[arg-type]
    raw = CODEC.encode("qualstream.contact-inputs", contact_input_record(inp))
    assert contact_input_from_record(CODEC.decode("qualstream.contact-inputs", raw)) == inp


@pytest.mark.parametrize("payload", [
    REP,
    RouteRequested("q1", 9, "c-1", "A1", "rep-1", "NA:smb", "sales_ready", "p2", "e9",
                   ("rep-2",)),
    AssignmentClosed("x1", 10, "as-1", "rep-1"),
])
def test_routing_messages_round_trip(payload: object) -> None:
    raw = CODEC.encode("qualstream.routing", routing_record(payload))  # type: ignore[arg-type]
    assert routing_from_record(CODEC.decode("qualstream.routing", raw)) == payload


def test_router_state_round_trips_through_json() -> None:
    import json

    from streams.core.routing import RouterState, apply_roster, route
    from streams.core.routing_rules import RoutingRules
    from streams.shell.router_agent import state_from_record, state_to_record

    state = apply_roster(RouterState(), REP)
    request = RouteRequested("q1", 9, "c-1", "A1", None, "NA:smb", "sales_ready", "p2", "e9")
    state, _ = route(state, request, 1_780_000_000_000, RoutingRules(respect_working_hours=False))
    assert state.load("rep-1") == 1
    assert state_from_record(json.loads(json.dumps(state_to_record(state)))) == state


def test_router_rows_are_compact_and_rows_of_the_first_format_still_read() -> None:
    import json
    from dataclasses import asdict, replace

    from streams.core.routing import RECENT_LIMIT, RouterState, apply_roster, route
    from streams.core.routing_rules import RoutingRules
    from streams.shell.router_agent import state_from_record, state_to_record

    state = apply_roster(RouterState(), REP)
    rules = RoutingRules(respect_working_hours=False)
    for i in range(RECENT_LIMIT + 5):
        request = RouteRequested(f"q{i}", 9, f"c-{i}", "A1", None, "NA:smb", "sales_ready",
                                 "p2", f"e{i}")
        state, _ = route(state, request, 1_780_000_000_000 + i, rules)
    assert len(state.recent) == RECENT_LIMIT
    compact = json.dumps(state_to_record(state))
    assert state_from_record(json.loads(compact)) == state
    first_format = json.dumps(asdict(state))  # rows written before ROW_VERSION 2
    assert state_from_record(json.loads(first_format)) == state
    assert len(compact) < 0.6 * len(first_format)
    closed = replace(state, open=())
    assert state_from_record(json.loads(json.dumps(state_to_record(closed)))) == closed


def test_router_rows_carry_the_offset_they_applied_and_their_outbox() -> None:
    """What a replayed routing input is judged by: the row's last applied offset (on its own
    partition only) and the sends it still carries; rows written before both read as none."""
    import json
    from types import SimpleNamespace

    from streams.core.routing import RouterState, apply_roster
    from streams.shell.router_states import RouterStates, state_to_record, stored_outbox

    state = apply_roster(RouterState(), REP)
    table: dict[str, object] = {}
    p = SimpleNamespace(tables={"router": table})
    entry = ["assignments", "c-1", "AAEC"]
    RouterStates().put(p, "k", 0, state, 41, [entry])  # type: ignore[arg-type]
    table["k"] = json.loads(json.dumps(table["k"]))  # as the changelog gives it back
    fresh = RouterStates()  # another worker: nothing cached
    assert fresh.read(p, "k", 0) == (state, 41)  # type: ignore[arg-type]
    assert fresh.read(p, "k", 1)[1] == -1  # type: ignore[arg-type]
    assert stored_outbox(p, "k") == [entry]  # type: ignore[arg-type]
    table["old"] = json.loads(json.dumps(state_to_record(state)))
    assert fresh.read(p, "old", 0) == (state, -1)  # type: ignore[arg-type]
    assert stored_outbox(p, "old") == []  # type: ignore[arg-type]
    assert fresh.read(p, "none", 0) == (RouterState(), -1)  # type: ignore[arg-type]
