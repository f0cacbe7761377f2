"""Account agent: keeps firmographics and members per company domain, shares them with members."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from streams.core.account import AccountState, FirmographicsShared, apply_account
from streams.core.events import ContactInput, Origin
from streams.shell.account_state import state_from_record, state_to_record
from streams.shell.ingest_agent import ACCOUNT_INPUTS, CONTACT_INPUTS, send_dead_letter
from streams.shell.records import account_input_from_record, contact_input_record

if TYPE_CHECKING:
    from faust.types import EventT, StreamT

    from streams.shell.app import Pipeline

log = logging.getLogger("qualstream.account")


async def process(p: Pipeline, event: EventT) -> None:
    msg = event.message
    table = p.tables["accounts"]
    key = msg.key.decode()
    inp = account_input_from_record(p.codec.decode(ACCOUNT_INPUTS, msg.value))
    here = Origin(msg.topic, msg.partition, msg.offset)
    stored = table.get(key)
    state: AccountState | None = state_from_record(stored) if stored else None
    new_state, effects = apply_account(state, inp)
    if state is not None and new_state is state:
        p.metrics.duplicates.labels("account").inc()
        return
    acks: list[Any] = []
    for effect in effects:
        if isinstance(effect, FirmographicsShared):
            for contact_id in effect.contact_ids:
                # The origin is this message: each member sees this partition's offsets in
                # order, so its watermark skips a re-send after a crash.
                out = ContactInput(contact_id, effect.facts, here)
                acks.append(await p.topics["contact_inputs"].send(
                    key=contact_id.encode(),
                    value=p.codec.encode(CONTACT_INPUTS, contact_input_record(out))))
    for ack in acks:
        await ack
    table[key] = state_to_record(new_state)


def register(p: Pipeline) -> None:
    @p.app.agent(p.topics["account_inputs"], name="account")
    async def account(stream: StreamT) -> None:
        async for event in stream.events():
            started = time.perf_counter()
            try:
                await process(p, event)
            except Exception as exc:  # noqa: BLE001 - one bad message must not stop the worker
                log.exception("account agent failed on %s/%s", event.message.partition,
                              event.message.offset)
                p.metrics.errors.labels("account").inc()
                await send_dead_letter(p, event, "process", exc, "account_agent_error")
            p.metrics.processed.labels("account").inc()
            p.metrics.processing.labels("account").observe(time.perf_counter() - started)
