"""Redis projection of ``qualification.contacts``: newer-wins hashes and hot-lead sets."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import AuthenticationError, NoScriptError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from streams.adapters.metrics import Metrics
from streams.codecs import Codec, SerializationError, codec_for
from streams.config import Settings
from streams.security import kafka_client_kwargs, redis_client

log = logging.getLogger("qualstream.projection")

CONTACT_KEY = "qs:contact:{}"
HOT_KEY = "qs:hot:{}"
SALES_READY = "sales_ready"
# The Segment symbols of schemas/qualification.contacts.avsc: every hot set a contact can be in.
SEGMENTS = ("smb", "mid_market", "enterprise", "unknown")
TOP_REASONS = 5
POLL_MS = 500
MAX_RECORDS = 500
INITIAL_BACKOFF_S = 0.1
MAX_BACKOFF_S = 5.0
STOP_TIMEOUT_S = 10.0
# Redis unreachable, restarted (script cache empty) or still loading: retry the whole batch.
RETRYABLE = (RedisConnectionError, RedisTimeoutError, NoScriptError, OSError)

# KEYS[1] the contact hash, KEYS[2..] every hot set; ARGV: member, mode ('put'|'del'),
# events_applied, updated_at, index in KEYS of the hot set to join (0: none), score, then
# field/value pairs. Returns 1 applied, 0 stale (older than what Redis holds), 2 deleted.
# Order: (events_applied, updated_at), the same as Version and may_replace below.
UPSERT_LUA = """
local member = ARGV[1]
if ARGV[2] == 'del' then
  for i = 2, #KEYS do redis.call('ZREM', KEYS[i], member) end
  redis.call('DEL', KEYS[1])
  return 2
end
local held = redis.call('HMGET', KEYS[1], 'events_applied', 'updated_at')
if held[1] then
  local held_n, held_t = tonumber(held[1]), tonumber(held[2])
  local n, t = tonumber(ARGV[3]), tonumber(ARGV[4])
  if n < held_n or (n == held_n and t < held_t) then return 0 end
end
local hot = tonumber(ARGV[5])
for i = 2, #KEYS do
  if i ~= hot then redis.call('ZREM', KEYS[i], member) end
end
if hot > 0 then redis.call('ZADD', KEYS[hot], ARGV[6], member) end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 7))
return 1
"""
RESULTS = {0: "stale", 1: "applied", 2: "deleted"}


@dataclass(frozen=True, slots=True, order=True)
class Version:
    """Order of a contact's snapshots: events applied first, event time as the tie-break.

    ``events_applied`` grows by one with every snapshot the contact agent publishes, while
    ``updated_at`` is the event time of the last payload applied and goes back when a late
    event (e.g. a CRM update with an older timestamp) arrives, so it cannot lead.
    """

    events_applied: int
    updated_at: int


def may_replace(candidate: Version, held: Version | None) -> bool:
    """Whether a write of ``candidate`` may replace what Redis holds (``None``: nothing).

    Newer wins, and so does an equal version: that is either the same snapshot again (a
    replay writes identical fields) or a snapshot published without a new input (a decay
    timer firing), which has no version bump of its own but is the later state.
    """
    return held is None or candidate >= held


def contact_key(contact_id: str) -> str:
    return CONTACT_KEY.format(contact_id)


def hot_key(segment: str) -> str:
    return HOT_KEY.format(segment)


def reasons_json(reasons: Iterable[Mapping[str, Any]]) -> str:
    """The top reasons, largest first as published, as compact JSON."""
    top = [{"signal": r["signal"], "category": r["category"],
            "points": round(float(r["points"]), 2), "count": int(r["count"])}
           for r in list(reasons)[:TOP_REASONS]]
    return json.dumps(top, separators=(",", ":"))


def hash_fields(record: Mapping[str, Any]) -> dict[str, str]:
    """The Redis hash of one ``qualification.contacts`` record; null fields are left out.

    Only scores, stage and company-level facts: no e-mail, name or other personal data.
    """
    fields: dict[str, str | None] = {
        "stage": record["stage"],
        "fit": repr(float(record["fit"])),
        "intent": repr(float(record["intent"])),
        "total": repr(float(record["total"])),
        "fit_grade": record["fit_grade"],
        "segment": record["segment"],
        "account_id": record.get("account_id"),
        "domain": record.get("domain"),
        "model_version": record["model_version"],
        "events_applied": str(int(record["events_applied"])),
        "updated_at": str(int(record["updated_at"])),
        "exclusion": record.get("exclusion"),
        "reasons": reasons_json(record.get("reasons") or ()),
    }
    return {name: value for name, value in fields.items() if value is not None}


@dataclass(frozen=True, slots=True)
class ContactWrite:
    """One record's effect on Redis: a new snapshot (``record``) or an erasure (``None``)."""

    contact_id: str
    record: Mapping[str, Any] | None

    @property
    def version(self) -> Version | None:
        if self.record is None:
            return None
        return Version(int(self.record["events_applied"]), int(self.record["updated_at"]))

    def script_call(self) -> tuple[list[str], list[str]]:
        """KEYS and ARGV of :data:`UPSERT_LUA` for this write."""
        segment = None if self.record is None else str(self.record["segment"])
        segments = [*SEGMENTS, *([segment] if segment and segment not in SEGMENTS else [])]
        keys = [contact_key(self.contact_id), *(hot_key(s) for s in segments)]
        if self.record is None or self.version is None:
            return keys, [self.contact_id, "del", "0", "0", "0", "0"]
        hot = 2 + segments.index(str(segment)) if self.record["stage"] == SALES_READY else 0
        args = [self.contact_id, "put", str(self.version.events_applied),
                str(self.version.updated_at), str(hot), repr(float(self.record["total"]))]
        for name, value in hash_fields(self.record).items():
            args += [name, value]
        return keys, args


