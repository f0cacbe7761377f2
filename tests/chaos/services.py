"""Scenarios around the services the workers lean on: Redis going away, and SLA timers
across a kill -9."""

from __future__ import annotations

import asyncio
import dataclasses
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from redis.asyncio import Redis

from streams.adapters.projection_writes import hash_fields
from streams.devstack import start_redis, wait_for_redis
from tests.chaos.cluster import ChaosEnv, Cluster, wait_until
from tests.chaos.result import ChaosResult
from tests.chaos.traffic import Row, traffic
from tests.chaos.verify import drained, settle, verify
from tests.integration.support import Tail
from tests.integration.test_contact_pipeline import account, contact, demo_request
from tests.integration.test_redis_projection import redis_on_port
from tests.integration.test_routing_and_sla import rep
from tests.support.models import sla_model_text

POOLS = ["NA:smb", "NA:mid_market", "NA:enterprise"]


def roster(n: int = 2, max_open: int = 100_000) -> list[Row]:
    """Reps serving every NA pool around the clock, with a manager to escalate to."""
    return [("sales.reps", f"rep-{i}", {**rep(f"rep-{i}", max_open), "pools": POOLS,
                                        "territories": POOLS}) for i in range(n)]


@dataclass(frozen=True)
class Outage:
    events: int
    contacts: int
    outage_s: float
    demo_requests: int
    first_touch_s: float


async def redis_down(env: ChaosEnv, size: Outage, seed: int = 41) -> ChaosResult:
    """Redis stops for ``outage_s`` while traffic flows: scoring, routing and SLA timers carry
    on, and the projection converges within 10 s of Redis coming back."""
    started = time.monotonic()
    now = int(time.time() * 1000)
    rows, expected = traffic(seed, size.contacts, size.events, now)
    own = start_redis(env={})  # our own server: the shared one stays up
    port = urlparse(own.url).port
    workdir = tempfile.TemporaryDirectory(prefix="qualstream-chaos-redis-")
    again = None
    model = env.workdir / f"sla-{size.first_touch_s}.toml"
    model.write_text(sla_model_text(size.first_touch_s, "manager"))
    local = dataclasses.replace(env, redis=own)
    extra = {"QUALSTREAM_MODEL": str(model), "QUALSTREAM_TICK_INTERVAL_S": "0.2"}
    details: dict[str, Any] = {"outage_s": size.outage_s}
    try:
        async with Cluster(local, "redis-down", extra_env=extra) as c:
            t = c.topics
            tails = {base: await Tail(c.bootstrap, t.name(base), base).start()
                     for base in ("qualification.events", "routing.assignments", "sla.events")}
            c.start("a")
            await c.ready(c.current["a"])
            half = len(rows) // 2
            await c.produce([*roster(), *rows[:half]])
            r = Redis.from_url(own.url, socket_connect_timeout=0.5, socket_timeout=2)
            await wait_until(lambda: c.applied() > 0, 120, "first states")
            if not await drained(c.bootstrap, t, 300):  # a steady state before the outage
                raise AssertionError("the first half of the traffic was never processed")
            own.stop()
            down_at = time.monotonic()
            # traffic during the outage, and fresh demo requests whose first-touch SLA breaches
            # before Redis returns
            demos = [("events.web", f"c{i}", demo_request(f"outage-demo-{i}", f"c{i}",
                                                          int(time.time() * 1000)))
                     for i in range(size.demo_requests)]
            await c.produce([*demos, *rows[half:]])
            for i in range(size.demo_requests):
                expected[f"c{i}"] += 1
            remaining = size.outage_s - (time.monotonic() - down_at)
            await asyncio.sleep(max(0.0, remaining))
            during = {base: sum(1 for _, v, at in tail.records if v is not None and at > down_at)
                      for base, tail in tails.items()}
            breaches = sum(1 for _, v, at in tails["sla.events"].records
                           if v is not None and at > down_at and v["status"] == "breached")
            alive_during = c.current["a"].alive()
            again = redis_on_port(port or 0, workdir.name)
            await asyncio.to_thread(wait_for_redis, own.url, 10.0, again)
            back_at = time.monotonic()
            assert c.states is not None
            states = c.states

            async def converged() -> bool:
                latest = {k: v for k, v in states.latest_by_key().items() if v is not None}
                pipe = r.pipeline(transaction=False)
                for cid in latest:
                    pipe.hgetall(f"qs:contact:{cid}")
                got = await pipe.execute()
                # the fields of the contact's state (the hash may hold its assignments too)
                return all(all(h.get(k.encode()) == v.encode() for k, v in hash_fields(rec).items())
                           for h, rec in zip(got, latest.values(), strict=True))

            took = None
            while time.monotonic() - back_at < 60:
                try:
                    if await converged():
                        took = time.monotonic() - back_at
                        break
                except OSError:
                    pass
                await asyncio.sleep(0.1)
            await r.aclose()
            settled = await settle(states, expected, 120, c.bootstrap, t)
            crashed = not c.current["a"].alive()
            c.current["a"].stop()
            for tail in tails.values():
                await tail.stop()
            verdict = await verify(c.bootstrap, t, [*rows, *demos], expected, c.model(), now)
            details.update(outputs_during_outage=during, sla_breaches_during_outage=breaches,
                           worker_alive_during_outage=alive_during,
                           converged_after_s=None if took is None else round(took, 2),
                           settled=settled, crashed=crashed, **verdict.details)
            carried_on = alive_during and breaches > 0 and all(during.values())
            passed = (verdict.exact and carried_on and took is not None and took <= 10
                      and settled and not crashed)
            if not passed:
                details["log_tail"] = c.current["a"].log_tail(30)
    finally:
        if again is not None:
            again.terminate()
            again.wait(10)
        own.stop()
        workdir.cleanup()
    return ChaosResult(
        name="redis_down", events=size.events + size.demo_requests, faults=1, lost=verdict.lost,
        double_counted=verdict.double_counted, duplicate_output_ids=verdict.duplicate_output_ids,
        state_matches_recompute=verdict.state_matches_recompute, passed=passed,
        duration_s=round(time.monotonic() - started, 1),
        criterion="scoring, routing and SLA timers carry on; projection converges <= 10 s after "
                  "Redis returns; nothing lost", details=details)


