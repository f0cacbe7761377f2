"""Per-partition index of the deadlines held in table state, so a tick finds what is due.

The deadline itself lives in each key's changelogged state (it survives restarts); this index
is only a cache rebuilt from the table after a partition is assigned. Lazy deletion: a
rescheduled or cleared key leaves a stale heap entry that ``due`` skips.
"""

from __future__ import annotations

import heapq
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class DeadlineIndex:
    """Deadlines of the keys of one partition, and the kinds of the SLA clocks each key has
    running (so /metrics counts open SLA timers without reading the table)."""

    _heap: list[tuple[int, str]] = field(default_factory=list)
    _current: dict[str, int] = field(default_factory=dict)
    _sla_kinds: dict[str, tuple[str, ...]] = field(default_factory=dict)
    _open_slas: Counter[str] = field(default_factory=Counter)
    keys: int = 0  # keys of the partition in the table (scheduled or not), for /metrics

    def schedule(self, key: str, deadline: int | None, sla_kinds: tuple[str, ...] = ()) -> None:
        self._track_slas(key, sla_kinds if deadline is not None else ())
        if deadline is None:
            self._current.pop(key, None)
            return
        if self._current.get(key) == deadline:
            return
        self._current[key] = deadline
        heapq.heappush(self._heap, (deadline, key))

    def due(self, now_ms: int) -> list[str]:
        """Keys whose deadline is at or before ``now_ms``, earliest first; they stay scheduled
        until the caller reschedules them (so a crash before that fires them again)."""
        keys: list[str] = []
        seen: set[str] = set()
        while self._heap and self._heap[0][0] <= now_ms:
            deadline, key = heapq.heappop(self._heap)
            if self._current.get(key) == deadline and key not in seen:
                keys.append(key)
                seen.add(key)
        for key in keys:  # keep them until rescheduled
            heapq.heappush(self._heap, (self._current[key], key))
        return keys

    def _track_slas(self, key: str, kinds: tuple[str, ...]) -> None:
        old = self._sla_kinds.get(key, ())
        if old == kinds:
            return
        self._open_slas.subtract(old)
        self._open_slas.update(kinds)
        if kinds:
            self._sla_kinds[key] = kinds
        else:
            del self._sla_kinds[key]

    def open_slas(self) -> Counter[str]:
        """Running SLA clocks of this partition's keys, by kind."""
        return +self._open_slas  # drops the kinds that went back to zero

    def __len__(self) -> int:
        return len(self._current)

    def next_deadline(self) -> int | None:
        return min(self._current.values(), default=None)
