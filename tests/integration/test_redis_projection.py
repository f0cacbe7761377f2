"""Redis projection on a real broker and Redis: newer-wins, tombstones, end to end, outages."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import subprocess
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from streams.adapters.metrics import Metrics
from streams.adapters.projection_writes import SEGMENTS, hash_fields
from streams.adapters.redis_projection import RedisProjection
from streams.config import Settings, from_env
from streams.devstack import create_topics, redis_server_binary, start_redis, wait_for_redis
from streams.shell.worker import ensure_topics
from tests.integration.support import Worker, producer, send, worker_env
from tests.integration.test_contact_pipeline import account, contact, demo_request, page_view

pytestmark = pytest.mark.integration

NOW = int(time.time() * 1000)
BASE = "qualification.contacts"


def snapshot(contact_id: str, n: int, at: int, stage: str = "nurture",
             segment: str = "mid_market", total: float = 40.0) -> dict[str, Any]:
    """A ``qualification.contacts`` record (what the contact agent publishes)."""
    return {"contact_id": contact_id, "account_id": "A1", "domain": "acme-corp.com",
            "stage": stage, "fit": 70.0, "intent": total, "total": total, "fit_grade": "B",
            "segment": segment, "model_version": "test-1", "exclusion": None,
            "review_reasons": [],
            "reasons": [{"signal": "web.pricing", "category": "intent", "points": 12.5,
                         "count": n}],
            "first_touch": None, "last_touch": None, "events_applied": n,
            "last_event_id": f"ev-{n}", "updated_at": at}


async def wait_until(check: Callable[[], Awaitable[bool]], timeout: float,
                     what: str) -> float:
    """Poll ``check`` until it holds (a Redis still starting counts as not yet); return the
    seconds it took."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        with contextlib.suppress(RedisConnectionError):
            if await check():
                return time.monotonic() - start
        await asyncio.sleep(0.05)
    raise AssertionError(f"{what} not within {timeout}s")


def counted(metrics: Metrics, name: str, **labels: str) -> float:
    return metrics.registry.get_sample_value(name, labels) or 0.0


@contextlib.asynccontextmanager
async def projecting(settings: Settings) -> AsyncIterator[RedisProjection]:
    """A projection running in this process until the block ends."""
    projection = RedisProjection(settings, Metrics())
    task = asyncio.create_task(projection.run())
    try:
        yield projection
    finally:
        await projection.stop()
        await asyncio.wait_for(task, 15)


@pytest.fixture
async def fast(settings: Settings) -> Settings:
    """Test settings with a short fetch wait and group timing, topic created."""
    fast = dataclasses.replace(settings, fetch_max_wait_ms=20, session_timeout_s=6.0,
                               heartbeat_interval_s=1.0, partitions=2)
    t = fast.topics
    compacted = [t.qualification_contacts, t.qualification_accounts]
    await create_topics(fast.kafka_bootstrap_servers, [*compacted, t.assignments, t.sla_events],
                        2, compacted=compacted)
    return fast


async def hot_members(r: Redis, ids: set[str]) -> dict[str, set[str]]:
    """Members of each hot set, restricted to this test's contacts (the Redis is shared)."""
    return {s: {m.decode() for m in await r.zrange(f"qs:hot:{s}", 0, -1)} & ids
            for s in SEGMENTS}


async def hash_of(r: Redis, contact_id: str) -> dict[str, str]:
    raw = await r.hgetall(f"qs:contact:{contact_id}")
    return {k.decode(): v.decode() for k, v in raw.items()}


