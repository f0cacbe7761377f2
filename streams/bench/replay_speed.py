"""Replay speed: the what-if replay library folding a history file and the input topics."""

from __future__ import annotations

import time
from pathlib import Path

from streams.config import DEFAULT_MODEL_PATH, Settings
from streams.core.model import ScoringModel, parse_model


def _model() -> ScoringModel:
    return parse_model(DEFAULT_MODEL_PATH.read_text(encoding="utf-8"))


async def replay_topic_eps(settings: Settings) -> tuple[float, int]:
    """Read ``settings``' input topics from the beginning and fold them through the core."""
    from streams.replay.run import replay_topics

    started = time.perf_counter()
    outcomes = await replay_topics(settings, [_model()])
    elapsed = time.perf_counter() - started
    events = outcomes[0].events
    return events / elapsed, events


async def export_history(settings: Settings, path: Path) -> int:
    """The input topics' history as a container file, as ``qualstream export`` writes it."""
    from streams.replay.history import in_event_time_order, write_history
    from streams.replay.topics import read_topics

    records = await read_topics(settings, since_ms=None)
    return write_history(path, in_event_time_order(records))


def replay_file_eps(path: Path) -> tuple[float, int]:
    """Fold a history file through the core with one model, on one core."""
    from streams.replay.run import replay_file

    started = time.perf_counter()
    outcomes = replay_file(path, [_model()])
    elapsed = time.perf_counter() - started
    events = outcomes[0].events
    return events / elapsed, events
