"""Redis projection: mirrors the output topics into Redis off the hot path, losing nothing.

Reads ``qualification.contacts``, ``qualification.accounts``, ``routing.assignments`` and
``sla.events`` with its own consumer group and writes each batch in one Redis transaction of
newer-wins scripts (projection_writes, projection_queues). The same transaction records, per
topic partition, the next offset Redis holds (``qs:projection:<group>``), so Redis itself says
how far it is: before every poll the projection compares that with its own position and seeks
back when Redis has less (restarted empty: from the beginning; restored from an older
snapshot: from the snapshot's offsets). Kafka offsets are committed only after Redis
acknowledged a batch. While Redis is down the same batch is retried with backoff.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import AuthenticationError, NoScriptError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from streams.adapters.metrics import Metrics
from streams.adapters.projection_queues import SALES_LUA, AssignmentWrite, SlaWrite
from streams.adapters.projection_writes import (
    ACCOUNT_LUA,
    RESULTS,
    UPSERT_LUA,
    AccountWrite,
    ContactWrite,
)
from streams.codecs import Codec, SerializationError, codec_for
from streams.config import Settings
from streams.security import kafka_client_kwargs, redis_client

log = logging.getLogger("qualstream.projection")

POSITIONS_KEY = "qs:projection:{}"
POLL_MS = 500
MAX_RECORDS = 500
# A batch at most this often: each costs a Redis round trip for the positions, one transaction
# and a Kafka commit whatever its size, and a worker keeping up with live traffic fetched a few
# records at a time (~50 batches/s, the projection ~15% of the worker's CPU). Redis trails
# the topics by up to this much more.
BATCH_INTERVAL_S = 0.1
INITIAL_BACKOFF_S = 0.1
MAX_BACKOFF_S = 2.0
STOP_TIMEOUT_S = 10.0
# Redis unreachable, restarted (script cache empty) or still loading: retry the whole batch.
RETRYABLE = (RedisConnectionError, RedisTimeoutError, NoScriptError, OSError)
# KEYS[1] the positions hash; ARGV: (partition field, batch's first offset, next offset)*.
# A batch moves a partition's position only when it continues what Redis holds: after a
# restart empty (no position) or from an older snapshot (a position before the batch) the
# position stays, so the next rewind check replays what Redis lost.
POSITIONS_LUA = """
for i = 1, #ARGV, 3 do
  local held = redis.call('HGET', KEYS[1], ARGV[i])
  if held and tonumber(held) >= tonumber(ARGV[i + 1])
      and tonumber(ARGV[i + 2]) > tonumber(held) then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 2])
  end
end
return 1
"""
SCRIPTS = {"contact": UPSERT_LUA, "account": ACCOUNT_LUA, "sales": SALES_LUA,
           "positions": POSITIONS_LUA}
T = TypeVar("T")


class Write(Protocol):
    """One record's effect on Redis: a call of one of :data:`SCRIPTS`."""

    @property
    def script(self) -> str: ...

    @property
    def updated_at(self) -> int | None: ...

    def script_call(self) -> tuple[list[str], list[str]]: ...


def next_backoff(delay: float) -> float:
    """Capped exponential backoff: 0.1 s, 0.2 s, ... up to 2 s."""
    return min(delay * 2, MAX_BACKOFF_S)


def positions_key(group_id: str) -> str:
    return POSITIONS_KEY.format(group_id)


def partition_field(tp: TopicPartition) -> str:
    return f"{tp.topic}:{tp.partition}"


def rewind_targets(held: Mapping[TopicPartition, int | None],
                   position: Mapping[TopicPartition, int]) -> dict[TopicPartition, int | None]:
    """Partitions Redis holds less of than the consumer already read: where to seek back to
    (``None``: Redis knows nothing of the partition, so from the beginning)."""
    return {tp: held.get(tp) for tp, pos in position.items()
            if held.get(tp) is None or (held[tp] or 0) < pos}


