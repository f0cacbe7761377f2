"""Contact agent: load the contact's state, fold one input through the core, write, send."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from streams.core import contact as core
from streams.core import sla
from streams.core.account_events import AccountInput, MemberJoined, MemberLeft
from streams.core.effects import AccountLinked, ContactEffect, ContactForgotten, StageChanged
from streams.core.events import (
    AccountContextUpdated,
    ContactInput,
    ContactProfiled,
    Origin,
    TimerTick,
)
from streams.core.ids import derive_id
from streams.core.lead_routing import route_request
from streams.core.sales_events import AssignmentStarted, SalesActivityObserved
from streams.core.sla import SlaState
from streams.shell.agent_loop import run_agent
from streams.shell.app import wall_clock_ms
from streams.shell.contact_rows import (
    CONTACT,
    ERASED,
    RowHeader,
    contact_row,
    erased_row,
    read_contact,
    read_header,
    read_outbox,
    tick_mark_row,
)
from streams.shell.contact_sales import (
    acked_sender,
    on_activity,
    on_assignment,
    outbox_sender,
    router_value,
    send_sla_effects,
)
from streams.shell.deadline_index import DeadlineIndex
from streams.shell.flush_marks import needs_resend, wrote_row
from streams.shell.ingest_agent import ACCOUNT_INPUTS, CONTACT_INPUTS
from streams.shell.records import (
    ROUTING_KEY,
    account_input_record,
    contact_input_from_record,
    contact_state_record,
    qualification_event_record,
)

if TYPE_CHECKING:
    from faust.types import EventT, StreamT

    from streams.shell.app import Pipeline

log = logging.getLogger("qualstream.contact")
TICK_WATERMARK = "__tick__:{partition}"


async def _deliver(futures: list[Any]) -> None:
    """Wait until the broker has acknowledged these sends.

    A transition must be durable before the state that says it happened: otherwise a crash
    could persist the state (so the replayed input is skipped) and lose the transition. On
    the hot path (``process``) the row's outbox says it instead, without a round trip per
    input (see ``streams/shell/outbox.py``); timers still wait here, once per tick.
    """
    if futures:
        await asyncio.gather(*futures)


async def _publish_latest(p: Pipeline, state: core.ContactState, here: Origin) -> None:
    """Send the contact's latest state downstream and its contribution to its account.

    Both are "latest wins" values, so they are not awaited: a replay of the last input a key
    applied sends them again (see ``process``).
    """
    snap = core.snapshot(state, p.model)
    await p.send("qualification_contacts", state.contact_id.encode(),
                 p.codec.encode("qualification.contacts", contact_state_record(snap)))
    contribution = core.contribution(state)
    if contribution is not None and state.email_domain is not None:
        await p.send("account_inputs", state.email_domain.encode(),
                     _account_value(p, state.email_domain, contribution, here))


def _account_value(p: Pipeline, domain: str, payload: Any, origin: Origin) -> bytes:
    inp = AccountInput(domain=domain, payload=payload, origin=origin)
    return p.codec.encode(ACCOUNT_INPUTS, account_input_record(inp))


async def _send_effects(p: Pipeline, key: str, effects: list[ContactEffect], occurred_at: int,
                        here: Origin) -> None:
    """Send the effects through the contact outbox (not awaited); only an erasure's are
    awaited, as its marker row carries no outbox."""
    box = p.outboxes["contact"]
    acks: list[Any] = []
    for effect in effects:
        if isinstance(effect, StageChanged):
            await box.send(p, key, "qualification_events", effect.contact_id,
                           p.codec.encode("qualification.events",
                                          qualification_event_record(effect)))
            p.metrics.transitions.labels(effect.to_stage, effect.direction, effect.trigger).inc()
            p.metrics.event_to_output.labels("qualification.events").observe(
                max(0.0, (wall_clock_ms() - effect.occurred_at) / 1000))
        elif isinstance(effect, AccountLinked):
            await box.send(p, key, "account_inputs", effect.domain, _account_value(
                p, effect.domain, MemberJoined(
                    derive_id("joined", effect.contact_id, effect.domain, effect.caused_by),
                    occurred_at, effect.contact_id), here))
            if effect.previous_domain:
                await box.send(p, key, "account_inputs", effect.previous_domain, _account_value(
                    p, effect.previous_domain, MemberLeft(
                        derive_id("left", effect.contact_id, effect.previous_domain,
                                  effect.caused_by), occurred_at, effect.contact_id), here))
        elif isinstance(effect, ContactForgotten):
            if effect.domain:
                await box.send(p, key, "account_inputs", effect.domain, _account_value(
                    p, effect.domain, MemberLeft(
                        derive_id("left", effect.contact_id, effect.domain, effect.caused_by),
                        occurred_at, effect.contact_id), here))
            acks.append(await p.topics["qualification_contacts"].send(
                key=effect.contact_id.encode(), value=None))
    await _deliver(acks)


async def _save(p: Pipeline, key: str, state: core.ContactState, partition: int, offset: int,
                slas: SlaState) -> None:
    """Write the state with its next deadline (changelogged, so timers survive restarts):
    the earlier of the score's decay crossing and the SLA clocks; and with its outbox, the
    sends made for it that the broker has not acknowledged yet."""
    deadlines = [d for d in (core.next_down_crossing(state, p.model), sla.next_deadline(slas))
                 if d is not None]
    deadline = min(deadlines) if deadlines else None
    outbox = await p.outboxes["contact"].pending(p, key)
    p.tables["contacts"][key] = contact_row(state, slas, partition, offset, deadline, outbox)
    kinds = tuple(t.kind for t in slas.timers)
    p.contact_states.remember(key, partition, (
        RowHeader(CONTACT, partition, offset, deadline, kinds), state, slas))
    p.deadlines(partition).schedule(key, deadline, kinds)


async def process(p: Pipeline, event: EventT) -> None:
    msg = event.message
    table = p.tables["contacts"]
    if msg.key is None or msg.value is None:
        raise ValueError("internal message without key or value")
    key = msg.key.decode()
    decoded = contact_input_from_record(p.codec.decode(CONTACT_INPUTS, msg.value))
    here = Origin(msg.topic, msg.partition, msg.offset)
    if isinstance(decoded, TimerTick):
        await _tick(p, decoded, here)
        return
    inp: ContactInput = decoded if decoded.origin is not None else replace(decoded, origin=here)
    index = p.deadlines(msg.partition)  # before any write: a rebuild would count the new key
    # a live contact this worker wrote last is not read and decoded again (its row, with the
    # outbox, is read only for a re-send below)
    cached = p.contact_states.get(key, msg.partition)
    row = table.get(key) if cached is None else None
    is_new = cached is None and row is None
    head = cached[0] if cached is not None else read_header(row) if row is not None else None
    if head is not None and head.kind == ERASED:
        # An erased contact stays erased: replays and late events are dropped, and only a new
        # CRM record (the contact re-created upstream) starts a fresh history.
        if msg.offset <= head.offset or not isinstance(inp.payload, ContactProfiled):
            p.metrics.events_dropped.labels("erased").inc()
            return
        row = head = None
    state: core.ContactState | None
    if cached is not None:
        _, state, slas = cached
    else:
        state, slas = read_contact(row) if row is not None else (None, SlaState())
    if isinstance(inp.payload, AssignmentStarted | SalesActivityObserved):
        await _sales_input(p, key, state, slas, inp.payload, msg, head, row)
        return
    new_state, effects = core.apply(state, inp, p.model)
    box = p.outboxes["contact"]
    if state is not None and new_state is state:
        p.metrics.duplicates.labels("contact").inc()
        if (head is not None and head.offset == msg.offset
                and needs_resend(p, "contacts", msg.tp, msg.offset)):
            # Replaying the last input this key applied: its outbox, snapshot and contribution
            # may not have reached the broker before the crash, so send them again
            # (idempotent; see streams/shell/outbox.py).
            row = row if row is not None else table.get(key)
            if row is not None:
                at = f"{msg.topic}/{msg.partition}/{msg.offset}"
                await box.resend(p, key, read_outbox(row), at)
                await _publish_latest(p, state, here)
        return
    wrote_row(p, msg.tp, msg.offset)
    await _send_effects(p, key, effects, inp.payload.occurred_at, here)
    request = route_request(new_state, inp.payload, effects, p.model) if new_state else None
    if request is not None and not slas.timers:  # one open assignment at a time
        await box.send(p, key, "routing", ROUTING_KEY, router_value(p, request))
    if new_state is None:
        # Keep a marker (no personal data) so a replay of older inputs cannot resurrect it.
        await box.settle(key)  # the marker carries no outbox
        table[key] = erased_row(msg.partition, msg.offset)
        p.contact_states.drop(key)
        index.schedule(key, None)
        index.keys += is_new
        return
    await _save(p, key, new_state, msg.partition, msg.offset, slas)
    index.keys += is_new
    if isinstance(inp.payload, AccountContextUpdated):
        return  # context only: no score, snapshot or contribution changed
    await _publish_latest(p, new_state, here)


async def _tick(p: Pipeline, tick: TimerTick, here: Origin) -> None:
    """Fire every decay and SLA deadline of this partition that is due at the tick's time.

    The timers' sends are acknowledged before their rows are written (no replay fires them
    again: a replayed tick is skipped by its own watermark), in one round trip for the whole
    tick rather than one per contact: with each contact waiting for its own, a burst of due
    timers (an SLA breach per lead of a busy hour) queued the partition's inputs behind them.
    """
    table = p.tables["contacts"]
    mark_key = TICK_WATERMARK.format(partition=here.partition)
    mark = table.get(mark_key)
    if mark is not None and here.offset <= read_header(mark).offset:
        return  # a replayed tick: the deadlines it fired are in the state already
    index = p.deadlines(here.partition)
    fired_here: list[tuple[str, core.ContactState, core.ContactState, SlaState, int]] = []
    acks: list[Any] = []
    for key in index.due(tick.occurred_at):
        # a contact this worker wrote last is not read and decoded again (erasure drops it)
        cached = p.contact_states.get(key, here.partition)
        if cached is None:
            row = table.get(key)
            found = read_header(row) if row is not None else None
            if row is None or found is None or found.kind == ERASED:
                index.schedule(key, None)
                continue
            cached = (found, *read_contact(row))
        head, state, slas = cached
        fired, effects = core.fire_decay(state, tick.occurred_at, p.model)
        new_slas, sla_effects = sla.due(slas, tick.occurred_at)
        if fired is state and new_slas is slas:
            await _save(p, key, state, here.partition, head.offset, slas)  # reschedule
            continue
        p.metrics.timer_lateness.labels("decay" if fired is not state else "sla").observe(
            max(0.0, (tick.occurred_at - (head.deadline or tick.occurred_at)) / 1000))
        if fired is not state:
            p.metrics.timers_fired.labels("decay").inc()
        if new_slas is not slas:
            p.metrics.timers_fired.labels("sla").inc()
        await _send_effects(p, key, effects, tick.occurred_at, here)
        new_slas = await send_sla_effects(p, new_slas, sla_effects, fired, acked_sender(p, acks))
        fired_here.append((key, state, fired, new_slas, head.offset))
    await _deliver(acks)
    for key, state, fired, new_slas, offset in fired_here:
        await p.outboxes["contact"].settle(key)
        await _save(p, key, fired, here.partition, offset, new_slas)
        if fired is state:
            continue
        snap = core.snapshot(fired, p.model)
        await p.topics["qualification_contacts"].send(
            key=key.encode(),
            value=p.codec.encode("qualification.contacts", contact_state_record(snap)))
    # Every tick, idle or not, moves the mark: a tick read again after a rebalance or a
    # rewind would otherwise meet a state that inputs after it have changed, and could fire
    # a deadline there that the same inputs in order never let fall due (one small changelog
    # record per tick and partition).
    table[mark_key] = tick_mark_row(here.partition, here.offset)
    index.keys += mark is None


async def _sales_input(p: Pipeline, key: str, state: core.ContactState | None, slas: SlaState,
                       payload: AssignmentStarted | SalesActivityObserved, msg: Any,
                       head: RowHeader | None, row: bytes | None) -> None:
    """An assignment starts SLA clocks; sales activity stops them and may move the stage.

    Their sends go through the contact's outbox, like those of every other input: no round
    trip per input (an assignment per routed lead and per SLA reassignment; while each waited
    for the broker, a burst of demo requests queued the partition behind those waits). The
    row records the input's offset, so a replay of it (after a crash) is recognised: the
    input the row last applied sends the row's outbox again, earlier ones are skipped.
    """
    if state is None:
        p.metrics.events_dropped.labels("unknown_contact").inc()
        return
    box = p.outboxes["contact"]
    if head is not None and head.partition == msg.partition and msg.offset <= head.offset:
        p.metrics.duplicates.labels("contact").inc()
        if head.offset == msg.offset and needs_resend(p, "contacts", msg.tp, msg.offset):
            row = row if row is not None else p.tables["contacts"].get(key)
            if row is not None:
                await box.resend(p, key, read_outbox(row),
                                 f"{msg.topic}/{msg.partition}/{msg.offset}")
        return
    wrote_row(p, msg.tp, msg.offset)
    send = outbox_sender(p, key)
    if isinstance(payload, AssignmentStarted):
        new_slas = await on_assignment(p, slas, payload, key, send)
        await _save(p, key, state, msg.partition, msg.offset, new_slas)
        return
    new_state, new_slas = await on_activity(p, state, slas, payload, send)
    await _save(p, key, new_state, msg.partition, msg.offset, new_slas)
    if new_state is not state:
        snap = core.snapshot(new_state, p.model)
        await p.topics["qualification_contacts"].send(
            key=key.encode(),
            value=p.codec.encode("qualification.contacts", contact_state_record(snap)))


def rebuild_deadlines(p: Pipeline, partition: int) -> dict[int, DeadlineIndex]:
    """The deadline indexes of ``partition`` and of every other contact-inputs partition
    assigned to this worker and not indexed yet, read back from the table in one scan.

    One scan, not one per partition (each would read every key of the worker's store), and
    only the rows' headers are decoded: a restart with a million contacts costs one pass.
    """
    wanted = {partition} | (assigned_partitions(p) - p.indexed_partitions())
    indexes = {n: DeadlineIndex() for n in wanted}
    for key, row in p.tables["contacts"].items():
        head = read_header(row)
        index = indexes.get(head.partition)
        if index is None:
            continue
        index.keys += 1
        if head.deadline is not None:
            index.schedule(key, head.deadline, head.sla_kinds)
    for n, index in sorted(indexes.items()):
        log.info("contact deadlines of partition %s rebuilt: %s scheduled of %s keys",
                 n, len(index), index.keys)
    return indexes


def assigned_partitions(p: Pipeline) -> set[int]:
    """The contact-inputs partitions this worker's consumer owns (empty without one)."""
    name = p.settings.topics.contact_inputs
    try:
        return {tp.partition for tp in p.app.consumer.assignment() if tp.topic == name}
    except Exception:  # noqa: BLE001 - no consumer (agent tests) or a rebalance in progress
        return set()


def register(p: Pipeline) -> None:
    def forget(sender: object, revoked: set[Any], **_: object) -> None:
        p.contact_states.forget()  # whoever owns a key next, its row is the truth again

    p.app.on_partitions_revoked.connect(forget, weak=False)  # type: ignore[arg-type]

    @p.app.agent(p.topics["contact_inputs"], name="contact")
    async def contact(stream: StreamT) -> None:
        await run_agent(p, stream, "contact", process)
