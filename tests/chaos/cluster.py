"""A chaos run's moving parts: worker processes on one topic prefix, a producer, a state tail."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer

from streams.config import Topics, from_env
from streams.devstack import BrokerHandle, RedisHandle
from streams.shell.worker import ensure_topics, load_model
from tests.chaos.traffic import Poison, Row
from tests.integration.support import CODEC, Tail, Worker, producer, worker_env

SEND_WINDOW = 256  # sends in flight at once (one record per batch on Tansu)


@dataclass
class ChaosEnv:
    """Where scenarios run: the broker (pausable when embedded), a Redis and a scratch dir."""

    broker: BrokerHandle
    redis: RedisHandle
    workdir: Path


async def wait_until(check: Callable[[], bool], timeout: float, what: str,
                     interval: float = 0.2) -> float:
    """Poll ``check`` until it holds; return the seconds it took, or fail naming ``what``."""
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"{what}: not within {timeout}s")
        await asyncio.sleep(interval)
    return time.monotonic() - start


@dataclass
class Cluster:
    """Workers sharing one app id and topic prefix; each gets its own data dir and log."""

    env: ChaosEnv
    name: str
    extra_env: dict[str, str] = field(default_factory=dict)
    prefix: str = ""
    dir: Path = field(default_factory=Path)
    workers: list[Worker] = field(default_factory=list)
    prod: AIOKafkaProducer | None = None
    states: Tail | None = None
    starts: int = 0
    current: dict[str, Worker] = field(default_factory=dict)
    total: int = 0  # inputs the scenario sends in all (0: not known)

    async def __aenter__(self) -> Cluster:
        self.prefix = f"chaos-{self.name}-{uuid.uuid4().hex[:8]}."
        self.dir = self.env.workdir / self.prefix.rstrip(".")
        self.dir.mkdir(parents=True)
        await ensure_topics(from_env(self.worker_env("probe")))
        self.prod = await producer(self.env.broker.bootstrap)
        self.states = await Tail(self.env.broker.bootstrap, self.topics.qualification_contacts,
                                 "qualification.contacts").start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        for worker in self.workers:
            if worker.alive():
                worker.stop()
        if self.states is not None:
            await self.states.stop()
        if self.prod is not None:
            await self.prod.stop()

    @property
    def topics(self) -> Topics:
        return Topics(self.prefix)

    @property
    def bootstrap(self) -> str:
        return self.env.broker.bootstrap

    def worker_env(self, data: str) -> dict[str, str]:
        extra = {"REDIS_URL": self.env.redis.url, **self.extra_env}
        return worker_env(self.bootstrap, self.prefix, self.dir / data, **extra)

    def model(self) -> Any:
        return load_model(from_env(self.worker_env("probe")))

    def start(self, label: str, fresh_data: bool = False) -> Worker:
        """Start worker ``label``; ``fresh_data`` gives it an empty data dir (its tables then
        come back from the changelog alone)."""
        self.starts += 1
        data = f"data-{label}-{self.starts}" if fresh_data else f"data-{label}"
        worker = Worker(self.worker_env(data), self.dir / f"worker-{label}.log").start()
        self.workers.append(worker)
        self.current[label] = worker
        return worker

    async def ready(self, worker: Worker, timeout: float = 120) -> None:
        """Wait until ``worker`` has joined its group and started its agents."""
        marks = ("Worker ready",)
        await wait_until(lambda: any(m in worker.log_tail(2000) for m in marks) or
                         not worker.alive(), timeout, "worker ready", interval=0.5)
        if not worker.alive():
            raise AssertionError(f"worker died at start:\n{worker.log_tail()}")

    async def produce(self, rows: Iterable[Row | Poison],
                      sent: list[tuple[Poison, str, int, int]] | None = None) -> None:
        """Send ``rows`` in order with a bounded window of sends in flight; the origin of each
        poison record is appended to ``sent`` (to find it in the dead-letter topic)."""
        assert self.prod is not None
        window: list[tuple[Poison | None, asyncio.Future[Any]]] = []

        async def drain() -> None:
            for item, fut in window:
                meta = await fut
                if item is not None and sent is not None:
                    sent.append((item, meta.topic, meta.partition, meta.offset))
            window.clear()

        for row in rows:
            if isinstance(row, Poison):
                fut = await self.prod.send(self.topics.name(row.base), key=row.key.encode(),
                                           value=row.value)
                window.append((row, fut))
            else:
                base, key, record = row
                fut = await self.prod.send(self.topics.name(base), key=key.encode(),
                                           value=CODEC.encode(base, record))
                window.append((None, fut))
            if len(window) >= SEND_WINDOW:
                await drain()
        await drain()

    def applied(self) -> int:
        from tests.chaos.verify import applied_total

        assert self.states is not None
        return applied_total(self.states)

    async def processed(self, target: int, timeout: float, what: str) -> None:
        """Wait until the published states count ``target`` inputs in all."""
        await wait_until(lambda: self.applied() >= target, timeout, what, interval=0.5)
