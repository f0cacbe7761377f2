"""Integration-test support: worker processes, producers and topic tails on a real broker."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from streams.codecs import SerializationError, codec_for

CODEC = codec_for(None)
REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def worker_env(bootstrap: str, prefix: str, data_dir: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "QUALSTREAM_TOPIC_PREFIX": prefix,
        "QUALSTREAM_APP_ID": f"{prefix}qualstream",
        "QUALSTREAM_DATA_DIR": str(data_dir),
        "QUALSTREAM_WEB_PORT": str(free_port()),
        "QUALSTREAM_PARTITIONS": "2",
        "QUALSTREAM_ONE_RECORD_BATCHES": "0" if os.environ.get("KAFKA_BOOTSTRAP_SERVERS") else "1",
        "QUALSTREAM_FETCH_MAX_WAIT_MS": "0" if os.environ.get("KAFKA_BOOTSTRAP_SERVERS") else "20",
        "QUALSTREAM_SESSION_TIMEOUT_S": "6",
        "QUALSTREAM_HEARTBEAT_INTERVAL_S": "1",
        "QUALSTREAM_COMMIT_INTERVAL_S": "0.5",
        "QUALSTREAM_STANDBY_REPLICAS": "0",
        "PYTHONPATH": str(REPO),
    })
    env.update(extra)
    return env


@dataclass
class Worker:
    """One ``qualstream worker`` process."""

    env: dict[str, str]
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Worker:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(  # noqa: S603 - our own CLI
            [sys.executable, "-m", "streams.cli", "worker"], env=self.env, stdout=log,
            stderr=subprocess.STDOUT, cwd=REPO)
        return self

    @property
    def web(self) -> str:
        return f"http://127.0.0.1:{self.env['QUALSTREAM_WEB_PORT']}"

    def stop(self, timeout: float = 30) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, n: int = 60) -> str:
        lines = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(lines[-n:])


async def producer(bootstrap: str) -> AIOKafkaProducer:
    p = AIOKafkaProducer(bootstrap_servers=bootstrap, max_batch_size=16 if _tansu() else 16384)
    await p.start()
    return p


def _tansu() -> bool:
    return not os.environ.get("KAFKA_BOOTSTRAP_SERVERS")


async def send(p: AIOKafkaProducer, topic: str, base: str, key: str,
               record: dict[str, Any] | None) -> None:
    value = None if record is None else CODEC.encode(base, record)
    await p.send_and_wait(topic, key=key.encode(), value=value)


@dataclass
class Tail:
    """Reads a topic from the beginning in the background and keeps what it decoded.

    Waits are on conditions over what has arrived, never on end offsets (Tansu reports them
    wrong for multi-record batches).
    """

    bootstrap: str
    topic: str
    base: str
    records: list[tuple[str | None, dict[str, Any] | None, float]] = field(default_factory=list)
    raw: list[tuple[bytes | None, bytes | None]] = field(default_factory=list)
    _task: asyncio.Task[None] | None = None
    _consumer: AIOKafkaConsumer | None = None

    async def start(self) -> Tail:
        self._consumer = AIOKafkaConsumer(
            self.topic, bootstrap_servers=self.bootstrap, auto_offset_reset="earliest",
            group_id=None, enable_auto_commit=False, metadata_max_age_ms=1000,
            fetch_max_wait_ms=20)
        await self._consumer.start()
        self._task = asyncio.create_task(self._run())
        return self

    async def _run(self) -> None:
        assert self._consumer is not None
        async for msg in self._consumer:
            key = msg.key.decode() if msg.key is not None else None
            value: dict[str, Any] | None = None
            if msg.value is not None:
                try:
                    value = CODEC.decode(self.base, msg.value)
                except SerializationError:
                    value = {"__undecodable__": True}
            self.records.append((key, value, time.monotonic()))
            self.raw.append((msg.key, msg.value))

    async def wait_for(self, predicate: Callable[[str | None, dict[str, Any] | None], bool],
                       timeout: float = 20.0) -> tuple[str | None, dict[str, Any] | None, float]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for rec in list(self.records):
                if predicate(rec[0], rec[1]):
                    return rec
            await asyncio.sleep(0.02)
        raise AssertionError(f"no record on {self.topic} matched within {timeout}s "
                             f"({len(self.records)} seen)")

    def latest_by_key(self) -> dict[str, dict[str, Any] | None]:
        latest: dict[str, dict[str, Any] | None] = {}
        for key, value, _ in self.records:
            if key is not None:
                latest[key] = value
        return latest

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        if self._consumer is not None:
            await self._consumer.stop()
