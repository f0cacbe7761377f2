"""Account agent: keeps firmographics and members per company domain, shares them with members."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from streams.core.account import (
    AccountContextShared,
    AccountStageChanged,
    AccountState,
    FirmographicsShared,
    account_key,
    account_snapshot,
    apply_account,
)
from streams.core.events import AccountContextUpdated, ContactInput, Origin
from streams.core.lead_routing import account_route_request
from streams.shell.account_state import state_to_record
from streams.shell.agent_loop import run_agent
from streams.shell.contact_sales import router_value
from streams.shell.flush_marks import needs_resend, wrote_row
from streams.shell.ingest_agent import ACCOUNT_INPUTS, CONTACT_INPUTS
from streams.shell.records import (
    ROUTING_KEY,
    account_event_record,
    account_input_from_record,
    account_state_record,
    contact_input_record,
)

if TYPE_CHECKING:
    from faust.types import EventT, StreamT

    from streams.shell.app import Pipeline

log = logging.getLogger("qualstream.account")


async def process(p: Pipeline, event: EventT) -> None:
    msg = event.message
    table = p.tables["accounts"]
    if msg.key is None or msg.value is None:
        raise ValueError("internal message without key or value")
    key = msg.key.decode()
    inp = account_input_from_record(p.codec.decode(ACCOUNT_INPUTS, msg.value))
    here = Origin(msg.topic, msg.partition, msg.offset)
    state = p.account_states.read(table, key, msg.partition)
    new_state, effects = apply_account(state, inp, p.model)
    box = p.outboxes["account"]
    if state is not None and new_state is state:
        p.metrics.duplicates.labels("account").inc()
        stored = table.get(key)
        if (stored and stored.get("xo") == msg.offset
                and needs_resend(p, "accounts", msg.tp, msg.offset)):
            # Replaying the last input this key applied: send its outbox (the sends the
            # broker may not have acknowledged before a crash) and snapshot again.
            at = f"{msg.topic}/{msg.partition}/{msg.offset}"
            await box.resend(p, key, stored.get("x"), at)
            await _publish(p, state, state)
        return
    wrote_row(p, msg.tp, msg.offset)
    for effect in effects:
        # The origin of what we send is this message: each member sees this partition's
        # offsets in order, so its watermark skips a re-send after a crash.
        if isinstance(effect, FirmographicsShared):
            for contact_id in effect.contact_ids:
                await _to_contact(p, key, ContactInput(contact_id, effect.facts, here))
        elif isinstance(effect, AccountContextShared):
            context = AccountContextUpdated(effect.event_id, effect.occurred_at,
                                            effect.account_score, effect.committee_size,
                                            effect.account_stage)
            for contact_id in effect.contact_ids:
                await _to_contact(p, key, ContactInput(contact_id, context, here))
        elif isinstance(effect, AccountStageChanged):
            await box.send(p, key, "qualification_events", effect.account_id or effect.domain,
                           p.codec.encode("qualification.events",
                                          account_event_record(effect)))
            p.metrics.transitions.labels(effect.to_stage, effect.direction, effect.trigger).inc()
            request = account_route_request(new_state, effect, p.model)
            if request is not None:
                await box.send(p, key, "routing", ROUTING_KEY, router_value(p, request))
    # Not awaited: the row carries what the broker has not acknowledged yet, with the offset
    # of the input it last applied (see streams/shell/outbox.py).
    record = state_to_record(new_state)
    record["xo"] = msg.offset
    outbox = await box.pending(p, key)
    if outbox:
        record["x"] = outbox
    table[key] = record
    p.account_states.remember(key, msg.partition, new_state)
    await _publish(p, state, new_state)


async def _publish(p: Pipeline, state: AccountState | None, new_state: AccountState) -> None:
    """Send the account's latest state (latest wins, not awaited)."""
    snap = account_snapshot(new_state, p.model)
    if state is not None:
        before = account_key(state)
        if before != snap.account_id:
            # Keyed by its domain until the CRM record named it: that key is dropped
            # downstream (compaction), or it would keep a stale state forever.
            await p.send("qualification_accounts", before.encode(), None)
    await p.send("qualification_accounts", snap.account_id.encode(),
                 p.codec.encode("qualification.accounts", account_state_record(snap)))


async def _to_contact(p: Pipeline, owner: str, inp: ContactInput) -> None:
    await p.outboxes["account"].send(
        p, owner, "contact_inputs", inp.contact_id,
        p.codec.encode(CONTACT_INPUTS, contact_input_record(inp)))


def register(p: Pipeline) -> None:
    def forget(sender: object, revoked: set[Any], **_: object) -> None:
        p.account_states.forget()  # whoever owns a key next, its row is the truth again

    p.app.on_partitions_revoked.connect(forget, weak=False)  # type: ignore[arg-type]

    @p.app.agent(p.topics["account_inputs"], name="account")
    async def account(stream: StreamT) -> None:
        await run_agent(p, stream, "account", process)
