"""Dead-letter records: the original bytes and headers plus why, with personal data redacted."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from streams.core.ids import derive_id
from streams.ingest.redact import redact

MAX_REASON_CHARS = 1000


def dead_letter_record(
    *,
    key: bytes | None,
    value: bytes | None,
    headers: Sequence[tuple[str, bytes | None]],
    stage: str,
    error: BaseException,
    reason: str,
    topic: str,
    partition: int,
    offset: int,
    failed_at_ms: int,
) -> dict[str, Any]:
    """A ``qualification.dlq`` record; its event_id is derived from the origin, so a replay
    after a crash writes the same id."""
    message = redact(str(error))[:MAX_REASON_CHARS]
    return {
        "event_id": derive_id("dlq", topic, str(partition), str(offset)),
        "original_key": key,
        "original_value": value,
        "original_headers": [{"key": k, "value": v} for k, v in headers],
        "stage": stage,
        "error_class": type(error).__name__,
        "error_message": f"{reason}: {message}" if reason not in message else message,
        "origin_topic": topic,
        "origin_partition": partition,
        "origin_offset": offset,
        "failed_at": failed_at_ms,
    }


def dead_letter_headers(stage: str, error: BaseException, reason: str, topic: str,
                        partition: int, offset: int) -> list[tuple[str, bytes]]:
    """Kafka headers naming the stage, the error and the origin, for tools that read headers."""
    return [
        ("qualstream.dlq.stage", stage.encode()),
        ("qualstream.dlq.error", type(error).__name__.encode()),
        ("qualstream.dlq.reason", reason.encode()),
        ("qualstream.dlq.origin", f"{topic}/{partition}/{offset}".encode()),
    ]
