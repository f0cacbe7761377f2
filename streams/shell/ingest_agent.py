"""Ingest agent: decode, validate, normalise, then funnel each input to its entity's topic."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from streams.codecs import SerializationError
from streams.core.account_events import AccountInput
from streams.core.events import ContactInput, Origin
from streams.ingest.errors import InvalidRecord
from streams.ingest.normalise import Dropped, normalise
from streams.ingest.sales import normalise_activity, normalise_rep
from streams.shell.agent_loop import run_agent
from streams.shell.app import wall_clock_ms
from streams.shell.dead_letters import send_dead_letter
from streams.shell.records import (
    ROUTING_KEY,
    account_input_record,
    contact_input_record,
    routing_record,
)

if TYPE_CHECKING:
    from faust.types import EventT, StreamT

    from streams.shell.app import Pipeline

log = logging.getLogger("qualstream.ingest")
CONTACT_INPUTS = "qualstream.contact-inputs"
ACCOUNT_INPUTS = "qualstream.account-inputs"
ROUTING = "qualstream.routing"


async def ingest_one(p: Pipeline, event: EventT) -> None:
    msg = event.message
    base = p.topic_base(msg.topic)
    p.metrics.events_in.labels(base).inc()
    origin = Origin(msg.topic, msg.partition, msg.offset)
    try:
        record = None if msg.value is None else p.codec.decode(base, msg.value)
    except SerializationError as exc:
        await send_dead_letter(p, event, "decode", exc, "undecodable")
        return
    key = msg.key.decode("utf-8", "replace") if msg.key else None
    try:
        if base in SALES_TOPICS:
            await _ingest_sales(p, base, record, origin)
            return
        out = normalise(base, key, record, origin, wall_clock_ms(), p.policy,
                        timestamp_ms=int((msg.timestamp or 0) * 1000))
    except InvalidRecord as exc:
        await send_dead_letter(p, event, "validate", exc, exc.reason)
        return
    if isinstance(out, Dropped):
        p.metrics.events_dropped.labels(out.reason).inc()
        return
    if isinstance(out, ContactInput):
        await p.topics["contact_inputs"].send(
            key=out.contact_id.encode(),
            value=p.codec.encode(CONTACT_INPUTS, contact_input_record(out)))
    elif isinstance(out, AccountInput):
        await p.topics["account_inputs"].send(
            key=out.domain.encode(),
            value=p.codec.encode(ACCOUNT_INPUTS, account_input_record(out)))


SALES_TOPICS = frozenset({"sales.reps", "sales.activity"})


async def _ingest_sales(p: Pipeline, base: str, record: dict[str, Any] | None,
                        origin: Origin) -> None:
    """The roster goes to the router (the single writer of rep loads); sales activity goes to
    the contact it is about, in order with the contact's other inputs."""
    if record is None:
        raise InvalidRecord("unexpected_tombstone", f"null value on {base}")
    now, skew = wall_clock_ms(), p.settings.future_skew_ms
    if base == "sales.reps":
        rep = normalise_rep(record, now, skew)
        await p.topics["routing"].send(key=ROUTING_KEY.encode(),
                                       value=p.codec.encode(ROUTING, routing_record(rep)))
        return
    activity = normalise_activity(record, now, skew)
    out = ContactInput(activity.contact_id, activity, origin)  # type: ignore[arg-type]
    await p.topics["contact_inputs"].send(
        key=out.contact_id.encode(), value=p.codec.encode(CONTACT_INPUTS, contact_input_record(out)))


def register(p: Pipeline) -> None:
    @p.app.agent(p.topics["sources"], name="ingest")
    async def ingest(stream: StreamT) -> None:
        await run_agent(p, stream, "ingest", ingest_one)
