"""Map core values to and from the Avro records of the internal and output topics."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from streams.core.account_events import (
    AccountFirmographics,
    AccountInput,
    AccountPayload,
    MemberContributed,
    MemberJoined,
    MemberLeft,
    ThirdPartyIntent,
)
from streams.core.effects import Reason, StageChanged, Touch
from streams.core.events import (
    TICK_KEY,
    AccountContextUpdated,
    AccountProfiled,
    ContactErased,
    ContactInput,
    ContactPayload,
    ContactProfiled,
    Origin,
    SignalObserved,
    TimerTick,
)
from streams.core.routing import AssignmentClosed, RouteRequested
from streams.core.sales_events import AssignmentStarted, RepProfile, SalesActivityObserved

NS = "qualstream.internal"
_CONTACT_PAYLOADS: dict[str, type] = {
    "SignalObserved": SignalObserved,
    "ContactProfiled": ContactProfiled,
    "AccountProfiled": AccountProfiled,
    "ContactErased": ContactErased,
    "TimerTick": TimerTick,
    "AccountContextUpdated": AccountContextUpdated,
    "SalesActivityObserved": SalesActivityObserved,
    "AssignmentStarted": AssignmentStarted,
}
_ROUTING_PAYLOADS: dict[str, type] = {
    "RepProfile": RepProfile,
    "RouteRequested": RouteRequested,
    "AssignmentClosed": AssignmentClosed,
}
ROUTING_KEY = "routing"


def routing_record(payload: RepProfile | RouteRequested | AssignmentClosed) -> dict[str, Any]:
    return {"key": ROUTING_KEY, "payload": _payload_record(payload)}


def routing_from_record(raw: dict[str, Any]) -> RepProfile | RouteRequested | AssignmentClosed:
    kind, fields = _split_union(raw["payload"], _ROUTING_PAYLOADS)
    result: RepProfile | RouteRequested | AssignmentClosed = _build(kind, fields)
    return result
_ACCOUNT_PAYLOADS: dict[str, type] = {
    "AccountFirmographics": AccountFirmographics,
    "ThirdPartyIntent": ThirdPartyIntent,
    "MemberJoined": MemberJoined,
    "MemberLeft": MemberLeft,
    "MemberContributed": MemberContributed,
}


def _lists(value: Any) -> Any:
    """Tuples (and nested ones) as lists, as the Avro arrays expect."""
    if isinstance(value, dict):
        return {k: _lists(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_lists(v) for v in value]
    return value


def _origin_record(origin: Origin | None) -> dict[str, Any] | None:
    if origin is None:
        return None
    return {"topic": origin.topic, "partition": origin.partition, "offset": origin.offset}


def _origin(raw: dict[str, Any] | None) -> Origin | None:
    if raw is None:
        return None
    return Origin(raw["topic"], int(raw["partition"]), int(raw["offset"]))


def _payload_record(payload: object) -> tuple[str, dict[str, Any]]:
    fields = _lists(asdict(payload))  # type: ignore[call-overload]
    if "tech_stack" in fields:
        fields["tech_stack"] = list(fields["tech_stack"])
    if "signal_values" in fields:
        fields["signal_values"] = [{"signal": n, "value": v} for n, v in fields["signal_values"]]
    return f"{NS}.{type(payload).__name__}", fields


def _split_union(raw: Any, kinds: dict[str, type]) -> tuple[type, dict[str, Any]]:
    """The codec returns union members as ``(full record name, record)``."""
    name, fields = raw
    kind = kinds.get(name.rsplit(".", 1)[-1])
    if kind is None:
        raise ValueError(f"unexpected payload type {name}")
    return kind, fields


def rep_from_record(raw: dict[str, Any]) -> RepProfile:
    return RepProfile(**{**raw, "pools": tuple(raw["pools"]),
                         "territories": tuple(raw["territories"]),
                         "work_days": tuple(raw["work_days"])})


def _build(kind: type, fields: dict[str, Any]) -> Any:
    values = dict(fields)
    if kind is RepProfile:
        return rep_from_record(values)
    if kind is AssignmentStarted:
        return AssignmentStarted(**{**values, "rep": rep_from_record(values["rep"]) if values["rep"] else None})
    if kind is RouteRequested:
        values["excluded_reps"] = tuple(values["excluded_reps"])
    if "tech_stack" in values:
        values["tech_stack"] = tuple(values["tech_stack"])
    if "signal_values" in values:
        values["signal_values"] = tuple((v["signal"], v["value"]) for v in values["signal_values"])
    return kind(**values)


def contact_input_record(inp: ContactInput) -> dict[str, Any]:
    return {
        "contact_id": inp.contact_id,
        "origin": _origin_record(inp.origin),
        "payload": _payload_record(inp.payload),
    }


def contact_input_from_record(raw: dict[str, Any]) -> ContactInput | TimerTick:
    kind, fields = _split_union(raw["payload"], _CONTACT_PAYLOADS)
    if kind is TimerTick:
        return TimerTick(**fields)
    payload: ContactPayload = _build(kind, fields)
    return ContactInput(raw["contact_id"], payload, _origin(raw.get("origin")))


def timer_tick_record(tick: TimerTick) -> dict[str, Any]:
    return {"contact_id": TICK_KEY, "origin": None, "payload": _payload_record(tick)}


def account_input_record(inp: AccountInput) -> dict[str, Any]:
    return {
        "domain": inp.domain,
        "origin": _origin_record(inp.origin),
        "payload": _payload_record(inp.payload),
    }


def account_input_from_record(raw: dict[str, Any]) -> AccountInput:
    kind, fields = _split_union(raw["payload"], _ACCOUNT_PAYLOADS)
    payload: AccountPayload = _build(kind, fields)
    return AccountInput(raw["domain"], payload, _origin(raw.get("origin")))


def _reason(r: Reason) -> dict[str, Any]:
    return {"signal": r.signal, "category": r.category, "points": r.points, "count": r.count}


def _touch(t: Touch | None) -> dict[str, Any] | None:
    if t is None:
        return None
    return {
        "event_id": t.event_id,
        "signal": t.signal,
        "source": t.source,
        "channel": t.channel,
        "occurred_at": t.occurred_at,
    }


def qualification_event_record(t: StageChanged) -> dict[str, Any]:
    return {
        "event_id": t.event_id,
        "entity_type": "contact",
        "entity_id": t.contact_id,
        "account_id": t.account_id,
        "from_stage": t.from_stage,
        "to_stage": t.to_stage,
        "direction": t.direction,
        "trigger": t.trigger,
        "threshold": t.threshold,
        "fit": t.fit,
        "intent": t.intent,
        "total": t.total,
        "fit_grade": t.fit_grade,
        "segment": t.segment,
        "model_version": t.model_version,
        "reasons": [_reason(r) for r in t.reasons],
        "first_touch": _touch(t.first_touch),
        "last_touch": _touch(t.last_touch),
        "exclusion": t.exclusion,
        "caused_by": t.caused_by,
        "occurred_at": t.occurred_at,
        "account_score": t.account_score,
        "committee_size": t.committee_size,
    }


def contact_state_record(snapshot: Any) -> dict[str, Any]:
    """The ``qualification.contacts`` record of a core ``ContactSnapshot``."""
    return {
        "contact_id": snapshot.contact_id,
        "account_id": snapshot.account_id,
        "domain": snapshot.domain,
        "stage": snapshot.stage,
        "fit": snapshot.fit,
        "intent": snapshot.intent,
        "total": snapshot.total,
        "fit_grade": snapshot.fit_grade,
        "segment": snapshot.segment,
        "model_version": snapshot.model_version,
        "exclusion": snapshot.exclusion,
        "review_reasons": list(snapshot.review_reasons),
        "reasons": [_reason(r) for r in snapshot.reasons],
        "first_touch": _touch(snapshot.first_touch),
        "last_touch": _touch(snapshot.last_touch),
        "events_applied": snapshot.events_applied,
        "last_event_id": snapshot.last_event_id,
        "updated_at": snapshot.updated_at,
    }


def _account_stage(stage: str) -> str:
    """The account core's ``none`` is the contract's ``new``."""
    return "new" if stage == "none" else stage


def account_event_record(t: Any) -> dict[str, Any]:
    """The ``qualification.events`` record of a core ``AccountStageChanged``."""
    return {
        "event_id": t.event_id,
        "entity_type": "account",
        "entity_id": t.account_id or t.domain,
        "account_id": t.account_id,
        "from_stage": _account_stage(t.from_stage),
        "to_stage": _account_stage(t.to_stage),
        "direction": t.direction,
        "trigger": t.trigger,
        "threshold": t.threshold,
        "fit": 0.0,
        "intent": t.member_intent + t.third_party_intent,
        "total": t.score,
        "fit_grade": "-",
        "segment": t.segment,
        "model_version": t.model_version,
        "reasons": [_reason(r) for r in t.reasons],
        "first_touch": None,
        "last_touch": None,
        "exclusion": None,
        "caused_by": t.caused_by,
        "occurred_at": t.occurred_at,
        "account_score": t.score,
        "committee_size": t.committee_size,
    }


def account_state_record(snap: Any) -> dict[str, Any]:
    """The ``qualification.accounts`` record of a core ``AccountSnapshot``."""
    return {
        "account_id": snap.account_id,
        "domain": snap.domain,
        "stage": _account_stage(snap.stage),
        "score": snap.score,
        "member_intent": snap.member_intent,
        "third_party_intent": snap.third_party_intent,
        "committee_size": snap.committee_size,
        "committee_personas": list(snap.committee_personas),
        "has_decision_maker": snap.has_decision_maker,
        "segment": snap.segment,
        "owner_rep_id": snap.owner_rep_id,
        "model_version": snap.model_version,
        "updated_at": snap.updated_at,
    }
