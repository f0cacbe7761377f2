"""When a contact must be routed to a rep, and what its sales activity does to it (pure)."""

from __future__ import annotations

from dataclasses import replace

from streams.core.account import AccountStageChanged, AccountState
from streams.core.account_events import MemberContributed
from streams.core.account_scoring import member_intent
from streams.core.contact_state import ContactState, evaluate, fit_of
from streams.core.effects import ContactEffect, Reason, StageChanged
from streams.core.events import SignalObserved, is_anonymous
from streams.core.fit import region_of
from streams.core.ids import derive_id
from streams.core.model import ScoringModel
from streams.core.routing import RouteRequested
from streams.core.sales_events import SalesActivityObserved
from streams.core.thresholds import direction

SALES_READY = "sales_ready"
# sales activity kind -> the stage it moves the lead to (first touches only stop clocks)
ACTIVITY_STAGE = {"accepted": "accepted", "rejected": "recycled", "disqualified": "disqualified",
                  "recycled": "recycled"}
CLOSING_ACTIVITIES = frozenset(ACTIVITY_STAGE)


def territory_pool(state: ContactState, model: ScoringModel) -> str:
    """The territory pool of a contact: its region x its account's segment."""
    fit = fit_of(state, model)
    region = region_of(state.account, state.profile, model) or "UNKNOWN"
    return f"{region}:{fit.segment}"


def route_request(state: ContactState, payload: object, effects: list[ContactEffect],
                  model: ScoringModel) -> RouteRequested | None:
    """Route at once on a demo request or contact-sales form from a non-excluded, identified
    contact (speed to lead, whatever the score), and on every move to sales_ready otherwise.
    One request per causing event: its id derives from that event."""
    if is_anonymous(state.contact_id):
        return None
    fit = fit_of(state, model)
    if fit.exclusion is not None:
        return None
    trigger: str | None = None
    caused_by = ""
    if isinstance(payload, SignalObserved) and model.is_instant(payload.signal):
        trigger, caused_by = payload.signal, payload.event_id
    else:
        for effect in effects:
            if isinstance(effect, StageChanged) and effect.to_stage == SALES_READY:
                trigger, caused_by = SALES_READY, effect.caused_by
    if trigger is None:
        return None
    return RouteRequested(
        event_id=derive_id("route", state.contact_id, caused_by),
        occurred_at=state.ref_ms,
        contact_id=state.contact_id,
        account_id=state.account_id,
        owner_rep_id=state.account.owner_rep_id if state.account else None,
        pool=territory_pool(state, model),
        trigger=trigger,
        priority=model.routing.priority_of(trigger),
        caused_by=caused_by,
    )


def apply_activity(state: ContactState, activity: SalesActivityObserved,
                   model: ScoringModel) -> tuple[ContactState, list[ContactEffect]]:
    """Accepted → accepted (SQL); rejected → recycled; disqualified → disqualified; recycled →
    recycled (back to nurture on re-qualification). First touches change no stage."""
    target = ACTIVITY_STAGE.get(activity.kind)
    if target is None or target == state.stage:
        return state, []
    ev = evaluate(state, model)
    change = StageChanged(
        event_id=derive_id("stage", state.contact_id, activity.event_id, state.stage, target),
        contact_id=state.contact_id,
        account_id=state.account_id,
        from_stage=state.stage,
        to_stage=target,
        direction=direction(state.stage, target),
        trigger="sales_activity",
        threshold=None,
        fit=ev.fit.score,
        intent=ev.intent.intent,
        total=ev.total,
        fit_grade=ev.fit.grade,
        segment=ev.fit.segment,
        model_version=model.version,
        reasons=(Reason(f"reason:{activity.reason_code}", "sales_activity", 0.0, 1),)
        if activity.reason_code else (),
        first_touch=state.first_touch,
        last_touch=state.last_touch,
        exclusion=ev.fit.exclusion,
        caused_by=activity.event_id,
        occurred_at=activity.occurred_at,
        account_score=state.account_score,
        committee_size=state.committee_size,
    )
    return replace(state, stage=target, stage_since=activity.occurred_at, hold_until=None), [change]


def account_route_request(state: AccountState, change: AccountStageChanged,
                          model: ScoringModel) -> RouteRequested | None:
    """A newly qualified account goes to its owner (or its territory pool), on behalf of its
    most engaged decision maker (else its most engaged member), whose SLA clocks then run."""
    if change.to_stage != "qualified" or not state.contributions:
        return None
    def rank(c: MemberContributed) -> tuple[bool, float, str]:
        intent = member_intent(c, state.ref_ms, model)
        return (c.persona in model.account.committee_requires, intent, c.contact_id)

    lead = max(state.contributions, key=rank)
    facts = state.firmographics
    region = None
    if facts is not None:
        region = (facts.region or "").strip().upper() or model.region_of(facts.country)
    return RouteRequested(
        event_id=derive_id("route", "account", state.domain, change.caused_by),
        occurred_at=change.occurred_at,
        contact_id=lead.contact_id,
        account_id=facts.account_id if facts else None,
        owner_rep_id=facts.owner_rep_id if facts else None,
        pool=f"{region or 'UNKNOWN'}:{change.segment}",
        trigger="account_qualified",
        priority=model.routing.priority_of("account_qualified"),
        caused_by=change.event_id,
    )
