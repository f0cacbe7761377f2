"""Sends made for an applied input, kept in the key's state until the broker acknowledged them.

The agents used to wait for the broker's acknowledgement of every transition (and of every
message to another agent) before writing the state that records it: a round trip per input,
most of a worker's time (py-spy and task sampling of a busy worker). The rule that wait
enforced, "a transition must be durable before the state that says it happened", holds in
this form without the wait:

- A key's table row carries the sends of its inputs that the broker has not acknowledged yet
  (its *outbox*): the row and its pending sends are one value, so whichever version of the
  row survives a crash (the local RocksDB store or the changelog) carries its own.
- Faust flushes the producer (waits until every send is acknowledged) before it commits
  input offsets. So after a crash every input whose sends may be lost is at or after the
  committed offset and is delivered again, in order. The key's watermark makes each such
  input a duplicate, and the duplicate of the input the row last applied (the row's offset)
  sends the row's outbox again. An input the row does not record was not applied: it is
  applied again and makes its sends anew.
- A new row takes over the entries of the previous row still in flight: an entry leaves the
  outbox once the broker acknowledged it, never by being overwritten.

Every send is idempotent downstream (a deterministic event id, a "latest wins" value, or an
input carrying its origin offset for the receiver's watermark), so sending again is safe.
Entries are ``[slot in Pipeline.topics, key, base64 of the value]``; which of them are in
flight is known in memory only (after a restart every stored entry counts as unacknowledged
until it is sent again).
"""

from __future__ import annotations

import asyncio
import base64
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from streams.shell.app import Pipeline

log = logging.getLogger("qualstream.outbox")
Entry = list[str]
PRUNE_EVERY = 1024  # rows written between two sweeps of keys whose sends all completed


@dataclass
class Outbox:
    """Per key, the sends made for it since its last row, with their delivery futures."""

    _inflight: dict[str, list[tuple[Entry, asyncio.Future[Any]]]] = field(default_factory=dict)
    _rows: int = 0

    async def send(self, p: Pipeline, owner: str, slot: str, key: str, value: bytes) -> None:
        """Send ``value`` to ``p.topics[slot]`` now, without waiting for the broker, and
        remember it for ``owner``'s next row."""
        future = await p.send(slot, key.encode(), value)
        entry = [slot, key, base64.b64encode(value).decode("ascii")]
        self._inflight.setdefault(owner, []).append((entry, future))

    async def resend(self, p: Pipeline, owner: str, entries: list[Entry] | None,
                     at: str = "") -> None:
        """Send a stored outbox again: the replay of the input its row last applied."""
        if entries:
            log.info("outbox: %d sends of the input at %s sent again", len(entries), at)
        for slot, key, value in entries or ():
            await self.send(p, owner, slot, key, base64.b64decode(value))

    async def pending(self, p: Pipeline, owner: str) -> list[Entry]:
        """The entries ``owner``'s next row must carry: its sends not acknowledged yet (one
        that failed is sent again)."""
        self._rows += 1
        if self._rows % PRUNE_EVERY == 0:
            self._prune()
        sent = self._inflight.pop(owner, None)
        if not sent:
            return []
        keep: list[tuple[Entry, asyncio.Future[Any]]] = []
        for entry, future in sent:
            if future.done() and not _failed(future):
                continue
            if future.done():
                slot, key, value = entry
                future = await p.send(slot, key.encode(), base64.b64decode(value))
            keep.append((entry, future))
        if keep:
            self._inflight[owner] = keep
        return [entry for entry, _ in keep]

    async def settle(self, owner: str) -> None:
        """Wait until every send made for ``owner`` is acknowledged: before a write that
        carries no outbox (an erasure marker, a timer that no replay fires again)."""
        sent = self._inflight.pop(owner, [])
        if sent:
            await asyncio.gather(*(future for _, future in sent))

    def failed(self) -> bool:
        """Whether a send made here failed and waits for its key's next row to retry."""
        return any(f.done() and _failed(f) for sent in self._inflight.values() for _, f in sent)

    def _prune(self) -> None:
        done = [owner for owner, sent in self._inflight.items()
                if all(f.done() and not _failed(f) for _, f in sent)]
        for owner in done:
            del self._inflight[owner]


def _failed(future: asyncio.Future[Any]) -> bool:
    return future.cancelled() or future.exception() is not None
