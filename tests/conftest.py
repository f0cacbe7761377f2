"""Shared fixtures: the broker and Redis of the integration tier, per-test topic prefixes."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from streams.config import Settings, from_env
from streams.devstack import (
    BrokerHandle,
    RedisHandle,
    external_or_embedded_broker,
    start_redis,
)

_TIER = {"unit": 0, "agents": 1, "integration": 2}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark everything under tests/integration, then run unit, agents, integration in order."""
    for item in items:
        if "integration" in Path(str(item.path)).parts:
            item.add_marker(pytest.mark.integration)

    def tier(item: pytest.Item) -> int:
        if item.get_closest_marker("integration"):
            return _TIER["integration"]
        return _TIER["agents"] if "agents" in Path(str(item.path)).parts else _TIER["unit"]

    items.sort(key=tier)  # stable: keeps each tier's collection order


@pytest.fixture(scope="session")
def broker() -> Iterator[BrokerHandle]:
    """Embedded Tansu for the session, or ``KAFKA_BOOTSTRAP_SERVERS`` when set."""
    with external_or_embedded_broker() as handle:
        yield handle


@pytest.fixture(scope="session")
def bootstrap(broker: BrokerHandle) -> str:
    """The bootstrap address of :func:`broker`."""
    return broker.bootstrap


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisHandle]:
    """A throwaway redis-server for the session, or ``REDIS_URL`` when set."""
    with start_redis() as handle:
        yield handle


@pytest.fixture
def unique_prefix(request: pytest.FixtureRequest) -> str:
    """A topic prefix of this test alone, so tests never share topics on an external Kafka."""
    name = re.sub(r"[^a-zA-Z0-9]+", "-", request.node.name).strip("-")[:40]
    return f"t-{name}-{uuid.uuid4().hex[:8]}."


@pytest.fixture
def settings(
    broker: BrokerHandle, redis_server: RedisHandle, unique_prefix: str, tmp_path: Path
) -> Settings:
    """Settings pointing at the test broker and Redis, under this test's own prefix."""
    base = from_env()
    return dataclasses.replace(
        base,
        kafka_bootstrap_servers=broker.bootstrap,
        redis_url=redis_server.url,
        topic_prefix=unique_prefix,
        app_id=f"{unique_prefix}qualstream",
        data_dir=tmp_path / "data",
        one_record_batches=base.one_record_batches or not broker.external,
    )


async def consume_until(
    bootstrap: str,
    topic: str | list[str],
    predicate: Callable[[list[Any]], bool],
    timeout: float = 30.0,
) -> list[Any]:
    """Read ``topic`` from the beginning until ``predicate(records so far)`` holds.

    Returns the aiokafka ``ConsumerRecord``s read. Never trusts end offsets (Tansu reports
    them short for multi-record batches): it polls until the condition holds or the timeout,
    then fails with what it saw.
    """
    from aiokafka import AIOKafkaConsumer

    topics = [topic] if isinstance(topic, str) else topic
    consumer = AIOKafkaConsumer(
        *topics,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        metadata_max_age_ms=1000,  # notice topics created after we started
    )
    await consumer.start()
    records: list[Any] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            for partition_records in batch.values():
                records.extend(partition_records)
            if predicate(records):
                return records
            await asyncio.sleep(0)
    finally:
        await consumer.stop()
    raise AssertionError(
        f"condition not met on {topics} within {timeout}s ({len(records)} records read)"
    )


@pytest.fixture(name="consume_until")
def consume_until_fixture() -> Callable[..., Any]:
    """:func:`consume_until` for tests that prefer a fixture to an import of conftest."""
    return consume_until
