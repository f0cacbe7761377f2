"""Commit only offsets that were processed, never past one that was not (gapless topics).

Faust (faust-streaming 0.15, ``transport/consumer.py``) can commit past messages that were
never processed, which the chaos runs measured as lost inputs after rebalances and kill -9:

- ``_new_offset`` commits the first consecutive run of *acked* offsets wherever the lowest
  acked offset is, and its only guard lets one offset through: with the committed offset
  (the next offset to read) at 31 and 32.. acked, it commits past 31 unprocessed.
- ``_drain_messages`` treats any jump in read offsets as a compaction gap (``_add_gap``)
  and counts the skipped offsets as acked. Its read offset jumps whenever messages are
  dropped: after a seek (ours, or Faust's own seek to the committed offsets when a rebalance
  completes) a batch fetched before the seek can overwrite the read offset, and messages
  queued for an agent are cleared when a rebalance starts.

On our internal and source topics offsets never legitimately skip (no compaction, no
transactions: ``Pipeline.gapless_topics``). For those this patch makes the committed run
start at the committed offset and never counts a gap as acked. A dropped message then
stalls its partition's commits instead of being committed past; the agent loop repairs a
stall by seeking back to the committed offset (``streams/shell/agent_loop.py``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any
from weakref import WeakKeyDictionary

log = logging.getLogger("qualstream")
_GAPLESS: WeakKeyDictionary[Any, frozenset[str]] = WeakKeyDictionary()


def next_commit(acked: Iterable[int], committed: int) -> tuple[int | None, list[int]]:
    """The offset to commit given the acked offsets and the committed one (the next to
    read), and the acked offsets still waiting behind a hole.

    Only the run of consecutive offsets starting exactly at ``committed`` counts; offsets
    below it are already committed and dropped.
    """
    waiting = sorted({offset for offset in acked if offset >= committed})
    end = committed
    for offset in waiting:
        if offset != end:
            break
        end += 1
    if end == committed:
        return None, waiting
    return end, waiting[end - committed:]


def commit_stalled(committed: int, acked: Iterable[int], highwater: int) -> bool:
    """Whether a partition's commits cannot move although nothing of it is queued or being
    processed: later offsets were acked over a hole at ``committed``, or nothing was acked
    and the broker holds offsets from ``committed`` on (the message there never came, or has
    not been fetched yet: the agent loop's watch gives that case longer, since a worker behind
    a backlog serves its partitions in turn and seeking such a partition back only makes it
    read again what it had; seen under load: seek-backs every 10-20 s on moving partitions)."""
    waiting = [offset for offset in acked if offset >= committed]
    if waiting:
        return min(waiting) > committed
    return highwater > committed


def _gapless(consumer: Any, topic: str) -> bool:
    return topic in _GAPLESS.get(consumer.app, frozenset())


def install_strict_commits(app: Any, gapless: frozenset[str]) -> None:
    """Apply the strict commit rule to ``gapless`` topics of ``app``'s consumer."""
    from faust.transport.consumer import Consumer
    from faust.types.tuples import ack_lock

    _GAPLESS[app] = gapless
    if getattr(Consumer, "_qualstream_strict", False):
        return
    new_offset = Consumer._new_offset
    add_gap = Consumer._add_gap
    perform_seek = Consumer.perform_seek
    commit_offsets = Consumer._commit_offsets

    def _new_offset(self: Any, tp: Any) -> int | None:
        committed = self._committed_offset[tp]
        if committed is None or not _gapless(self, tp.topic):
            return new_offset(self, tp)
        with ack_lock:  # ack() appends to these lists under the same lock
            acked = self._acked[tp]
            if not acked:
                return None
            offset, waiting = next_commit(acked, committed)
            acked[:] = waiting
            self._acked_index[tp] = set(waiting)
            return offset

    async def _add_gap(self: Any, tp: Any, offset_from: int, offset_to: int) -> None:
        if not _gapless(self, tp.topic):  # a read-offset jump is a loss, not a gap
            await add_gap(self, tp, offset_from, offset_to)

    async def _perform_seek(self: Any) -> None:
        # Faust records no committed offset for a partition the group never committed (or
        # committed at 0): take the earliest offset as the start the first commit must
        # continue from, so that the strict rule applies from the first message on.
        await perform_seek(self)
        missing = [tp for tp in self.assignment()
                   if _gapless(self, tp.topic) and self._committed_offset[tp] is None]
        if missing:
            try:
                earliest = await self.earliest_offsets(*missing)
            except Exception as exc:  # noqa: BLE001 - Faust's own rule applies until a commit
                log.warning("no earliest offsets for %d partitions (%r)", len(missing), exc)
                return
            for tp in missing:
                if self._committed_offset[tp] is None and earliest.get(tp) is not None:
                    self._committed_offset[tp] = earliest[tp]

    async def _commit_offsets(self: Any, offsets: Any, start_new_transaction: bool = True) -> bool:
        did_commit: bool = await commit_offsets(self, offsets, start_new_transaction)
        if not did_commit:
            # Faust records the offsets as committed locally even when the commit did not
            # happen (e.g. "already rebalanced"), and ``ack()`` then ignores every offset below
            # them: a suspect of the commit watch's stalls (README, Reliability). Said here so
            # that a stall can be matched with the commit behind it.
            ours = sorted((tp.topic, tp.partition, offset) for tp, offset in offsets.items()
                          if _gapless(self, tp.topic))
            if ours:
                log.warning("a commit of %d partitions did not happen (Faust records those "
                            "still assigned as committed anyway): %s", len(ours), ", ".join(
                                f"{t}/{n} at {o}" for t, n, o in ours[:8]))
        return did_commit

    Consumer._new_offset = _new_offset  # type: ignore[method-assign]
    Consumer._commit_offsets = _commit_offsets  # type: ignore[method-assign]
    Consumer._add_gap = _add_gap  # type: ignore[method-assign]
    Consumer.perform_seek = _perform_seek  # type: ignore[method-assign]
    Consumer._qualstream_strict = True  # type: ignore[attr-defined]
