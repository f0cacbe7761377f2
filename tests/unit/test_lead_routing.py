"""When a contact is routed, to which pool, and what sales activity does to its stage."""

from __future__ import annotations

from streams.config import DEFAULT_MODEL_PATH
from streams.core.contact import apply
from streams.core.contact_state import ContactState
from streams.core.effects import ContactEffect, StageChanged
from streams.core.events import AccountProfiled, ContactInput, ContactProfiled, SignalObserved
from streams.core.lead_routing import apply_activity, route_request, territory_pool
from streams.core.model import parse_model
from streams.core.sales_events import SalesActivityObserved

MODEL = parse_model(DEFAULT_MODEL_PATH.read_text())
T0 = 1_780_000_000_000


def contact(domain: str = "acme.com", seniority: str = "vp") -> ContactState:
    state = None
    for payload in (
        ContactProfiled("p", T0, domain, None, "VP", seniority, "eng", "decision_maker", "DE"),
        AccountProfiled("a", T0, "A1", domain, "software", 500, None, "DE", None, ("salesforce",),
                        "rep-owner", False, False),
    ):
        state, _ = apply(state, ContactInput("c-1", payload), MODEL)
    assert state is not None
    return state


def step(state: ContactState, payload: SignalObserved) -> tuple[ContactState,
                                                                list[ContactEffect]]:
    new, effects = apply(state, ContactInput(state.contact_id, payload), MODEL)
    assert new is not None
    return new, effects


def test_a_demo_request_is_routed_at_once_with_p1_to_the_territory_pool() -> None:
    state, effects = step(contact(), SignalObserved("demo", T0 + 1, "form.demo_request", "web"))
    request = route_request(state, SignalObserved("demo", T0 + 1, "form.demo_request", "web"),
                            effects, MODEL)
    assert request is not None
    assert (request.trigger, request.priority, request.pool) == (
        "form.demo_request", "p1", "EMEA:mid_market")
    assert request.owner_rep_id == "rep-owner" and request.caused_by == "demo"
    assert territory_pool(state, MODEL) == "EMEA:mid_market"


def test_excluded_and_quiet_contacts_are_not_routed() -> None:
    student = contact(seniority="student")
    payload = SignalObserved("demo", T0 + 1, "form.demo_request", "web")
    state, effects = step(student, payload)
    assert route_request(state, payload, effects, MODEL) is None
    blog = SignalObserved("b", T0 + 1, "web.blog", "web")
    state, effects = step(contact(), blog)
    assert route_request(state, blog, effects, MODEL) is None


def test_sales_activity_moves_the_stage_once() -> None:
    state, _ = step(contact(), SignalObserved("demo", T0 + 1, "form.demo_request", "web"))
    assert state.stage == "sales_ready"
    rejected = SalesActivityObserved("x1", T0 + 5, "c-1", "rep-1", "rejected", "no_budget", "as")
    after, [change] = apply_activity(state, rejected, MODEL)
    assert isinstance(change, StageChanged)
    assert (after.stage, change.trigger, change.direction) == ("recycled", "sales_activity",
                                                               "down")
    assert change.reasons[0].signal == "reason:no_budget"
    again, none = apply_activity(after, rejected, MODEL)
    assert again is after and none == []
    touch = SalesActivityObserved("x2", T0 + 6, "c-1", "rep-1", "first_touch")
    assert apply_activity(after, touch, MODEL) == (after, [])
