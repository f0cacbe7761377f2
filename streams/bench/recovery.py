"""Restart time of a worker with a million contacts in its RocksDB-backed contacts table."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass

from streams.bench import probes
from streams.bench.latency import CODEC, Watch
from streams.bench.stack import Stack, WorkerProcess, produce_values, wait_until
from streams.bench.state_size import sample_values, table_items
from streams.config import Settings
from streams.devstack import create_topics
from streams.shell.worker import ensure_topics


def changelog_topic(settings: Settings, table: str = "contacts") -> str:
    return f"{settings.app_id}-{table}-changelog"


def _partition(key: str, partitions: int) -> int:
    from aiokafka.partitioner import murmur2

    return (murmur2(key.encode()) & 0x7FFFFFFF) % partitions


@dataclass
class RecoveryRun:
    contacts: int
    load_seconds: float
    empty_dir_seconds: float
    restart_seconds: float


async def _load_changelog(settings: Settings, count: int) -> None:
    """``count`` contacts written to the contacts table's changelog, each in the partition
    its key would have (the table is co-partitioned with the contact-inputs topic).

    Written in ordinary batches (fast), except the last record of each partition, which gets
    a batch of its own: Tansu's end offset is the last batch's base offset + 1, so it is
    exact and Faust's recovery reads every record."""
    from aiokafka import AIOKafkaProducer

    n = settings.partitions
    topic = changelog_topic(settings)
    await create_topics(settings.kafka_bootstrap_servers, [topic], n)
    samples = sample_values()
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers,
                                linger_ms=20, max_batch_size=256 * 1024)
    await producer.start()
    last: dict[int, tuple[bytes, bytes]] = {}
    try:
        pending = []
        for cid, row in table_items(count, samples, lambda key: _partition(key, n)):
            partition = _partition(cid, n)
            record = (json.dumps(cid).encode(), row)
            previous = last.get(partition)
            last[partition] = record
            if previous is not None:
                pending.append(await producer.send(topic, key=previous[0], value=previous[1],
                                                   partition=partition))
            if len(pending) >= 20_000:
                await asyncio.gather(*pending)
                pending = []
        await asyncio.gather(*pending)
        for partition, (key, value) in last.items():
            await producer.send_and_wait(topic, key=key, value=value, partition=partition)
    finally:
        await producer.stop()


async def _time_to_serve(stack: Stack, settings: Settings, watch: Watch, label: str) -> float:
    """Spawn a worker and time it until a new contact's snapshot is published: recovery of
    the table, the partitions' deadline indexes, then one input processed."""
    probe = f"probe-recovery-{label}"
    domain = "recovery-bench.com"
    now = int(time.time() * 1000)
    started = time.monotonic()
    worker = WorkerProcess(settings, stack.workdir / f"recovery-{label}.log").start()
    await produce_values(settings, settings.topics.crm_contacts, [
        (probe.encode(), CODEC.encode("crm.contacts", probes.contact(probe, domain, now)))])
    try:
        await wait_until(lambda: any(k == probe for k, _, _ in watch.seen), 900,
                         f"worker serving after restart ({label})", check=worker.check_alive)
        return time.monotonic() - started
    finally:
        worker.stop(timeout=120)


async def recovery_seconds(stack: Stack, count: int) -> RecoveryRun:
    settings = stack.settings("recovery")  # RocksDB store (the default)
    await ensure_topics(settings)
    loaded = time.monotonic()
    await _load_changelog(settings, count)
    load_s = time.monotonic() - loaded
    watch = await Watch(settings.kafka_bootstrap_servers, settings.topics.qualification_contacts,
                        "qualification.contacts").start()
    try:
        cold = await _time_to_serve(stack, settings, watch, "empty-dir")
        warm = await _time_to_serve(stack, settings, watch, "restart")
    finally:
        await watch.stop()
    return RecoveryRun(count, load_s, cold, warm)