class RedisProjection:
    """Consumes the output topics with its own group and mirrors them into Redis.

    At-least-once into Redis, exact in effect: newer-wins scripts make replays harmless, and
    the per-partition positions stored with the data make a lost or rolled-back Redis refill
    itself from Kafka.
    """

    def __init__(self, settings: Settings, metrics: Metrics,
                 clock: Callable[[], float] = time.time,
                 batch_interval_s: float = BATCH_INTERVAL_S) -> None:
        if settings.redis_url is None:
            raise ValueError("RedisProjection needs settings.redis_url")
        self.settings = settings
        self.redis_url: str = settings.redis_url
        self.metrics = metrics
        self.clock = clock
        self.batch_interval_s = batch_interval_s
        t = settings.topics
        self.decoders: dict[str, Callable[[ConsumerRecord], Write | None]] = {
            t.qualification_contacts: self._contact_of, t.qualification_accounts: self._account_of,
            t.assignments: self._assignment_of, t.sla_events: self._sla_of}
        self.topics = tuple(self.decoders)
        self.group_id = f"{settings.app_id}-redis-projection"
        self.positions = positions_key(self.group_id)
        self._codec: Codec = codec_for(settings.schema_registry_url)
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[Any] | None = None
        self._outage_since: float | None = None

    async def run(self) -> None:
        """Project until cancelled or :meth:`stop`; restarts itself after unexpected errors."""
        self._task = asyncio.current_task()
        self._stopping.clear()
        delay = INITIAL_BACKOFF_S
        while not self._stopping.is_set():
            try:
                await self._consume()
                delay = INITIAL_BACKOFF_S
            except Exception:  # never take the worker down: the projection is off the hot path
                self.metrics.projection_errors.labels("unexpected").inc()
                log.exception("redis projection failed; restarting in %.1fs", delay)
                await self._pause(delay)
                delay = next_backoff(delay)

    async def stop(self) -> None:
        """Ask :meth:`run` to finish (nothing uncommitted is lost) and wait for it."""
        self._stopping.set()
        task = self._task
        if task is None or task.done() or task is asyncio.current_task():
            return
        _, pending = await asyncio.wait({task}, timeout=STOP_TIMEOUT_S)
        if pending:
            task.cancel()
            await asyncio.wait({task})

    async def _pause(self, seconds: float) -> None:
        """Sleep ``seconds`` unless asked to stop first."""
        if seconds <= 0:
            return
        try:
            await asyncio.wait_for(self._stopping.wait(), seconds)
        except TimeoutError:
            pass

    def _consumer(self) -> AIOKafkaConsumer:
        s = self.settings
        return AIOKafkaConsumer(
            *self.topics, bootstrap_servers=s.kafka_bootstrap_servers, group_id=self.group_id,
            enable_auto_commit=False, auto_offset_reset="earliest",
            session_timeout_ms=int(s.session_timeout_s * 1000),
            heartbeat_interval_ms=int(s.heartbeat_interval_s * 1000),
            fetch_max_wait_ms=s.fetch_max_wait_ms or 500, metadata_max_age_ms=5000,
            **kafka_client_kwargs(s.kafka_security))

    def _redis(self) -> Redis:
        # One attempt per call: the retry loop below owns backoff and outage logging.
        return redis_client(self.settings.redis_security, self.redis_url,
                            socket_connect_timeout=1.0, socket_timeout=5.0,
                            retry=Retry(NoBackoff(), 0))

    async def _consume(self) -> None:
        consumer = self._consumer()
        redis = self._redis()
        scripts = {name: redis.register_script(lua) for name, lua in SCRIPTS.items()}
        try:
            await consumer.start()
            # Never reads end offsets (wrong on Tansu): it just keeps fetching.
            while not self._stopping.is_set():
                starts = await self._until_acknowledged(
                    functools.partial(self._rewind, redis, consumer))
                if starts is None:
                    return
                polled = time.monotonic()
                batch = await consumer.getmany(timeout_ms=POLL_MS, max_records=MAX_RECORDS)
                if not batch:
                    continue
                writes = self._decode(batch)
                done = await self._until_acknowledged(
                    functools.partial(self._write, redis, scripts, writes, batch, starts))
                if done is None:
                    return  # stopping: the batch stays uncommitted in Kafka
                self._tally(writes, done)
                await self._commit(consumer, batch)
                # meanwhile the consumer keeps fetching: the next batch holds all of it
                await self._pause(self.batch_interval_s - (time.monotonic() - polled))
        finally:
            await consumer.stop()
            await redis.aclose()

    async def _rewind(self, redis: Redis,
                      consumer: AIOKafkaConsumer) -> dict[TopicPartition, int]:
        """Seek back every assigned partition of which Redis holds less than we read; return
        where the next fetch of each partition starts."""
        assigned = sorted(consumer.assignment())
        if not assigned:
            return {}
        raw = await redis.hmget(self.positions, [partition_field(tp) for tp in assigned])
        held = {tp: None if v is None else int(v) for tp, v in zip(assigned, raw, strict=True)}
        position = {tp: await consumer.position(tp) for tp in assigned}
        targets = rewind_targets(held, position)
        if not targets:
            return position
        fresh = [tp for tp, at in targets.items() if at is None]
        beginnings = await consumer.beginning_offsets(fresh) if fresh else {}
        for tp, at in targets.items():
            offset = beginnings[tp] if at is None else at
            consumer.seek(tp, offset)
            position[tp] = offset
        # A partition Redis knows nothing of starts at its beginning: say so, so that an
        # empty partition is not sought back again at every poll.
        if fresh:
            await redis.hset(self.positions, mapping={
                partition_field(tp): beginnings[tp] for tp in fresh})
        log.warning("redis holds less than the projection read on %d partitions (restarted "
                    "empty or from an older snapshot); replaying them from Kafka", len(targets))
        return position

    def _decode(self, batch: Mapping[TopicPartition, Sequence[ConsumerRecord]]) -> list[Write]:
        writes: list[Write] = []
        for records in batch.values():
            for msg in records:
                try:
                    if msg.key is None:
                        raise SerializationError("decode", "record without a key",
                                                 topic=msg.topic)
                    write = self.decoders[msg.topic](msg)
                    if write is not None:
                        writes.append(write)
                except (SerializationError, UnicodeDecodeError, KeyError, ValueError):
                    self.metrics.projection_errors.labels("decode").inc()
                    log.error("skipping undecodable record at %s[%d]@%d", msg.topic,
                              msg.partition, msg.offset)
        return writes

    def _contact_of(self, msg: ConsumerRecord) -> Write:
        value = None if msg.value is None else self._codec.decode(
            "qualification.contacts", msg.value)
        return ContactWrite(msg.key.decode(), value)

    def _account_of(self, msg: ConsumerRecord) -> Write | None:
        if msg.value is None:
            return None
        return AccountWrite(self._codec.decode("qualification.accounts", msg.value),
                            msg.offset)

    def _assignment_of(self, msg: ConsumerRecord) -> Write | None:
        if msg.value is None:
            return None
        return AssignmentWrite(self._codec.decode("routing.assignments", msg.value))

    def _sla_of(self, msg: ConsumerRecord) -> Write | None:
        if msg.value is None:
            return None
        return SlaWrite(self._codec.decode("sla.events", msg.value))

    async def _until_acknowledged(self, attempt: Callable[[], Awaitable[T]]) -> T | None:
        """Run ``attempt`` until Redis answers, with backoff; None if asked to stop first."""
        delay = INITIAL_BACKOFF_S
        while not self._stopping.is_set():
            try:
                result = await attempt()
            except RETRYABLE as exc:
                # Refused credentials look like an outage to redis-py; say which it is.
                refused = isinstance(exc, AuthenticationError)
                self.metrics.projection_errors.labels(
                    "redis_auth" if refused else "redis_unavailable").inc()
                if self._outage_since is None:
                    self._outage_since = time.monotonic()
                    log.warning("redis %s (%s); holding the batch uncommitted, "
                                "retrying every %.1f-%.0fs",
                                "refused the credentials" if refused else "unreachable",
                                type(exc).__name__, INITIAL_BACKOFF_S, MAX_BACKOFF_S)
                await self._pause(delay)
                delay = next_backoff(delay)
                continue
            if self._outage_since is not None:
                log.warning("redis reachable again after %.1fs",
                            time.monotonic() - self._outage_since)
                self._outage_since = None
            return result
        return None

    async def _write(self, redis: Redis, scripts: Mapping[str, Any], writes: list[Write],
                     batch: Mapping[TopicPartition, Sequence[ConsumerRecord]],
                     starts: Mapping[TopicPartition, int]) -> list[Any]:
        """One transaction for the whole batch: the scripts, then the partitions' positions
        (so a snapshot of Redis never holds positions without the data before them)."""
        # A batch starts where the fetch started, not at its first record: compaction and
        # transaction markers leave gaps that are nothing to apply.
        positions = [str(x) for tp, records in batch.items() if records
                     for x in (partition_field(tp), starts.get(tp, records[0].offset),
                               records[-1].offset + 1)]
        async with redis.pipeline(transaction=True) as pipe:
            for write in writes:
                keys, args = write.script_call()
                await scripts[write.script](keys=keys, args=args, client=pipe)
            await scripts["positions"](keys=[self.positions], args=positions, client=pipe)
            results: list[Any] = await pipe.execute(raise_on_error=False)
        for result in results:
            if isinstance(result, RETRYABLE):
                raise result  # e.g. restarted between SCRIPT LOAD and EVALSHA
        return results[:len(writes)]

    def _tally(self, writes: list[Write], results: list[Any]) -> None:
        failed: list[str] = []
        newest: int | None = None
        for write, result in zip(writes, results, strict=True):
            if isinstance(result, Exception):
                failed.append(type(result).__name__)
                continue
            outcome = RESULTS.get(int(result), "stale")
            self.metrics.projection_writes.labels(outcome).inc()
            if outcome == "applied" and write.script == "contact" and write.updated_at:
                newest = write.updated_at
        if failed:
            # A command error (not an outage) would fail the same way forever: skip and count.
            self.metrics.projection_errors.labels("redis_command").inc(len(failed))
            log.error("redis rejected %d projection writes (%s)", len(failed),
                      ", ".join(sorted(set(failed))))
        if newest is not None:
            self.metrics.projection_lag.set(max(0.0, self.clock() - newest / 1000))

    async def _commit(self, consumer: AIOKafkaConsumer,
                      batch: Mapping[TopicPartition, Sequence[ConsumerRecord]]) -> None:
        offsets = {tp: records[-1].offset + 1 for tp, records in batch.items() if records}
        try:
            await consumer.commit(offsets)
        except (CommitFailedError, IllegalStateError) as exc:
            # Rebalanced meanwhile: the next owner re-reads these records; harmless.
            log.info("projection commit skipped after a rebalance (%s)", type(exc).__name__)
        except KafkaError as exc:
            log.warning("projection commit failed (%s); a later batch commits past it",
                        type(exc).__name__)
