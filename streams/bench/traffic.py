"""Seeded input traffic for the bench (the generator's realistic mix), preloaded on topics."""

from __future__ import annotations

import time
from collections.abc import Iterator
from itertools import islice

from streams.codecs import codec_for
from streams.generate import Draft, TrafficConfig, TrafficGenerator

SEED = 7


def behaviour(count: int, *, accounts: int = 400, gap_ms: float = 1.0,
              start_ms: int | None = None) -> Iterator[Draft]:
    """Reference data, then ``count`` behaviour messages (web, email, product, intent, CRM,
    forms, a few bots, duplicates and bad records), event times ``gap_ms`` apart ending
    around now, so nothing is dead-lettered as from the future."""
    now = int(time.time() * 1000)
    start = start_ms if start_ms is not None else now - int(count * gap_ms)
    config = TrafficConfig(accounts=accounts, mean_gap_ms=gap_ms)
    generator = TrafficGenerator(codec_for(None), SEED, start, config)
    yield from generator.reference_data()
    for _ in range(count):
        yield generator.next_behaviour()


def values(count: int) -> list[tuple[bytes, bytes]]:
    """About ``count`` encoded messages as (key, value), reference data first, without the
    undecodable ones, for one-topic benchmarks (``len`` of the result is the exact count)."""
    drafts = islice((d for d in behaviour(count) if not d.kind.startswith("bad:")), count)
    return [(d.key.encode(), d.value) for d in drafts]