def next_backoff(delay: float) -> float:
    """Capped exponential backoff: 0.1 s, 0.2 s, ... up to 5 s."""
    return min(delay * 2, MAX_BACKOFF_S)


class RedisProjection:
    """Consumes ``qualification.contacts`` with its own group and mirrors it into Redis.

    At-least-once: a batch's offsets are committed only after Redis acknowledged the whole
    batch; newer-wins writes make the replays harmless. While Redis is down the same batch
    is retried with backoff and nothing is committed, so Kafka keeps what is not yet written.
    """

    def __init__(self, settings: Settings, metrics: Metrics,
                 clock: Callable[[], float] = time.time) -> None:
        if settings.redis_url is None:
            raise ValueError("RedisProjection needs settings.redis_url")
        self.settings = settings
        self.redis_url: str = settings.redis_url
        self.metrics = metrics
        self.clock = clock
        self.topic = settings.topics.qualification_contacts
        self.group_id = f"{settings.app_id}-redis-projection"
        self._codec: Codec = codec_for(settings.schema_registry_url)
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[Any] | None = None

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
        try:
            await asyncio.wait_for(self._stopping.wait(), seconds)
        except TimeoutError:
            pass

    def _consumer(self) -> AIOKafkaConsumer:
        s = self.settings
        return AIOKafkaConsumer(
            self.topic, bootstrap_servers=s.kafka_bootstrap_servers, group_id=self.group_id,
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
        script = redis.register_script(UPSERT_LUA)
        try:
            await consumer.start()
            # Never reads end offsets (wrong on Tansu): it just keeps fetching.
            while not self._stopping.is_set():
                batch = await consumer.getmany(timeout_ms=POLL_MS, max_records=MAX_RECORDS)
                if not batch:
                    continue
                writes = self._decode(batch)
                if writes and not await self._write_until_acknowledged(redis, script, writes):
                    return  # stopping: the batch stays uncommitted in Kafka
                await self._commit(consumer, batch)
        finally:
            await consumer.stop()
            await redis.aclose()

    def _decode(self, batch: Mapping[TopicPartition, Sequence[ConsumerRecord]]
                ) -> list[ContactWrite]:
        writes = []
        for records in batch.values():
            for msg in records:
                try:
                    if msg.key is None:
                        raise SerializationError("decode", "record without a key",
                                                 topic=msg.topic)
                    value = None if msg.value is None else self._codec.decode(
                        "qualification.contacts", msg.value)
                    writes.append(ContactWrite(msg.key.decode(), value))
                except (SerializationError, UnicodeDecodeError):
                    self.metrics.projection_errors.labels("decode").inc()
                    log.error("skipping undecodable record at %s[%d]@%d", msg.topic,
                              msg.partition, msg.offset)
        return writes

    async def _write_until_acknowledged(self, redis: Redis, script: Any,
                                        writes: list[ContactWrite]) -> bool:
        """Write the batch, retrying through outages; False if asked to stop meanwhile."""
        delay = INITIAL_BACKOFF_S
        outage_since: float | None = None
        while not self._stopping.is_set():
            try:
                results = await self._write(redis, script, writes)
            except RETRYABLE as exc:
                # Refused credentials look like an outage to redis-py; say which it is.
                refused = isinstance(exc, AuthenticationError)
                self.metrics.projection_errors.labels(
                    "redis_auth" if refused else "redis_unavailable").inc()
                if outage_since is None:
                    outage_since = time.monotonic()
                    log.warning("redis %s (%s); holding %d records uncommitted, "
                                "retrying every %.1f-%.0fs",
                                "refused the credentials" if refused else "unreachable",
                                type(exc).__name__, len(writes), INITIAL_BACKOFF_S,
                                MAX_BACKOFF_S)
                await self._pause(delay)
                delay = next_backoff(delay)
                continue
            if outage_since is not None:
                log.warning("redis reachable again after %.1fs; batch written",
                            time.monotonic() - outage_since)
            self._account(writes, results)
            return True
        return False

    async def _write(self, redis: Redis, script: Any, writes: list[ContactWrite]) -> list[Any]:
        """One pipeline of script calls for the whole batch."""
        async with redis.pipeline(transaction=False) as pipe:
            for write in writes:
                keys, args = write.script_call()
                await script(keys=keys, args=args, client=pipe)
            results: list[Any] = await pipe.execute(raise_on_error=False)
        for result in results:
            if isinstance(result, RETRYABLE):
                raise result  # e.g. restarted between SCRIPT LOAD and EVALSHA
        return results

    def _account(self, writes: list[ContactWrite], results: list[Any]) -> None:
        failed: list[str] = []
        last_written: ContactWrite | None = None
        for write, result in zip(writes, results, strict=True):
            if isinstance(result, Exception):
                failed.append(type(result).__name__)
                continue
            outcome = RESULTS.get(int(result), "stale")
            self.metrics.projection_writes.labels(outcome).inc()
            if outcome == "applied":
                last_written = write
        if failed:
            # A command error (not an outage) would fail the same way forever: skip and count.
            self.metrics.projection_errors.labels("redis_command").inc(len(failed))
            log.error("redis rejected %d projection writes (%s)", len(failed),
                      ", ".join(sorted(set(failed))))
        if last_written is not None and last_written.version is not None:
            lag = self.clock() - last_written.version.updated_at / 1000
            self.metrics.projection_lag.set(max(0.0, lag))

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