async def test_newest_version_wins_tombstones_delete_and_hot_sets_follow_the_stage(
    fast: Settings,
) -> None:
    p = uuid.uuid4().hex[:8]
    a, b, c, d, e, f = (f"{p}-{x}" for x in "abcdef")
    topic = fast.topics.qualification_contacts
    newest = {
        a: snapshot(a, 3, NOW - 1000, "sales_ready", total=70.0),
        b: snapshot(b, 2, NOW - 1000, "nurture", "enterprise"),
        # A late event: an older event time, but the newer snapshot (more events applied).
        d: snapshot(d, 2, NOW - 60_000, "sales_ready", "mid_market", total=61.0),
        e: snapshot(e, 1, NOW - 500, "sales_ready", "smb", total=80.0),
        # Same version, later state: a decay timer fired without a new input.
        f: snapshot(f, 2, NOW - 1000, "nurture", total=44.0),
    }
    sends: list[tuple[str, dict[str, Any] | None]] = [
        (a, snapshot(a, 1, NOW - 3000)), (a, newest[a]),
        (a, snapshot(a, 2, NOW - 2000)),  # stale: arrives after version 3
        (b, snapshot(b, 1, NOW - 2000, "sales_ready", "enterprise", 75.0)), (b, newest[b]),
        (c, snapshot(c, 1, NOW - 2000, "sales_ready", "smb", 90.0)), (c, None),  # erased
        (d, snapshot(d, 1, NOW - 1000)), (d, newest[d]),
        (e, newest[e]),
        (f, snapshot(f, 2, NOW - 1000, "sales_ready", total=62.0)), (f, newest[f]),
    ]
    prod = await producer(fast.kafka_bootstrap_servers)
    r = Redis.from_url(fast.redis_url or "")
    try:
        for key, record in sends:
            await send(prod, topic, BASE, key, record)

        async def converged() -> bool:
            hashes = {cid: await hash_of(r, cid) for cid in (a, b, c, d, e, f)}
            return all(hashes[cid] == hash_fields(rec) for cid, rec in newest.items()) and (
                not hashes[c]) and counted(
                projection.metrics, "qualstream_projection_writes_total", result="stale") >= 1

        async with projecting(fast) as projection:
            took = await wait_until(converged, 30, "projection of the newest versions")
            print(f"projected {len(sends)} records in {took:.2f}s")
            assert await hot_members(r, {a, b, c, d, e, f}) == {
                "smb": {e}, "mid_market": {a, d}, "enterprise": set(), "unknown": set()}
            assert await r.zscore("qs:hot:mid_market", a) == 70.0
            m = projection.metrics
            assert counted(m, "qualstream_projection_writes_total", result="deleted") == 1
            assert counted(m, "qualstream_projection_errors_total", kind="decode") == 0
            # Event time of the oldest record sent is NOW - 60 s (NOW is fixed at import, possibly
            # many minutes ago in a long session): the lag cannot exceed wall time since.
            oldest_s = (NOW - 60_000) / 1000
            assert 0 < counted(m, "qualstream_projection_lag_seconds") < (
                time.time() - oldest_s + 5)

        # A replay from the beginning (a new consumer group) changes nothing.
        replay = dataclasses.replace(fast, app_id=f"{fast.app_id}-replay")
        async with projecting(replay) as again:

            async def replayed() -> bool:
                return counted(again.metrics, "qualstream_projection_writes_total",
                               result="deleted") >= 1 and counted(
                    again.metrics, "qualstream_projection_writes_total", result="stale") >= 4

            await wait_until(replayed, 30, "the replay reaching the tombstone")
            assert all([await hash_of(r, cid) == hash_fields(rec)
                        for cid, rec in newest.items()])
    finally:
        await prod.stop()
        await r.aclose()


