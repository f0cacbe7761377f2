"""One record per batch on table changelogs only: the Tansu end-offset workaround, narrowed.

Tansu reports a partition's end offset as the base offset of its last record batch + 1
(DESIGN section 4), so a reader that stops "at the end offset" misses the tail of a
multi-record batch. In the worker only Faust's changelog recovery reads up to an end offset;
the other topics are read record by record and never compared with one. One record per batch
everywhere (the earlier workaround) made every send its own produce request and every fetch
return one record per partition, the largest cost of a worker on Tansu. This patch keeps
normal batching and gives each changelog record a batch of its own (without waiting for the
partition's previous batch to be sent).

Dev/test only (``QUALSTREAM_ONE_RECORD_BATCHES``); a real Kafka needs none of this.
"""

from __future__ import annotations

import copy
from typing import Any

CHANGELOG_SUFFIX = "-changelog"
# Batches queued per changelog partition before a send waits for the oldest to be sent: each
# produce request carries one batch per partition, so a queue is what lets a burst of table
# writes go on without a round trip each; the bound keeps a backlog's memory in check.
MAX_QUEUED_BATCHES = 512


def is_changelog(topic: str) -> bool:
    return topic.endswith(CHANGELOG_SUFFIX)


def one_record_changelog_batches() -> None:
    """Patch aiokafka's accumulator (idempotent): a changelog record gets a new batch of its
    own, closed at once (nothing can join it, so it does not linger), queued behind the
    partition's earlier batches instead of waiting for them to be sent. Waiting made Faust's
    producer buffer (which sends table writes one after another) stall on every changelog
    record for a round trip, and a full buffer stalls the consumer: a worker's largest wait."""
    from aiokafka.errors import ProducerClosed
    from aiokafka.producer.message_accumulator import MessageAccumulator

    if getattr(MessageAccumulator, "_qualstream_changelog_batches", False):
        return
    original = MessageAccumulator.add_message

    async def add_message(self: Any, tp: Any, key: Any, value: Any, timeout: float,
                          timestamp_ms: Any = None, headers: Any = ()) -> Any:
        if not is_changelog(tp.topic):
            return await original(self, tp, key, value, timeout, timestamp_ms=timestamp_ms,
                                  headers=headers)
        queued = self._batches.get(tp)
        while queued and len(queued) >= MAX_QUEUED_BATCHES:
            await queued[0].wait_drain(timeout)
        if self._closed:
            raise ProducerClosed()
        if self._exception is not None:
            raise copy.copy(self._exception)
        batch = self._append_batch(self.create_builder(), tp)
        future = batch.append(key, value, timestamp_ms, headers=list(headers))
        batch._builder.close()  # one record: ready to send, and nothing else gets in
        return future

    MessageAccumulator.add_message = add_message
    MessageAccumulator._qualstream_changelog_batches = True
