"""Publishing to the dead-letter topic from inside an agent."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from streams.adapters.dlq import dead_letter_headers, dead_letter_record
from streams.shell.app import wall_clock_ms

if TYPE_CHECKING:
    from faust.types import EventT

    from streams.shell.app import Pipeline

log = logging.getLogger("qualstream.dlq")


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
