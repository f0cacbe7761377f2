"""Read the input topics' history from Kafka into history records (aiokafka, no group)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from streams.codecs import codec_for
from streams.config import Settings
from streams.replay.history import INPUT_TOPICS, HistoryRecord, decoded_record, event_time

# The roster and the CRM are reference data: always read whole, whatever --since says.
REFERENCE_TOPICS = frozenset({"sales.reps", "crm.accounts", "crm.contacts"})
IDLE_MS = 1000  # after the end offsets, read on until the topics stay quiet this long
POLL_MS = 200


async def read_topics(settings: Settings, topics: Sequence[str] = INPUT_TOPICS, *,
                      since_ms: int | None = None, idle_ms: int = IDLE_MS,
                      on_record: Callable[[int], None] | None = None) -> list[HistoryRecord]:
    """Every record of the input ``topics`` (base names; the settings' prefix is added).

    Behaviour topics keep only records whose event time is at or after ``since_ms``.
    Reads up to the end offsets taken at the start, then on until nothing arrives for
    ``idle_ms``: Tansu under-reports the end offset of a multi-record batch, so the end
    offsets alone are not trusted.
    """
    from aiokafka import AIOKafkaConsumer, TopicPartition

    from streams.security import kafka_client_kwargs

    codec = codec_for(settings.schema_registry_url)
    names = {settings.topics.name(base): base for base in topics}
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers,
                                group_id=None, enable_auto_commit=False,
                                auto_offset_reset="earliest", fetch_max_wait_ms=100,
                                **kafka_client_kwargs(settings.kafka_security))
    await consumer.start()
    records: list[HistoryRecord] = []
    try:
        partitions: list[Any] = []
        for name in names:
            for p in sorted(consumer.partitions_for_topic(name) or ()):
                partitions.append(TopicPartition(name, p))
        if not partitions:
            return records
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        quiet_since = time.monotonic()
        while True:
            batch = await consumer.getmany(timeout_ms=POLL_MS, max_records=10_000)
            for tp, messages in batch.items():
                base = names[tp.topic]
                for msg in messages:
                    record = decoded_record(codec, base, tp.partition, msg.offset,
                                            msg.timestamp, msg.key, msg.value)
                    if (since_ms is None or base in REFERENCE_TOPICS
                            or event_time(record) >= since_ms):
                        records.append(record)
                if on_record is not None:
                    on_record(len(records))
            if batch:
                quiet_since = time.monotonic()
                continue
            if await _caught_up(consumer, ends) and (time.monotonic() - quiet_since) * 1000 >= idle_ms:
                return records
    finally:
        await consumer.stop()


async def _caught_up(consumer: Any, ends: dict[Any, int]) -> bool:
    for tp, end in ends.items():
        if int(await consumer.position(tp)) < end:
            return False
    return True