async def test_worker_projects_a_sales_ready_vp_into_redis(
    bootstrap: str, unique_prefix: str, tmp_path: Path, redis_server: Any,
) -> None:
    p = uuid.uuid4().hex[:8]
    vp, acc, domain = f"{p}-vp", f"{p}-A", f"{p}-acme.com"
    env = worker_env(bootstrap, unique_prefix, tmp_path / "data", REDIS_URL=redis_server.url)
    settings = from_env(env)
    await ensure_topics(settings)
    worker = Worker(env, tmp_path / "worker.log").start()
    prod = await producer(bootstrap)
    r = Redis.from_url(redis_server.url)
    t = settings.topics
    try:
        await send(prod, t.crm_accounts, "crm.accounts", acc, account(acc, domain))
        await send(prod, t.crm_contacts, "crm.contacts", vp, contact(vp, f"vera@{domain}"))

        async def segmented() -> bool:
            return (await hash_of(r, vp)).get("segment") == "mid_market"

        await wait_until(segmented, 60, "the VP's account firmographics in Redis")
        await send(prod, t.web, "events.web", vp, page_view(f"pv-{vp}", vp, "pricing",
                                                            NOW - 5000))
        sent_at = time.monotonic()
        await send(prod, t.web, "events.web", vp, demo_request(f"demo-{vp}", vp, NOW - 1000))

        async def hot() -> bool:
            return ((await hash_of(r, vp)).get("stage") == "sales_ready"
                    and await r.zscore("qs:hot:mid_market", vp) is not None)

        await wait_until(hot, 20, "the sales-ready VP in Redis")
        print(f"demo request to the hot set in Redis: {time.monotonic() - sent_at:.3f}s")
        stored = await hash_of(r, vp)
        assert "@" not in " ".join(stored.values())  # no e-mail in the read model
        assert {"form.demo_request", "web.pricing"} <= {
            reason["signal"] for reason in json.loads(stored["reasons"])}
    finally:
        await prod.stop()
        await r.aclose()
        code = worker.stop()
        print(worker.log_tail())  # shown by pytest only when the test fails
    assert code in (0, -15), f"worker exited with {code}"


def redis_on_port(port: int, workdir: str) -> subprocess.Popen[bytes]:
    """A redis-server on a given loopback port (devstack picks a free one itself)."""
    return subprocess.Popen(
        [redis_server_binary(), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", workdir, "--daemonize", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)


async def test_projection_catches_up_after_a_redis_outage(
    fast: Settings, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="qualstream.projection")
    first = start_redis(env={})  # our own server: the session one stays untouched
    url = first.url
    port = urlparse(url).port
    assert port is not None
    settings = dataclasses.replace(fast, redis_url=url)
    p = uuid.uuid4().hex[:8]
    x, y, z = (f"{p}-{n}" for n in "xyz")
    topic = settings.topics.qualification_contacts
    prod = await producer(settings.kafka_bootstrap_servers)
    workdir = tempfile.TemporaryDirectory(prefix="qualstream-redis-again-")
    second: subprocess.Popen[bytes] | None = None
    r = Redis.from_url(url, socket_connect_timeout=0.5)
    try:
        async with projecting(settings) as projection:
            m = projection.metrics
            for cid in (x, y):
                await send(prod, topic, BASE, cid, snapshot(cid, 1, NOW - 5000))

            async def first_written() -> bool:
                return all([await hash_of(r, cid) for cid in (x, y)])

            await wait_until(first_written, 30, "the first versions in Redis")
            first.stop()
            latest = {x: snapshot(x, 3, NOW - 1000, "sales_ready", "smb", 77.0),
                      y: snapshot(y, 2, NOW - 2000)}
            await send(prod, topic, BASE, x, snapshot(x, 2, NOW - 3000))
            await send(prod, topic, BASE, x, latest[x])
            await send(prod, topic, BASE, y, latest[y])
            await send(prod, topic, BASE, z, snapshot(z, 1, NOW - 2000, "sales_ready", "smb"))
            await send(prod, topic, BASE, z, None)

            async def failing() -> bool:
                return counted(m, "qualstream_projection_errors_total",
                               kind="redis_unavailable") >= 3

            await wait_until(failing, 15, "write attempts failing while Redis is down")
            await asyncio.sleep(1.5)  # let the backoff grow past its first steps
            second = redis_on_port(port, workdir.name)
            await asyncio.to_thread(wait_for_redis, url, 10.0, second)

            async def caught_up() -> bool:
                return (all([await hash_of(r, cid) == hash_fields(rec)
                             for cid, rec in latest.items()])
                        and not await hash_of(r, z)
                        and await hot_members(r, {x, y, z}) == {
                            "smb": {x}, "mid_market": set(), "enterprise": set(),
                            "unknown": set()})

            took = await wait_until(caught_up, 10, "the projection catching up")
            print(f"caught up {took:.2f}s after Redis returned")
        outage_logs = [rec for rec in caplog.records if "unreachable" in rec.getMessage()]
        assert len(outage_logs) == 1, "one log line per outage"
    finally:
        await r.aclose()
        await prod.stop()
        first.stop()
        if second is not None:
            second.terminate()
            second.wait(10)
        workdir.cleanup()
