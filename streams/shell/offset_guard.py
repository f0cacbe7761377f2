"""Detects offsets an agent never received, so the shell can seek back instead of losing them.

Seen on faust-streaming 0.15 against Tansu (and reported upstream, faust-streaming#596): when
recovery completes, a few messages already fetched can be dropped from the agent's queue while
the consumer goes on from a later offset. Faust then treats the hole like a compaction gap and
commits past it: those inputs are lost. Our internal topics never have legitimate gaps (no
compaction, no transactions), so a hole means lost messages: we seek back to the first missing
offset, skip the stale queued messages that follow, and process the re-fetched ones in order.

Each assignment starts at the group's committed offset (Faust seeks every assigned partition
there when a rebalance completes), so the first message after an assignment must be that
one: ``starts_at`` sets the expectation before it is checked. Messages processed for a
partition after it was revoked (in flight during the rebalance) set no expectation.
With the strict commit rule (``streams/shell/strict_commits.py``) commits never pass an
unprocessed offset, so a rewind to the committed offset is always safe.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Generic, TypeVar

TP = TypeVar("TP")


class Verdict(Enum):
    PROCESS = "process"
    SKIP = "skip"  # a stale message queued before our seek: it will be re-fetched
    REWIND = "rewind"  # seek back to ``expected`` and skip this message


@dataclass
class OffsetGuard(Generic[TP]):
    """Per-partition expected next offset; pure bookkeeping, no I/O."""

    _next: dict[TP, int] = field(default_factory=dict)
    _rewinding: dict[TP, int] = field(default_factory=dict)  # tp -> the offset sought back to
    _live: set[TP] = field(default_factory=set)  # assigned partitions seen since assignment

    def live(self, tp: TP) -> bool:
        return tp in self._live

    def starts_at(self, tp: TP, offset: int | None) -> None:
        """The first message of ``tp`` since its assignment is due: expect ``offset`` (the
        group's committed offset; None when unknown: then the first message sets it)."""
        self._live.add(tp)
        self._rewinding.pop(tp, None)
        if offset is None:
            self._next.pop(tp, None)
        else:
            self._next[tp] = offset

    def rewind_to(self, tp: TP, offset: int) -> None:
        """Re-read ``tp`` from ``offset`` (a stalled commit): skip everything above it until
        the re-fetch arrives."""
        self._live.add(tp)
        self._next[tp] = offset
        self._rewinding[tp] = offset

    def check(self, tp: TP, offset: int) -> Verdict:
        self._live.add(tp)
        rewinding = self._rewinding.get(tp)
        if rewinding is not None:
            # Only the offset sought back to ends a rewind: anything above it is either queued
            # from before the seek or a re-fetch whose start Faust dropped again (processing
            # it would apply inputs out of order, and the skipped ones would then be ignored
            # by the state's watermark): seek again. Gapless topics have no legitimate gaps.
            if offset > rewinding:
                return Verdict.SKIP
            del self._rewinding[tp]  # the re-fetch has started
            return Verdict.PROCESS
        expected = self._next.get(tp)
        if expected is None or offset <= expected:
            return Verdict.PROCESS
        self._rewinding[tp] = expected
        return Verdict.REWIND

    def rewinding(self, tp: TP) -> bool:
        return tp in self._rewinding

    def expected(self, tp: TP) -> int | None:
        return self._next.get(tp)

    def processed(self, tp: TP, offset: int) -> None:
        if tp in self._live:  # else revoked while in flight: the next assignment decides
            self._next[tp] = offset + 1

    def forget(self, tps: set[TP]) -> None:
        """Partitions revoked: their next start is the committed offset, whatever it is."""
        for tp in tps:
            self._next.pop(tp, None)
            self._rewinding.pop(tp, None)
            self._live.discard(tp)
