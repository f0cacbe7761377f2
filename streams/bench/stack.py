"""The bench's infrastructure: one embedded broker + Redis, worker processes, their metrics."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from streams.config import Settings, from_env, to_env
from streams.devstack import BrokerHandle, RedisHandle, free_port


@dataclass
class Stack:
    """The broker and Redis every section of one bench run shares, and a scratch directory."""

    broker: BrokerHandle
    redis: RedisHandle
    workdir: Path

    def settings(self, name: str, **changes: Any) -> Settings:
        """Settings of one section: its own topic prefix and app id, the dev workarounds on
        the embedded broker (as the tests and the demo use it)."""
        prefix = f"bench-{name}-{uuid.uuid4().hex[:6]}."
        base = from_env()
        embedded = not self.broker.external
        settings = dataclasses.replace(
            base, kafka_bootstrap_servers=self.broker.bootstrap, redis_url=self.redis.url,
            topic_prefix=prefix, app_id=f"{prefix}qualstream",
            data_dir=self.workdir / f"{name}-data", web_port=free_port(),
            one_record_batches=base.one_record_batches or embedded,
            fetch_max_wait_ms=base.fetch_max_wait_ms or (20 if embedded else 0),
            standby_replicas=0, session_timeout_s=6.0, heartbeat_interval_s=1.0,
            commit_interval_s=0.5, log_level="warning")
        return dataclasses.replace(settings, **changes)


def repo_root() -> Path:
    return Path(__file__).resolve().parents[2]


@dataclass
class WorkerProcess:
    """One ``qualstream worker`` child process."""

    settings: Settings
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> WorkerProcess:
        env = dict(os.environ) | to_env(self.settings)
        env["PYTHONPATH"] = str(repo_root())
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(  # noqa: S603 - our own CLI
                [sys.executable, "-m", "streams.cli", "worker"], env=env, stdout=log,
                stderr=subprocess.STDOUT, cwd=repo_root())
        return self

    @property
    def metrics_url(self) -> str:
        return f"http://{self.settings.web_host}:{self.settings.web_port}/metrics"

    def stop(self, timeout: float = 30.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def check_alive(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            tail = self.log_path.read_text(errors="replace").splitlines()[-30:]
            raise RuntimeError(f"worker exited with {self.proc.returncode}:\n" + "\n".join(tail))


def scrape(url: str, timeout: float = 2.0) -> dict[str, float]:
    """Prometheus text exposition as ``{'name{labels}': value}``; empty when unreachable."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:  # noqa: S310 - our own URL
            text = answer.read().decode()
    except OSError:
        return {}
    samples: dict[str, float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name, _, value = line.rpartition(" ")
        try:
            samples[name] = float(value)
        except ValueError:
            continue
    return samples


def metric(samples: dict[str, float], name: str, **labels: str) -> float:
    """The sample ``name`` with exactly ``labels`` (0 when absent)."""
    inner = ",".join(f'{k}="{v}"' for k, v in labels.items())
    return samples.get(f"{name}{{{inner}}}" if inner else name, 0.0)


def histogram_quantile(samples: dict[str, float], name: str, q: float,
                       **labels: str) -> float | None:
    """Upper bound of the bucket holding quantile ``q`` (as Prometheus' histogram_quantile,
    without interpolation: an honest upper bound)."""
    buckets: list[tuple[float, float]] = []
    prefix = f"{name}_bucket{{"
    wanted = [f'{k}="{v}"' for k, v in labels.items()]
    for key, value in samples.items():
        if not key.startswith(prefix) or not all(w in key for w in wanted):
            continue
        le = key.split('le="', 1)[1].split('"', 1)[0]
        buckets.append((float("inf") if le == "+Inf" else float(le), value))
    buckets.sort()
    if not buckets or buckets[-1][1] == 0:
        return None
    total = buckets[-1][1]
    for bound, count in buckets:
        if count >= q * total:
            return bound
    return None


async def wait_until(condition: Callable[[], bool], timeout: float, what: str,
                     poll_s: float = 0.2, check: Callable[[], None] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check is not None:
            check()
        if condition():
            return
        await asyncio.sleep(poll_s)
    raise TimeoutError(f"{what}: not within {timeout:.0f}s")


async def produce_values(settings: Settings, topic: str, items: Iterable[tuple[bytes, bytes]],
                         window: int = 2000, *, batched: bool = False) -> int:
    """Send ``(key, value)`` pairs to ``topic`` as fast as the broker takes them; ``batched``
    lets the producer batch as usual even on the embedded broker (for topics nobody reads up
    to an end offset), else one record per batch there (see ``producer_kwargs``)."""
    from aiokafka import AIOKafkaProducer

    from streams.devstack import producer_kwargs

    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers,
                                linger_ms=5,
                                **({} if batched else producer_kwargs(settings)))
    await producer.start()
    sent = 0
    try:
        pending: list[asyncio.Future[Any]] = []
        for key, value in items:
            pending.append(await producer.send(topic, key=key, value=value))
            sent += 1
            if len(pending) >= window:
                await asyncio.gather(*pending)
                pending = []
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return sent
