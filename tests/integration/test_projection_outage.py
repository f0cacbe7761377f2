"""Redis down for 30 s under live traffic, back with an older snapshot, then back empty: each
time the projection equals the published table state within 10 s of Redis returning."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import secrets
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from streams.adapters.projection_queues import RANK, assignment_fields, next_due
from streams.adapters.projection_writes import OWNER_FIELDS, account_fields, hash_fields
from streams.adapters.redis_projection import positions_key
from streams.config import from_env
from streams.devstack import wait_for_redis
from streams.generate import Draft, TrafficConfig, TrafficGenerator
from streams.shell.worker import ensure_topics
from tests.integration.support import CODEC, Tail, Worker, free_port, producer, worker_env
from tests.integration.test_redis_projection import redis_on_port

pytestmark = [pytest.mark.integration, pytest.mark.timeout(360)]
OUTAGE_S = float(os.environ.get("QUALSTREAM_TEST_REDIS_OUTAGE_S", "30"))
CATCH_UP_S = 10.0
RATE = 40.0
Latest = dict[str, dict[str, Any] | None]


def expected_queues(assignments: list[dict[str, Any]], slas: list[dict[str, Any]]
                    ) -> tuple[dict[str, dict[str, float]], dict[str, str]]:
    """Each rep's queue and each contact's owner, recomputed from the two topics."""
    fields: dict[str, dict[str, str]] = defaultdict(dict)
    reps: dict[str, str] = {}
    owners: dict[str, tuple[int, str]] = {}
    for a in assignments:
        fields[a["assignment_id"]].update(assignment_fields(a))
        if a["rep_id"]:
            reps[a["assignment_id"]] = a["rep_id"]
            held = owners.get(a["contact_id"])
            if held is None or a["occurred_at"] >= held[0]:
                owners[a["contact_id"]] = (a["occurred_at"], a["rep_id"])
    for s in slas:
        f = fields[s["assignment_id"]]
        if RANK[s["status"]] > int(f.get(f"{s['kind']}_rank", "0")):
            f.update({f"{s['kind']}_rank": str(RANK[s["status"]]),
                      f"{s['kind']}_due_at": str(s["due_at"])})
        reps.setdefault(s["assignment_id"], s["rep_id"])
    queues: dict[str, dict[str, float]] = defaultdict(dict)
    for aid, f in fields.items():
        due = next_due(f)
        if aid in reps and due is not None:
            queues[reps[aid]][aid] = float(due)
    return dict(queues), {cid: rep for cid, (_, rep) in owners.items()}


async def differences(r: Redis, tails: dict[str, Tail]) -> list[str]:
    """What Redis holds that differs from the latest published records (empty: equal)."""
    contacts: Latest = tails["contacts"].latest_by_key()
    accounts: Latest = tails["accounts"].latest_by_key()
    queues, owners = expected_queues(
        [v for _, v, _ in tails["assignments"].records if v is not None],
        [v for _, v, _ in tails["sla"].records if v is not None])
    async with r.pipeline(transaction=False) as pipe:
        for cid in contacts:
            pipe.hgetall(f"qs:contact:{cid}")
        for aid in accounts:
            pipe.hgetall(f"qs:account:{aid}")
        raw = await pipe.execute()
    held = [{k.decode(): v.decode() for k, v in h.items()} for h in raw]
    diffs: list[str] = []
    for (cid, rec), h in zip(contacts.items(), held[:len(contacts)], strict=True):
        data = {k: v for k, v in h.items() if k not in OWNER_FIELDS}
        if (rec is None and "stage" in h) or (rec is not None and data != hash_fields(rec)):
            diffs.append(f"contact {cid}")
        elif rec is not None and h.get("owner") != owners.get(cid):
            diffs.append(f"owner of {cid}")
    for (aid, rec), h in zip(accounts.items(), held[len(contacts):], strict=True):
        h.pop("offset", None)
        if rec is not None and h != account_fields(rec):
            diffs.append(f"account {aid}")
    hot: dict[str, dict[str, float]] = defaultdict(dict)
    for cid, rec in contacts.items():
        if rec is not None and rec["stage"] == "sales_ready":
            hot[rec["segment"]][cid] = float(rec["total"])
    for kind, expected in (("hot", hot), ("queue", queues)):
        keys = {k.decode().split(":", 2)[2] async for k in r.scan_iter(f"qs:{kind}:*")}
        for name in keys | set(expected):
            got = {m.decode(): s for m, s in await r.zrange(f"qs:{kind}:{name}", 0, -1,
                                                            withscores=True)}
            if got != expected.get(name, {}):
                diffs.append(f"{kind} {name}")
    return diffs


async def converge(r: Redis, tails: dict[str, Tail], timeout: float) -> float:
    """Seconds until Redis equals the published state; fails with what differs."""
    start = time.monotonic()
    diffs: list[str] = ["not checked"]
    while time.monotonic() - start < timeout:
        try:
            diffs = await differences(r, tails)
        except (OSError, RedisConnectionError) as exc:  # reconnecting, loading its snapshot
            diffs = [type(exc).__name__]
        if not diffs:
            return time.monotonic() - start
        await asyncio.sleep(0.2)
    raise AssertionError(f"{len(diffs)} differences after {timeout}s: {diffs[:10]}")


async def test_projection_equals_the_tables_within_10s_after_30s_redis_outages(
    bootstrap: str, unique_prefix: str, tmp_path: Path,
) -> None:
    port, workdir = free_port(), tmp_path / "redis"
    workdir.mkdir()
    url = f"redis://127.0.0.1:{port}/0"
    server = redis_on_port(port, str(workdir))
    wait_for_redis(url, 15, server)
    token = secrets.token_urlsafe(16)
    env = worker_env(bootstrap, unique_prefix, tmp_path / "data", REDIS_URL=url,
                     QUALSTREAM_API_TOKEN=token)
    settings = from_env(env)
    await ensure_topics(settings)
    t = settings.topics
    worker = Worker(env, tmp_path / "worker.log").start()
    tails = {name: await Tail(bootstrap, topic, base).start() for name, topic, base in (
        ("contacts", t.qualification_contacts, "qualification.contacts"),
        ("accounts", t.qualification_accounts, "qualification.accounts"),
        ("assignments", t.assignments, "routing.assignments"),
        ("sla", t.sla_events, "sla.events"))}
    r = Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=5)
    http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
    traffic: asyncio.Task[Any] | None = None
    prod = await producer(bootstrap)
    config = dataclasses.replace(TrafficConfig(), mean_gap_ms=1000.0 / RATE)
    drafts = TrafficGenerator(CODEC, 1, int(time.time() * 1000), config).drafts()
    positions = positions_key(f"{settings.app_id}-redis-projection")
    try:
        for back_with in (("an older snapshot", "nothing")):
            traffic = asyncio.create_task(flow(prod, settings.topic_prefix, drafts))

            await written_past(r, positions, 0, 90)
            if back_with == "an older snapshot":
                await r.save()  # on disk now; what is written next is lost with the kill
                await written_past(r, positions, await written(r, positions), 60)
            server.kill()  # kill -9: nothing saved on the way out
            server.wait()
            if back_with == "nothing":
                (workdir / "dump.rdb").unlink(missing_ok=True)
            down_at = time.monotonic()
            some = next(k for k, v in tails["contacts"].latest_by_key().items() if v)
            async with http.get(f"{worker.web}/api/v1/contacts/{some}",
                                headers={"Authorization": f"Bearer {token}"}) as resp:
                assert resp.status == 503, await resp.text()
                assert (await resp.json())["error"] == "read_model_unavailable"
            # The outage itself is the scenario (traffic keeps flowing meanwhile).
            await asyncio.sleep(max(0.0, OUTAGE_S - (time.monotonic() - down_at)))
            traffic.cancel()
            await asyncio.gather(traffic, return_exceptions=True)
            server = redis_on_port(port, str(workdir))
            await asyncio.to_thread(wait_for_redis, url, 15, server)
            took = await converge(r, tails, CATCH_UP_S)
            print(f"redis back with {back_with} after {OUTAGE_S:.0f}s: projection equal to "
                  f"{len(tails['contacts'].latest_by_key())} contacts, "
                  f"{len(tails['accounts'].latest_by_key())} accounts and the rep queues "
                  f"{took:.2f}s later")
        assert "replaying them from Kafka" in worker.log_path.read_text()
    finally:
        if traffic is not None:
            traffic.cancel()
            await asyncio.gather(traffic, return_exceptions=True)
        await prod.stop()
        await http.close()
        await r.aclose()
        for tail in tails.values():
            await tail.stop()
        code = worker.stop()
        server.terminate()
        server.wait(10)
        print(worker.log_tail())
    assert code in (0, -15), f"worker exited with {code}"


async def flow(prod: Any, prefix: str, drafts: Iterator[Draft]) -> None:
    """Synthetic traffic at RATE/s until cancelled; the next phase resumes the same stream
    (a new generator would reuse account ids for other domains)."""
    for draft in drafts:
        await prod.send_and_wait(prefix + draft.topic_base, key=draft.key.encode(),
                                 value=draft.value)
        await asyncio.sleep(1 / RATE)


async def written(r: Redis, positions: str) -> int:
    """How many records the projection has written to this Redis (sum of its positions)."""
    return sum(int(v) for v in (await r.hgetall(positions)).values())


async def written_past(r: Redis, positions: str, mark: int, timeout: float) -> None:
    """Wait until the projection wrote 100 more records than ``mark``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await written(r, positions) > mark + 100:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"the projection did not write past {mark} within {timeout}s")
