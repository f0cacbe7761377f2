"""Router agent: the single writer of the reps' open load assigns each routed lead once."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

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
from streams.shell.ingest_agent import CONTACT_INPUTS, ROUTING
from streams.shell.records import contact_input_record, routing_from_record
from streams.shell.router_states import (  # noqa: F401 - the row codec, re-exported
    state_from_record,
    state_to_record,
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
    msg = event.message
    if msg.key is None or msg.value is None:
        raise ValueError("internal message without key or value")
    key = msg.key.decode()
    states = p.router_states
    state = states.read(p, key, msg.partition)
    payload = routing_from_record(p.codec.decode(ROUTING, msg.value))
    if isinstance(payload, RepProfile):
        states.put(p, key, msg.partition, apply_roster(state, payload))
        return
    if isinstance(payload, AssignmentClosed):
        states.put(p, key, msg.partition, close(state, payload))
        return
    if state.routed(payload.event_id) is not None:
        # Read again (an offset not yet committed when a rebalance or a restart moved the
        # partition, or a contact re-sending its request after a crash): the assignment and
        # its SLA start were acknowledged by the broker before the state recorded them, so
        # nothing is sent again.
        p.metrics.duplicates.labels("router").inc()
        return
    # Routing time is the request's own timestamp, not the clock: a request read again after a
    # crash between the sends and the state write goes the same way, with identical outputs.
    now = int(msg.timestamp * 1000) if msg.timestamp else wall_clock_ms()
    new_state, effects = route(state, payload, now, p.model.routing)
    acks: list[Any] = []
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
        acks.append(await p.topics["assignments"].send(
            key=effect.contact_id.encode(),
            value=p.codec.encode("routing.assignments",
                                 assignment_record(effect, due, p.model.version))))
        started = AssignmentStarted(effect.event_id, effect.occurred_at, effect.assignment_id,
                                    effect.priority, effect.trigger, effect.pool, rep)
        from streams.core.events import ContactInput, Origin

        out = ContactInput(effect.contact_id, started,  # type: ignore[arg-type]
                           Origin(msg.topic, msg.partition, msg.offset))
        acks.append(await p.topics["contact_inputs"].send(
            key=effect.contact_id.encode(),
            value=p.codec.encode(CONTACT_INPUTS, contact_input_record(out))))
        p.metrics.assignments.labels(effect.pool if effect.rule != "unassigned" else "none",
                                     effect.rule).inc()
        p.metrics.routing_latency.observe(max(0.0, (effect.occurred_at - payload.occurred_at)
                                              / 1000))
    for ack in acks:
        await ack
    if new_state is not state:
        states.put(p, key, msg.partition, new_state)


def register(p: Pipeline) -> None:
    def forget(sender: object, revoked: set[Any], **_: object) -> None:
        p.router_states.forget()  # whoever owns a key next, its row is the truth again

    p.app.on_partitions_revoked.connect(forget, weak=False)  # type: ignore[arg-type]

    @p.app.agent(p.topics["routing"], name="router")
    async def router(stream: StreamT) -> None:
        await run_agent(p, stream, "router", process)