@dataclass(frozen=True)
class Timers:
    timers: int
    first_touch_s: float
    per_account: int = 20


async def sla_timers_kill(env: ChaosEnv, size: Timers) -> ChaosResult:
    """``timers`` first-touch SLA clocks open, kill -9, restart on an empty data dir: each
    breaches exactly once by id."""
    started = time.monotonic()
    now = int(time.time() * 1000)
    model = env.workdir / f"sla-{size.first_touch_s}-manager.toml"
    model.write_text(sla_model_text(size.first_touch_s, "manager"))
    extra = {"QUALSTREAM_MODEL": str(model), "QUALSTREAM_TICK_INTERVAL_S": "0.2"}
    contacts = [f"sla-{i}" for i in range(size.timers)]
    accounts = (size.timers + size.per_account - 1) // size.per_account
    seed_rows: list[Row] = [*roster(2)]
    for j in range(accounts):
        seed_rows.append(("crm.accounts", f"A-s{j}", account(f"A-s{j}", f"sla-corp{j}.com",
                                                             owner_rep_id=None)))
    for i, cid in enumerate(contacts):
        seed_rows.append(("crm.contacts", cid,
                          contact(cid, f"{cid}@sla-corp{i // size.per_account}.com")))
    expected: Counter[str] = Counter({cid: 3 for cid in contacts})  # profile, firmographics, demo
    async with Cluster(env, "sla-timers", extra_env=extra) as c:
        t = c.topics
        sla = await Tail(c.bootstrap, t.sla_events, "sla.events").start()
        assignments = await Tail(c.bootstrap, t.assignments, "routing.assignments").start()
        try:
            c.start("a")
            await c.produce(seed_rows)
            assert c.states is not None
            states = c.states
            await wait_until(lambda: all(
                (v := states.latest_by_key().get(cid)) and v["segment"] == "mid_market"
                for cid in contacts), 300, "every contact joined to its account", 0.5)
            demos: list[Row] = [("events.web", cid, demo_request(f"sla-demo-{i}", cid, now + i))
                                for i, cid in enumerate(contacts)]
            await c.produce(demos)

            def opened() -> set[str]:
                demo_ids = {v["assignment_id"] for _, v, _ in assignments.records
                            if v is not None and v["trigger"] == "form.demo_request"}
                return {v["sla_id"] for _, v, _ in sla.records
                        if v is not None and v["status"] == "started"
                        and v["kind"] == "first_touch" and v["assignment_id"] in demo_ids}

            await wait_until(lambda: len(opened()) >= size.timers, size.first_touch_s,
                             "every demo request's first-touch clock started", 0.5)
            ids = opened()
            early = [v for _, v, _ in sla.records if v is not None and v["status"] == "breached"]
            c.current["a"].kill()  # every clock open, none due yet
            c.start("a", fresh_data=True)

            def breached() -> Counter[str]:
                return Counter(v["sla_id"] for _, v, _ in sla.records
                               if v is not None and v["status"] == "breached"
                               and v["kind"] == "first_touch" and v["sla_id"] in ids)

            await wait_until(lambda: len(breached()) >= len(ids), size.first_touch_s + 300,
                             "every open clock breached after the restart", 0.5)
            await asyncio.sleep(3)  # a second firing would come on the next ticks
            fired = breached()
            settled = await settle(states, expected, 60, c.bootstrap, t)
            crashed = not c.current["a"].alive()
            c.current["a"].stop()
        finally:
            await sla.stop()
            await assignments.stop()
        verdict = await verify(c.bootstrap, t, [r for r in seed_rows if r[0] != "sales.reps"]
                               + demos, expected, c.model(), now)
    lost = len(ids - set(fired))
    doubled = sum(n - 1 for n in fired.values() if n > 1)
    passed = (len(ids) == size.timers and lost == 0 and doubled == 0 and not early
              and verdict.exact and settled and not crashed)
    return ChaosResult(
        name="sla_timers_kill_minus_9", events=size.timers, faults=1, lost=lost,
        double_counted=doubled, duplicate_output_ids=verdict.duplicate_output_ids,
        state_matches_recompute=verdict.state_matches_recompute, passed=passed,
        duration_s=round(time.monotonic() - started, 1),
        criterion="each open SLA timer fires exactly once by id after the restart",
        details={"timers_open_at_kill": len(ids), "breached_before_kill": len(early),
                 "fired": len(fired), "settled": settled, "crashed": crashed,
                 **verdict.details})
