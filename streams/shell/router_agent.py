"""Router agent: the single writer of the reps' open load assigns each routed lead once."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from streams.core.events import ContactInput, Origin
from streams.core.routing import (
    AssignmentClosed,
    LeadRouted,
    RoutingFailed,
    apply_roster,
    close,
    route,
)
from streams.core.sales_events import AssignmentStarted, RepProfile
from streams.shell.agent_loop import run_agent
from streams.shell.app import wall_clock_ms
from streams.shell.flush_marks import needs_resend, wrote_row
from streams.shell.ingest_agent import CONTACT_INPUTS, ROUTING
from streams.shell.records import contact_input_record, routing_from_record
from streams.shell.router_states import (  # noqa: F401 - the row codec, re-exported
    state_from_record,
    state_to_record,
    stored_outbox,
)

if TYPE_CHECKING:
    from faust.types import EventT, StreamT

    from streams.shell.app import Pipeline

log = logging.getLogger("qualstream.router")


def assignment_record(routed: LeadRouted, sla_due_at: int | None,
                      model_version: str) -> dict[str, Any]:
    return {
        "event_id": routed.event_id, "assignment_id": routed.assignment_id,
        "contact_id": routed.contact_id, "account_id": routed.account_id,
        "rep_id": routed.rep_id, "pool": routed.pool, "rule": routed.rule,
        "priority": routed.priority, "trigger": routed.trigger, "sla_due_at": sla_due_at,
        "caused_by": routed.caused_by, "occurred_at": routed.occurred_at,
        "model_version": model_version,
    }


async def process(p: Pipeline, event: EventT) -> None:
    """Route one request (or apply a roster change or a closed assignment).

    The assignment and the contact's ``AssignmentStarted`` go out through the router's outbox
    and the row records them until the broker acknowledged them (``streams/shell/outbox.py``):
    no round trip per routed lead, which capped the single router key at a few dozen routes/s
    on a busy broker (a burst of demo requests and SLA reassignments queued behind it). The
    row records the offset of the input it last applied: an input read again at or below it
    (after a rebalance or a crash) is not applied again, and the one at it sends the row's
    outbox again when this worker did not write that row itself."""
    msg = event.message
    if msg.key is None or msg.value is None:
        raise ValueError("internal message without key or value")
    key = msg.key.decode()
    states = p.router_states
    box = p.outboxes["router"]
    state, applied = states.read(p, key, msg.partition)
    if msg.offset <= applied:
        p.metrics.duplicates.labels("router").inc()
        if msg.offset == applied and needs_resend(p, "router", msg.tp, msg.offset):
            await box.resend(p, key, stored_outbox(p, key),
                             f"{msg.topic}/{msg.partition}/{msg.offset}")
        return
    payload = routing_from_record(p.codec.decode(ROUTING, msg.value))
    if isinstance(payload, RepProfile | AssignmentClosed):
        new = apply_roster(state, payload) if isinstance(payload, RepProfile) else close(
            state, payload)
        wrote_row(p, msg.tp, msg.offset)
        states.put(p, key, msg.partition, new, msg.offset, await box.pending(p, key))
        return
    if state.routed(payload.event_id) is not None:
        # A request routed before (a contact re-sending its outbox after a crash, or a
        # request read again from before this row's offset was kept): already assigned.
        p.metrics.duplicates.labels("router").inc()
        return
    # Routing time is the request's own timestamp, not the clock: a request read again after a
    # crash between the sends and the state write goes the same way, with identical outputs.
    now = int(msg.timestamp * 1000) if msg.timestamp else wall_clock_ms()
    new_state, effects = route(state, payload, now, p.model.routing)
    for effect in effects:
        if isinstance(effect, RoutingFailed):
            p.metrics.routing_failed.labels(effect.reason).inc()
            log.warning("nobody can take a %s lead of pool %s (assignment %s)", effect.priority,
                        effect.pool, effect.assignment_id)
            continue
        if not isinstance(effect, LeadRouted):
            continue
        rep = new_state.rep(effect.rep_id) if effect.rep_id else None
        first_touch = p.model.sla.of("first_touch")
        due = (effect.occurred_at + first_touch.duration_ms(effect.priority)
               if rep is not None and not first_touch.business_hours else None)
        await box.send(p, key, "assignments", effect.contact_id, p.codec.encode(
            "routing.assignments", assignment_record(effect, due, p.model.version)))
        started = AssignmentStarted(effect.event_id, effect.occurred_at, effect.assignment_id,
                                    effect.priority, effect.trigger, effect.pool, rep)
        out = ContactInput(effect.contact_id, started,  # type: ignore[arg-type]
                           Origin(msg.topic, msg.partition, msg.offset))
        await box.send(p, key, "contact_inputs", effect.contact_id,
                       p.codec.encode(CONTACT_INPUTS, contact_input_record(out)))
        p.metrics.assignments.labels(effect.pool if effect.rule != "unassigned" else "none",
                                     effect.rule).inc()
        p.metrics.routing_latency.observe(max(0.0, (effect.occurred_at - payload.occurred_at)
                                              / 1000))
    if new_state is not state:
        wrote_row(p, msg.tp, msg.offset)
        states.put(p, key, msg.partition, new_state, msg.offset, await box.pending(p, key))


def register(p: Pipeline) -> None:
    def forget(sender: object, revoked: set[Any], **_: object) -> None:
        p.router_states.forget()  # whoever owns a key next, its row is the truth again

    p.app.on_partitions_revoked.connect(forget, weak=False)  # type: ignore[arg-type]

    @p.app.agent(p.topics["routing"], name="router")
    async def router(stream: StreamT) -> None:
        await run_agent(p, stream, "router", process)
