"""Throughput side by side on one broker: raw aiokafka, bare Faust, the whole pipeline."""

from __future__ import annotations

import asyncio
import io
import json
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

from fastavro import schemaless_reader

from streams.bench import traffic
from streams.bench.stack import (
    Stack,
    WorkerProcess,
    metric,
    produce_values,
    repo_root,
    scrape,
    wait_until,
)
from streams.codecs import default_catalog
from streams.config import Settings
from streams.devstack import create_topics


async def preload_single_topic(stack: Stack, count: int) -> tuple[str, int, Settings]:
    """One topic holding about ``count`` encoded behaviour messages, for raw and bare Faust;
    returns the topic, how many it holds and the settings."""
    settings = stack.settings("raw")
    topic = settings.topics.name("bench.events")
    await create_topics(settings.kafka_bootstrap_servers, [topic], settings.partitions)
    sent = await produce_values(settings, topic, traffic.values(count), batched=True)
    return topic, sent, settings


async def raw_consume_eps(bootstrap: str, topic: str, count: int) -> float:
    """aiokafka consume + fastavro decode (schema by fingerprint) + a dict update: the ceiling."""
    from aiokafka import AIOKafkaConsumer

    catalog = default_catalog()
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=None,
                                auto_offset_reset="earliest", enable_auto_commit=False,
                                fetch_max_wait_ms=20, max_partition_fetch_bytes=4 << 20)
    await consumer.start()
    state: dict[bytes, Any] = {}
    seen, first, last = 0, 0.0, time.perf_counter()
    try:
        while seen < count:
            batches = await consumer.getmany(timeout_ms=1000, max_records=10_000)
            if batches:
                last = time.perf_counter()
            elif time.perf_counter() - last > IDLE_LIMIT_S:
                raise TimeoutError(f"raw consumer read {seen} of {count} records")
            for records in batches.values():
                for record in records:
                    schema = catalog.for_fingerprint(record.value[2:10])
                    assert schema is not None  # noqa: S101 - we produced these values
                    state[record.key] = schemaless_reader(io.BytesIO(record.value[10:]),
                                                          schema.wire, None)
                    seen += 1
                    if seen == 1:
                        first = time.perf_counter()
    finally:
        await consumer.stop()
    return (seen - 1) / (time.perf_counter() - first)


async def faust_bare_eps(stack: Stack, topic: str, count: int) -> float:
    """A Faust agent iterating the same topic and doing nothing, in its own process."""
    result = stack.workdir / "faust-bare.json"
    result.unlink(missing_ok=True)
    log = (stack.workdir / "faust-bare.log").open("ab")
    proc = subprocess.Popen(  # noqa: S603 - our own module
        [sys.executable, "-m", "streams.bench.faust_bare", stack.broker.bootstrap, topic,
         str(count), str(result)], stdout=log, stderr=subprocess.STDOUT, cwd=repo_root())
    try:
        def alive() -> None:
            if proc.poll() is not None:
                raise RuntimeError(f"faust bare agent exited with {proc.returncode}")

        await wait_until(result.exists, 300, "faust bare agent", check=alive)
        await asyncio.sleep(0.1)
        measured = json.loads(result.read_text())
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
    return float(measured["events"]) / float(measured["seconds"])


@dataclass
class PipelineRun:
    inputs: int
    seconds: float
    processed: dict[str, float]

    @property
    def eps(self) -> float:
        return self.inputs / self.seconds


IDLE_LIMIT_S = 60.0  # nothing new for this long: the topic holds fewer records
AGENTS = ("ingest", "contact", "account", "router")
REFERENCE_FIRST = ("sales.reps", "crm.accounts")


async def preload_inputs(stack: Stack, name: str, count: int,
                         **changes: Any) -> tuple[Settings, int]:
    """The input topics of a fresh prefix loaded with reference data and ``count`` behaviour
    messages (the generator's mix); returns the settings and how many records were sent."""
    from streams.shell.worker import ensure_topics

    settings = stack.settings(name, **changes)
    await ensure_topics(settings)
    by_topic: dict[str, list[tuple[bytes, bytes]]] = {}
    for d in traffic.behaviour(count):
        by_topic.setdefault(d.topic_base, []).append((d.key.encode(), d.value))
    # roster and accounts first, so that contacts find their account (as the generator does)
    for first in (True, False):
        await asyncio.gather(*(produce_values(settings, settings.topics.name(base), items)
                               for base, items in by_topic.items()
                               if (base in REFERENCE_FIRST) == first))
    return settings, sum(len(items) for items in by_topic.values())


async def pipeline_eps(stack: Stack, count: int, store: str = "rocksdb://") -> PipelineRun:
    """One real worker process works off ``count`` preloaded behaviour messages (plus the
    reference data) through ingest, contact, account and router agents, Redis projection on.

    Measured from its first processed input to the moment every agent has caught up: then
    only the timer ticks (a few per second) still move the contact agent's count.
    """
    settings, inputs = await preload_inputs(stack, "pipeline", count, store=store)
    worker = WorkerProcess(settings, stack.workdir / "pipeline-worker.log").start()
    tick_noise = 2 * settings.partitions / settings.tick_interval_s  # per second, generous
    try:
        samples: list[tuple[float, dict[str, float]]] = []

        def sample() -> dict[str, float]:
            got = scrape(worker.metrics_url)
            counts = {a: metric(got, "qualstream_processed_total", agent=a) for a in AGENTS}
            samples.append((time.monotonic(), counts))
            return counts

        await wait_until(lambda: sample()["ingest"] > 0, 180, "pipeline worker start", poll_s=0.5,
                         check=worker.check_alive)
        started = samples[-1][0]

        def settled() -> bool:
            counts = sample()
            if counts["ingest"] < inputs:
                return False
            recent = [s for s in samples if s[0] >= samples[-1][0] - 3.0]
            if recent[-1][0] - started < 3.0 or recent[0][0] > samples[-1][0] - 2.5:
                return False
            span = recent[-1][0] - recent[0][0]
            moved = {a: recent[-1][1][a] - recent[0][1][a] for a in AGENTS}
            return moved["account"] == 0 and moved["router"] == 0 and \
                moved["contact"] <= tick_noise * span

        await wait_until(settled, 1800, "pipeline catch-up", poll_s=0.5,
                         check=worker.check_alive)
        finished = _last_busy(samples, tick_noise)
        return PipelineRun(inputs, finished - started, samples[-1][1])
    finally:
        worker.stop()


def _last_busy(samples: list[tuple[float, dict[str, float]]], tick_noise: float) -> float:
    """The time of the last sample at which real work (not just ticks) was still done."""
    last = samples[0][0]
    for (t0, a), (t1, b) in zip(samples, samples[1:], strict=False):
        moved_other = any(b[k] != a[k] for k in ("ingest", "account", "router"))
        if moved_other or b["contact"] - a["contact"] > tick_noise * (t1 - t0) + 1:
            last = t1
    return last
