"""The decoded value of the keys an agent wrote last, so its next input does not read and
decode the row again.

An agent is the single writer of its keys while it owns their partition, so what it wrote is
what its table holds. Forgotten when partitions are revoked (whoever owns a key next, its row
is the truth again) and lost with the process; at most ``limit`` keys, the least recently
written dropped first (a worker may own millions of contacts).
"""

from __future__ import annotations

from typing import Generic, TypeVar

V = TypeVar("V")


class LastWritten(Generic[V]):
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._values: dict[str, tuple[int, V]] = {}

    def get(self, key: str, partition: int) -> V | None:
        """What this worker wrote last for ``key`` of ``partition``, if it still knows."""
        known = self._values.get(key)
        return known[1] if known is not None and known[0] == partition else None

    def remember(self, key: str, partition: int, value: V) -> None:
        values = self._values
        values.pop(key, None)  # re-inserted last: the most recently written
        if len(values) >= self.limit:
            del values[next(iter(values))]
        values[key] = (partition, value)

    def drop(self, key: str) -> None:
        self._values.pop(key, None)

    def forget(self) -> None:
        self._values.clear()

    def __len__(self) -> int:
        return len(self._values)
