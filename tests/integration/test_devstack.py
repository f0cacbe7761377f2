"""The dev stack itself: a broker that takes and serves records, a Redis that answers."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from typing import Any

import pytest
import redis
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from streams.config import Settings
from streams.devstack import (
    BrokerHandle,
    DevStackError,
    RedisHandle,
    create_topics,
    producer_kwargs,
    redis_server_binary,
    wait_for_kafka,
)

pytestmark = pytest.mark.integration


async def test_produce_then_consume_one_record(
    broker: BrokerHandle, settings: Settings, consume_until: Callable[..., Any]
) -> None:
    topic = settings.topics.web
    assert await create_topics(broker.bootstrap, [topic], partitions=2) == [topic]
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, **producer_kwargs(settings))
    await producer.start()
    try:
        await producer.send_and_wait(topic, key=b"c-1", value=b"hello")
    finally:
        await producer.stop()

    records = await consume_until(
        broker.bootstrap, topic, lambda rs: any(r.value == b"hello" for r in rs), timeout=20
    )
    assert [(r.key, r.value) for r in records] == [(b"c-1", b"hello")]


def test_redis_answers_ping(redis_server: RedisHandle) -> None:
    client = redis.Redis.from_url(redis_server.url)
    try:
        assert client.ping()
        client.set("qualstream:devstack", "ok")
        assert client.get("qualstream:devstack") == b"ok"
    finally:
        client.close()


def test_a_redis_server_binary_is_found() -> None:
    assert os.access(redis_server_binary(), os.X_OK)


async def test_create_topics_is_idempotent(broker: BrokerHandle, unique_prefix: str) -> None:
    names = [f"{unique_prefix}a", f"{unique_prefix}b"]
    compacted = [f"{unique_prefix}b"]
    first = await create_topics(broker.bootstrap, names, 3, compacted)
    again = await create_topics(broker.bootstrap, [*names, names[0]], 3, compacted)

    assert sorted(first) == names
    assert again == []
    admin = AIOKafkaAdminClient(bootstrap_servers=broker.bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics(names)
    finally:
        await admin.close()
    assert {t["topic"]: len(t["partitions"]) for t in described} == dict.fromkeys(names, 3)


async def test_one_record_batches_make_the_end_offset_exact(
    broker: BrokerHandle, unique_prefix: str
) -> None:
    """The DESIGN note: with one record per batch, Tansu's end offset counts every record."""
    topic = f"{unique_prefix}offsets"
    await create_topics(broker.bootstrap, [topic], 1)
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, max_batch_size=16)
    await producer.start()
    try:
        for i in range(5):
            await producer.send_and_wait(topic, b"single-%d" % i)
        await asyncio.gather(*[await producer.send(topic, b"burst-%d" % i) for i in range(10)])
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(bootstrap_servers=broker.bootstrap)
    await consumer.start()
    try:
        partition = TopicPartition(topic, 0)
        assert (await consumer.end_offsets([partition]))[partition] == 15
    finally:
        await consumer.stop()


def test_paused_broker_stops_answering_until_resumed(broker: BrokerHandle) -> None:
    if broker.external:
        pytest.skip("pause/resume needs the embedded broker")
    broker.pause()
    try:
        with pytest.raises(DevStackError):
            wait_for_kafka(broker.bootstrap, timeout=0.5)
    finally:
        broker.resume()
    wait_for_kafka(broker.bootstrap, timeout=10)
