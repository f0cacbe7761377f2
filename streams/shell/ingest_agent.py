"""Ingest agent: decode, validate, normalise, then funnel each input to its entity's topic."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from streams.codecs import Codec, SerializationError
from streams.core.account_events import AccountInput
from streams.core.events import ContactInput, Origin
from streams.core.sales_events import RepProfile
from streams.ingest.errors import InvalidRecord
from streams.ingest.normalise import Dropped, IngestPolicy, normalise
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
        out = normalise_input(base, key, record, origin, wall_clock_ms(), p.policy,
                              p.settings.future_skew_ms,
                              timestamp_ms=int((msg.timestamp or 0) * 1000))
    except InvalidRecord as exc:
        await send_dead_letter(p, event, "validate", exc, exc.reason)
        return
    if isinstance(out, Dropped):
        p.metrics.events_dropped.labels(out.reason).inc()
        return
    internal = internal_record(p.codec, out)
    await p.send(internal.topic, internal.key, internal.value)


SALES_TOPICS = frozenset({"sales.reps", "sales.activity"})
Normalised = ContactInput | AccountInput | RepProfile | Dropped


def normalise_input(base: str, key: str | None, record: dict[str, Any] | None, origin: Origin,
                    now_ms: int, policy: IngestPolicy, future_skew_ms: int, *,
                    timestamp_ms: int = 0) -> Normalised:
    """Validate and normalise one decoded source record (pure; raises InvalidRecord).

    The roster goes to the router (the single writer of rep loads); sales activity goes to
    the contact it is about, in order with the contact's other inputs."""
    if base not in SALES_TOPICS:
        return normalise(base, key, record, origin, now_ms, policy, timestamp_ms=timestamp_ms)
    if record is None:
        raise InvalidRecord("unexpected_tombstone", f"null value on {base}")
    if base == "sales.reps":
        return normalise_rep(record, now_ms, future_skew_ms)
    activity = normalise_activity(record, now_ms, future_skew_ms)
    return ContactInput(activity.contact_id, activity, origin)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class InternalRecord:
    """What a valid source record becomes: a message for one of the internal topics."""

    topic: str  # a key of Pipeline.topics
    key: bytes
    value: bytes


def internal_record(codec: Codec, out: ContactInput | AccountInput | RepProfile
                    ) -> InternalRecord:
    """Encode a normalised input for its internal topic (never fails for a validated one)."""
    if isinstance(out, RepProfile):
        return InternalRecord("routing", ROUTING_KEY.encode(),
                              codec.encode(ROUTING, routing_record(out)))
    if isinstance(out, AccountInput):
        return InternalRecord("account_inputs", out.domain.encode(),
                              codec.encode(ACCOUNT_INPUTS, account_input_record(out)))
    return InternalRecord("contact_inputs", out.contact_id.encode(),
                          codec.encode(CONTACT_INPUTS, contact_input_record(out)))


def register(p: Pipeline) -> None:
    @p.app.agent(p.topics["sources"], name="ingest")
    async def ingest(stream: StreamT) -> None:
        await run_agent(p, stream, "ingest", ingest_one)
