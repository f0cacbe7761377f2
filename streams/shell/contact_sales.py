"""The contact agent's sales side: routing requests, SLA clocks and sales activity."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from streams.core import sla
from streams.core.contact_state import ContactState
from streams.core.effects import StageChanged
from streams.core.ids import derive_id
from streams.core.lead_routing import CLOSING_ACTIVITIES, apply_activity
from streams.core.routing import AssignmentClosed, RouteRequested
from streams.core.sales_events import AssignmentStarted, SalesActivityObserved
from streams.core.sla import ReassignRequested, SlaEventRaised, SlaState, SlaTimer
from streams.shell.app import wall_clock_ms
from streams.shell.ingest_agent import ROUTING
from streams.shell.records import ROUTING_KEY, qualification_event_record, routing_record

if TYPE_CHECKING:
    from streams.shell.app import Pipeline

SLA_KINDS = ("first_touch", "accept_reject")

# How the sales side sends: (slot in ``Pipeline.topics``, key, value). Through the contact's
# outbox for an input (a replay of the input its row last applied sends the outbox again),
# or with the broker's acknowledgement collected for a timer (no replay fires it again).
Send = Callable[[str, str, bytes], Awaitable[None]]


def outbox_sender(p: Pipeline, owner: str) -> Send:
    """Sends kept in ``owner``'s outbox until the broker acknowledged them."""
    box = p.outboxes["contact"]

    async def send(slot: str, key: str, value: bytes) -> None:
        await box.send(p, owner, slot, key, value)

    return send


def acked_sender(p: Pipeline, acks: list[Any]) -> Send:
    """Sends whose delivery futures are appended to ``acks`` (the caller awaits them)."""

    async def send(slot: str, key: str, value: bytes) -> None:
        acks.append(await p.send(slot, key.encode(), value))

    return send


def sla_to_record(state: SlaState) -> dict[str, Any]:
    return asdict(state)


def sla_from_record(raw: dict[str, Any] | None) -> SlaState:
    if not raw:
        return SlaState()
    return SlaState(timers=tuple(SlaTimer(**t) for t in raw["timers"]),
                    finished=tuple(raw["finished"]))


def router_value(p: Pipeline, payload: RouteRequested | AssignmentClosed) -> bytes:
    return p.codec.encode(ROUTING, routing_record(payload))


def _sla_record(e: SlaEventRaised) -> dict[str, Any]:
    return {"event_id": e.event_id, "sla_id": e.sla_id, "assignment_id": e.assignment_id,
            "contact_id": e.contact_id, "rep_id": e.rep_id, "kind": e.kind, "status": e.status,
            "due_at": e.due_at, "occurred_at": e.occurred_at,
            "escalation_target": e.escalation_target, "priority": e.priority}


async def send_sla_effects(p: Pipeline, state: SlaState, effects: tuple[sla.SlaEffect, ...],
                           contact: ContactState | None, send: Send) -> SlaState:
    """Publish SLA events; a breach that escalates by reassignment frees the rep and routes
    the lead again to anyone else."""
    for effect in effects:
        if isinstance(effect, SlaEventRaised):
            await send("sla_events", effect.contact_id,
                       p.codec.encode("sla.events", _sla_record(effect)))
            p.metrics.sla_events.labels(effect.kind, effect.status).inc()
        elif isinstance(effect, ReassignRequested):
            state, cancelled = sla.cancel(state, effect.assignment_id, effect.requested_at)
            state = await send_sla_effects(p, state, cancelled, contact, send)
            if effect.excluded_rep:
                await send("routing", ROUTING_KEY, router_value(p, AssignmentClosed(
                    derive_id("closed", effect.assignment_id), effect.requested_at,
                    effect.assignment_id, effect.excluded_rep)))
            if contact is not None:
                from streams.core.lead_routing import territory_pool

                await send("routing", ROUTING_KEY, router_value(p, RouteRequested(
                    event_id=derive_id("route", effect.contact_id, effect.sla_id),
                    occurred_at=effect.requested_at, contact_id=effect.contact_id,
                    account_id=contact.account_id,
                    owner_rep_id=contact.account.owner_rep_id if contact.account else None,
                    pool=territory_pool(contact, p.model), trigger="sla_breach_reassign",
                    priority="p1", caused_by=effect.sla_id,
                    excluded_reps=(effect.excluded_rep,) if effect.excluded_rep else ())))
    return state


async def on_assignment(p: Pipeline, state: SlaState, started: AssignmentStarted,
                        contact_id: str, send: Send) -> SlaState:
    if started.rep is None:  # nobody took it: no clock to run (the router alerted)
        return state
    new, effects = sla.start(state, started.assignment_id, contact_id, started.rep,
                             started.priority, SLA_KINDS, started.occurred_at, p.model.sla)
    return await send_sla_effects(p, new, effects, None, send)


async def on_activity(p: Pipeline, contact: ContactState, state: SlaState,
                      activity: SalesActivityObserved, send: Send
                      ) -> tuple[ContactState, SlaState]:
    new_contact, changes = apply_activity(contact, activity, p.model)
    for change in changes:
        if not isinstance(change, StageChanged):
            continue
        await send("qualification_events", contact.contact_id,
                   p.codec.encode("qualification.events", qualification_event_record(change)))
    if activity.kind in ("rejected", "disqualified"):
        source = contact.first_touch.source if contact.first_touch else "unknown"
        p.metrics.rejections.labels(activity.kind, source).inc()
    open_reps = {t.assignment_id: t.rep_id for t in state.timers}
    if activity.assignment_id and activity.rep_id:
        # also when its clocks already finished (e.g. a breach escalated to the manager)
        open_reps.setdefault(activity.assignment_id, activity.rep_id)
    new_state, effects = sla.on_activity(state, activity, wall_clock_ms())
    new_state = await send_sla_effects(p, new_state, effects, new_contact, send)
    if activity.kind in CLOSING_ACTIVITIES:
        for assignment_id, rep_id in open_reps.items():
            if rep_id and (activity.assignment_id in (None, assignment_id)):
                await send("routing", ROUTING_KEY, router_value(p, AssignmentClosed(
                    derive_id("closed", assignment_id), activity.occurred_at, assignment_id,
                    rep_id)))
    return new_contact, new_state
