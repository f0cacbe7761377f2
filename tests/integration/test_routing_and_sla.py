"""Routing and SLA timers on a real broker: speed to lead, breach and reassignment, met. (Open
timers surviving a kill -9: the sla_timers_kill_minus_9 chaos scenario, tests/chaos.)"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from streams.config import Topics, from_env
from streams.shell.worker import ensure_topics
from tests.integration.support import Tail, Worker, producer, send, worker_env
from tests.integration.test_contact_pipeline import account, contact, demo_request
from tests.support.models import sla_model_text

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]
POOL = "NA:mid_market"


def rep(rep_id: str, max_open: int = 500) -> dict[str, Any]:
    return {"event_id": f"rep-{rep_id}", "occurred_at": int(time.time() * 1000) - 1000,
            "rep_id": rep_id, "name": rep_id, "active": True, "pools": [POOL],
            "territories": [POOL], "weight": 1, "max_open": max_open, "work_start_minute": 0,
            "work_end_minute": 1440, "work_days": [1, 2, 3, 4, 5, 6, 7], "timezone": "UTC",
            "manager_rep_id": "mgr-1"}


def activity(event_id: str, contact_id: str, kind: str, assignment_id: str,
             rep_id: str) -> dict[str, Any]:
    return {"event_id": event_id, "occurred_at": int(time.time() * 1000), "contact_id": contact_id,
            "rep_id": rep_id, "type": kind, "reason_code": None, "assignment_id": assignment_id}


Start = Callable[..., Worker]


@pytest.fixture
async def stack(bootstrap: str, unique_prefix: str,
                tmp_path: Path) -> AsyncIterator[dict[str, Any]]:
    topics = Topics(unique_prefix)
    workers: list[Worker] = []

    def start(first_touch_s: float = 2.0, escalation: str = "reassign",
              data: str = "data") -> Worker:
        model = tmp_path / f"sla-{first_touch_s}-{escalation}.toml"
        model.write_text(sla_model_text(first_touch_s, escalation))
        env = worker_env(bootstrap, unique_prefix, tmp_path / data, QUALSTREAM_MODEL=str(model),
                         QUALSTREAM_TICK_INTERVAL_S="0.2")
        worker = Worker(env, tmp_path / "worker.log").start()
        workers.append(worker)
        return worker

    await ensure_topics(from_env(worker_env(bootstrap, unique_prefix, tmp_path)))
    prod = await producer(bootstrap)
    tails = {
        "assignments": await Tail(bootstrap, topics.assignments, "routing.assignments").start(),
        "sla": await Tail(bootstrap, topics.sla_events, "sla.events").start(),
        "contacts": await Tail(bootstrap, topics.qualification_contacts,
                               "qualification.contacts").start(),
    }
    try:
        yield {"topics": topics, "producer": prod, "start": start, **tails}
    finally:
        for tail in tails.values():
            await tail.stop()
        await prod.stop()
        for worker in workers:
            if worker.alive():
                worker.stop()
        if workers:
            print(workers[-1].log_tail(80))


async def seed(stack: dict[str, Any], contact_ids: list[str], reps: tuple[str, ...] = ("rep-a",
                                                                                        "rep-b")) -> None:
    t: Topics = stack["topics"]
    p = stack["producer"]
    for rep_id in reps:
        await send(p, t.reps, "sales.reps", rep_id, rep(rep_id))
    await send(p, t.crm_accounts, "crm.accounts", "A-r", account("A-r", "route-corp.com",
                                                                  owner_rep_id=None))
    for cid in contact_ids:
        await send(p, t.crm_contacts, "crm.contacts", cid, contact(cid, f"{cid}@route-corp.com"))
    # routable once the account's firmographics reached every contact (territory pool known)
    pending = set(contact_ids)
    deadline = time.monotonic() + 120
    while pending and time.monotonic() < deadline:
        pending -= {k for k, v in stack["contacts"].latest_by_key().items()
                    if v is not None and v["segment"] == "mid_market"}
        await asyncio.sleep(0.1)
    assert not pending, f"{len(pending)} contacts never got their account"


async def test_a_demo_request_is_assigned_within_one_second(stack: dict[str, Any]) -> None:
    stack["start"]()
    await seed(stack, ["r-warm", "r-fast"])
    t: Topics = stack["topics"]
    p = stack["producer"]
    now = int(time.time() * 1000)
    await send(p, t.web, "events.web", "r-warm", demo_request("warm-demo", "r-warm", now))
    await stack["assignments"].wait_for(lambda k, v: k == "r-warm", timeout=90)
    sent = time.monotonic()
    await send(p, t.web, "events.web", "r-fast", demo_request("fast-demo", "r-fast", now + 5))
    _, assignment, received = await stack["assignments"].wait_for(lambda k, v: k == "r-fast")
    print(f"demo request to assignment: {received - sent:.3f}s")
    assert received - sent < 1.0
    assert assignment is not None
    assert assignment["rep_id"] in ("rep-a", "rep-b")
    assert (assignment["rule"], assignment["priority"], assignment["pool"]) == (
        "territory_round_robin", "p1", POOL)
    assert assignment["caused_by"] == "fast-demo"


async def test_without_first_touch_the_sla_breaches_and_the_lead_is_reassigned(
    stack: dict[str, Any],
) -> None:
    stack["start"](first_touch_s=2.0)
    await seed(stack, ["r-slow"])
    t: Topics = stack["topics"]
    await send(stack["producer"], t.web, "events.web", "r-slow",
               demo_request("slow-demo", "r-slow", int(time.time() * 1000)))
    _, first, _ = await stack["assignments"].wait_for(lambda k, v: k == "r-slow", timeout=90)
    assert first is not None
    _, breach, _ = await stack["sla"].wait_for(
        lambda k, v: k == "r-slow" and v is not None and v["status"] == "breached"
        and v["kind"] == "first_touch", timeout=30)
    mine = [v for k, v, _ in stack["assignments"].records if k == "r-slow"]
    assert breach is not None and breach["rep_id"] == first["rep_id"], mine
    _, second, _ = await stack["assignments"].wait_for(
        lambda k, v: k == "r-slow" and v is not None
        and v["assignment_id"] != first["assignment_id"], timeout=30)
    assert second is not None
    assert second["rep_id"] not in (None, first["rep_id"])
    assert second["trigger"] == "sla_breach_reassign"


async def test_a_first_touch_in_time_is_met_and_never_breaches(stack: dict[str, Any]) -> None:
    stack["start"](first_touch_s=3.0)
    await seed(stack, ["r-touch"])
    t: Topics = stack["topics"]
    p = stack["producer"]
    await send(p, t.web, "events.web", "r-touch",
               demo_request("touch-demo", "r-touch", int(time.time() * 1000)))
    _, assignment, _ = await stack["assignments"].wait_for(lambda k, v: k == "r-touch",
                                                           timeout=90)
    assert assignment is not None
    await send(p, t.activity, "sales.activity", "r-touch",
               activity("touch-1", "r-touch", "first_touch", assignment["assignment_id"],
                        assignment["rep_id"]))
    _, met, _ = await stack["sla"].wait_for(
        lambda k, v: k == "r-touch" and v is not None and v["status"] == "met")
    assert met is not None and met["kind"] == "first_touch"
    # proving an absence needs a window: past the 3 s deadline plus several ticks
    await asyncio.sleep(4)
    assert not [v for k, v, _ in stack["sla"].records
                if k == "r-touch" and v is not None and v["status"] == "breached"
                and v["kind"] == "first_touch"]
