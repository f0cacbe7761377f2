"""Ingest agent: decode, validate, normalise, then funnel each input to its entity's topic."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from streams.adapters.dlq import dead_letter_headers, dead_letter_record
from streams.codecs import SerializationError
from streams.core.account_events import AccountInput
from streams.core.events import ContactInput, Origin
from streams.ingest.errors import InvalidRecord
from streams.ingest.normalise import Dropped, normalise
from streams.shell.app import wall_clock_ms
from streams.shell.records import account_input_record, contact_input_record

if TYPE_CHECKING:
    from faust.types import EventT, StreamT

    from streams.shell.app import Pipeline

log = logging.getLogger("qualstream.ingest")
CONTACT_INPUTS = "qualstream.contact-inputs"
ACCOUNT_INPUTS = "qualstream.account-inputs"


def _headers(raw: Any) -> list[tuple[str, bytes | None]]:
    if not raw:
        return []
    items = raw.items() if isinstance(raw, dict) else raw
    return [(str(k), v if isinstance(v, bytes | None) else str(v).encode()) for k, v in items]


async def send_dead_letter(
    p: Pipeline, event: EventT, stage: str, error: BaseException, reason: str
) -> None:
    """Publish the original message with why it failed; never raises for bad input."""
    msg = event.message
    record = dead_letter_record(
        key=msg.key, value=msg.value, headers=_headers(msg.headers), stage=stage, error=error,
        reason=reason, topic=msg.topic, partition=msg.partition, offset=msg.offset,
        failed_at_ms=wall_clock_ms(),
    )
    await p.topics["dlq"].send(
        key=msg.key,
        value=p.codec.encode("qualification.dlq", record),
        headers=dead_letter_headers(stage, error, reason, msg.topic, msg.partition, msg.offset),
    )
    p.metrics.events_rejected.labels(stage, reason).inc()
    p.metrics.dlq_records.labels(stage).inc()
    log.warning("dead-lettered %s/%s/%s at %s: %s", msg.topic, msg.partition, msg.offset, stage,
                reason)


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


def register(p: Pipeline) -> None:
    @p.app.agent(p.topics["sources"], name="ingest")
    async def ingest(stream: StreamT) -> None:
        async for event in stream.events():
            started = time.perf_counter()
            try:
                await ingest_one(p, event)
            except Exception as exc:  # noqa: BLE001 - bad input must never stop the worker
                log.exception("ingest failed on %s/%s/%s", event.message.topic,
                              event.message.partition, event.message.offset)
                p.metrics.errors.labels("ingest").inc()
                await send_dead_letter(p, event, "normalise", exc, "unexpected_error")
            p.metrics.processed.labels("ingest").inc()
            p.metrics.processing.labels("ingest").observe(time.perf_counter() - started)
