"""One record per batch on table changelogs only: the Tansu end-offset workaround, narrowed.

Tansu reports a partition's end offset as the base offset of its last record batch + 1
(DESIGN section 4), so a reader that stops "at the end offset" misses the tail of a
multi-record batch. In the worker only Faust's changelog recovery reads up to an end offset;
the other topics are read record by record and never compared with one. One record per batch
everywhere (the earlier workaround) made every send its own produce request and every fetch
return one record per partition, the largest cost of a worker on Tansu. This patch keeps
normal batching and gives each changelog record a batch of its own.

Dev/test only (``QUALSTREAM_ONE_RECORD_BATCHES``); a real Kafka needs none of this.
"""

from __future__ import annotations

from typing import Any

ONE_RECORD_BATCH_BYTES = 16  # smaller than any record: the first record fits, no second one
CHANGELOG_SUFFIX = "-changelog"


def is_changelog(topic: str) -> bool:
    return topic.endswith(CHANGELOG_SUFFIX)


def one_record_changelog_batches() -> None:
    """Patch aiokafka's accumulator (idempotent): new batches of a changelog partition hold
    one record. While such a record is being added every new batch is small (a wait for a
    full batch to drain is the only await inside), which costs throughput, never exactness."""
    from aiokafka.producer.message_accumulator import MessageAccumulator

    if getattr(MessageAccumulator, "_qualstream_changelog_batches", False):
        return
    original = MessageAccumulator.add_message

    async def add_message(self: Any, tp: Any, *args: Any, **kwargs: Any) -> Any:
        if not is_changelog(tp.topic):
            return await original(self, tp, *args, **kwargs)
        pending = getattr(self, "_qualstream_small", 0)
        if not pending:
            self._qualstream_normal = self._batch_size
        self._qualstream_small = pending + 1
        self._batch_size = ONE_RECORD_BATCH_BYTES
        try:
            return await original(self, tp, *args, **kwargs)
        finally:
            self._qualstream_small -= 1
            if not self._qualstream_small:
                self._batch_size = self._qualstream_normal

    MessageAccumulator.add_message = add_message
    MessageAccumulator._qualstream_changelog_batches = True
