"""Replay entry points: fold a history file or the input topics under one or more models.

Stable API (used by ``qualstream replay`` and the benchmark)::

    replay_file(path, models, progress=None) -> list[Outcome]
    await replay_topics(settings, models, since_ms=None, progress=None) -> list[Outcome]

One ``Outcome`` per model, in the order given; ``Outcome.events`` is the number of history
records read and ``Outcome.elapsed_s`` the wall time of reading and folding them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from streams.config import Settings
from streams.core.model import ScoringModel
from streams.replay.fold import ModelFold
from streams.replay.history import HistoryRecord, in_event_time_order, read_history
from streams.replay.outcome import Outcome

Progress = Callable[[int], None]  # called with the number of records folded so far
PROGRESS_EVERY = 4096


def fold_records(records: Iterable[HistoryRecord], models: Sequence[ScoringModel],
                 progress: Progress | None = None) -> list[Outcome]:
    """Fold ``records`` (in the order given) through each model; no I/O of its own."""
    started = time.perf_counter()
    folds = [ModelFold(model) for model in models]
    feeds = [fold.feed for fold in folds]
    count = 0
    for record in records:
        topic, key, value = record["topic"], record["key"], record["value"]
        partition, offset, timestamp = record["partition"], record["offset"], record["timestamp"]
        for feed in feeds:
            feed(topic, key, value, partition, offset, timestamp)
        count += 1
        if progress is not None and count % PROGRESS_EVERY == 0:
            progress(count)
    outcomes = [fold.finish() for fold in folds]
    if progress is not None:
        progress(count)
    elapsed = time.perf_counter() - started
    for outcome in outcomes:
        outcome.elapsed_s = elapsed
    return outcomes


def replay_file(path: Path, models: Sequence[ScoringModel],
                progress: Progress | None = None) -> list[Outcome]:
    """Fold a history file (``qualstream export``) in file order through each model."""
    return fold_records(read_history(Path(path)), models, progress)


async def replay_topics(settings: Settings, models: Sequence[ScoringModel],
                        since_ms: int | None = None,
                        progress: Progress | None = None) -> list[Outcome]:
    """Read the input topics' history (from ``since_ms``, else the beginning) and fold it in
    event-time order; the elapsed time includes reading the topics."""
    from streams.replay.topics import read_topics

    started = time.perf_counter()
    records = await read_topics(settings, since_ms=since_ms)
    outcomes = fold_records(in_event_time_order(records), models, progress)
    elapsed = time.perf_counter() - started
    for outcome in outcomes:
        outcome.elapsed_s = elapsed
    return outcomes
