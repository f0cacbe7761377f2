"""Export -> replay through a real broker gives what replaying the records in memory gives."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from streams.cli import main
from streams.config import Settings
from streams.devstack import create_topics
from streams.replay.compare import summarise
from streams.replay.history import INPUT_TOPICS, read_history
from streams.replay.run import fold_records, replay_file
from tests.integration.support import producer
from tests.unit.golden_replay import X, Y, golden_trace, model_texts, models


async def _produce(settings: Settings) -> None:
    from streams.codecs import codec_for

    names = [settings.topics.name(t) for t in INPUT_TOPICS]
    await create_topics(settings.kafka_bootstrap_servers, names, 2)
    codec = codec_for(None)
    p = await producer(settings.kafka_bootstrap_servers)
    try:
        for record in golden_trace():
            value = record["value"]
            await p.send_and_wait(
                settings.topics.name(record["topic"]), key=record["key"].encode(),
                value=None if value is None else codec.encode(record["topic"], value),
                timestamp_ms=record["timestamp"])
    finally:
        await p.stop()


def _without_timing(summary: dict) -> dict:
    for m in summary["models"]:
        m.pop("elapsed_s"), m.pop("events_per_second")
    return summary


@pytest.mark.timeout(180)
def test_export_and_replay_equal_the_in_memory_replay(
        settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    asyncio.run(_produce(settings))
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", settings.kafka_bootstrap_servers)
    monkeypatch.setenv("QUALSTREAM_TOPIC_PREFIX", settings.topic_prefix)
    expected = _without_timing(summarise(fold_records(golden_trace(), models())))

    history = tmp_path / "history.avro"
    assert main(["export", "--out", str(history), "--no-progress"]) == 0
    assert len(list(read_history(history))) == len(golden_trace())
    assert _without_timing(summarise(replay_file(history, models()))) == expected

    a, b = tmp_path / "a.toml", tmp_path / "b.toml"
    for path, text in zip((a, b), model_texts(), strict=True):
        path.write_text(text, encoding="utf-8")
    summary = tmp_path / "summary.json"
    assert main(["replay", "--model", str(a), "--model", str(b), "--from-topics",
                 "--html", str(tmp_path / "r.html"), "--json", str(summary),
                 "--no-progress"]) == 0
    from_topics = _without_timing(json.loads(summary.read_text()))
    assert from_topics == json.loads(json.dumps(expected))
    assert from_topics["comparisons"][0]["only_candidate"] == [X]
    assert from_topics["comparisons"][0]["only_baseline"] == [Y]
