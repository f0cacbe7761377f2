"""Rep queues in a real Redis: the sales script ends in the same state in any arrival order."""

from __future__ import annotations

import itertools
import uuid
from typing import Any

import pytest
from redis.asyncio import Redis

from streams.adapters.projection_queues import SALES_LUA, AssignmentWrite, SlaWrite
from streams.adapters.projection_writes import UPSERT_LUA, ContactWrite

pytestmark = pytest.mark.integration
T = 1_700_000_000_000


def assignment(aid: str, cid: str, rep: str | None, at: int) -> dict[str, Any]:
    return {"event_id": f"e-{aid}", "assignment_id": aid, "contact_id": cid,
            "account_id": "A1", "rep_id": rep, "pool": "NA:smb",
            "rule": "territory_round_robin", "priority": "p1", "trigger": "form.demo_request",
            "sla_due_at": at + 300_000, "caused_by": "x", "occurred_at": at,
            "model_version": "m1"}


def sla(aid: str, cid: str, rep: str, kind: str, status: str, due: int) -> dict[str, Any]:
    return {"event_id": f"{aid}-{kind}-{status}", "sla_id": f"{aid}-{kind}",
            "assignment_id": aid, "contact_id": cid, "rep_id": rep, "kind": kind,
            "status": status, "due_at": due, "occurred_at": T, "escalation_target": None,
            "priority": "p1"}


async def apply(r: Redis, writes: list[AssignmentWrite | SlaWrite]) -> None:
    script = r.register_script(SALES_LUA)
    for write in writes:
        keys, args = write.script_call()
        await script(keys=keys, args=args)


async def queue(r: Redis, rep: str) -> list[tuple[str, float]]:
    return [(m.decode(), s) for m, s in await r.zrange(f"qs:queue:{rep}", 0, -1,
                                                        withscores=True)]


@pytest.mark.parametrize(("steps", "expected_due"), [
    # assigned, both clocks running: the earlier due time leads
    (["assign", "ft_started", "ar_started"], T + 300_000),
    # first touch met: the accept/reject clock is next
    (["assign", "ft_started", "ar_started", "ft_warning", "ft_met"], T + 900_000),
    # both met (a decision): out of the queue
    (["assign", "ft_started", "ar_started", "ft_met", "ar_met"], None),
    # first touch breached and reassigned: the remaining clock is cancelled, out of the queue
    (["assign", "ft_started", "ar_started", "ft_breached", "ar_cancelled"], None),
])
async def test_any_arrival_order_and_any_replay_give_the_same_queue(
    redis_server: Any, steps: list[str], expected_due: int | None,
) -> None:
    r = Redis.from_url(redis_server.url)
    dues = {"ft": T + 300_000, "ar": T + 900_000}
    kinds = {"ft": "first_touch", "ar": "accept_reject"}
    try:
        for n, order in enumerate(itertools.permutations(steps)):
            p = uuid.uuid4().hex[:8]
            aid, cid, rep = f"{p}-asg", f"{p}-c", f"{p}-rep"

            def write(step: str, aid: str = aid, cid: str = cid,
                      rep: str = rep) -> AssignmentWrite | SlaWrite:
                if step == "assign":
                    return AssignmentWrite(assignment(aid, cid, rep, T))
                kind, status = step.split("_")
                return SlaWrite(sla(aid, cid, rep, kinds[kind], status, dues[kind]))

            writes = [write(step) for step in order]
            await apply(r, writes)
            await apply(r, writes[n % len(writes):])  # a replay of a suffix changes nothing
            expected = [] if expected_due is None else [(aid, float(expected_due))]
            assert await queue(r, rep) == expected, order
            owner = await r.hget(f"qs:contact:{cid}", "owner")
            assert owner == rep.encode()  # the assignment names the contact's owner
    finally:
        await r.aclose()


async def test_latest_assignment_owns_the_contact_and_a_snapshot_keeps_the_owner(
    redis_server: Any,
) -> None:
    r = Redis.from_url(redis_server.url)
    p = uuid.uuid4().hex[:8]
    cid = f"{p}-c"
    snapshot = {"contact_id": cid, "account_id": "A1", "domain": "acme.com",
                "stage": "sales_ready", "fit": 70.0, "intent": 60.0, "total": 64.0,
                "fit_grade": "B", "segment": "smb", "model_version": "m1", "exclusion": None,
                "review_reasons": [], "reasons": [], "first_touch": None, "last_touch": None,
                "events_applied": 4, "last_event_id": "e4", "updated_at": T}
    try:
        newer = AssignmentWrite(assignment(f"{p}-2", cid, "rep-b", T + 10))
        older = AssignmentWrite(assignment(f"{p}-1", cid, "rep-a", T))
        await apply(r, [newer, older])
        contact = r.register_script(UPSERT_LUA)
        keys, args = ContactWrite(cid, snapshot).script_call()
        await contact(keys=keys, args=args)
        held = {k.decode(): v.decode() for k, v in (await r.hgetall(f"qs:contact:{cid}")).items()}
        assert (held["owner"], held["owner_assignment_id"], held["owner_at"]) == (
            "rep-b", f"{p}-2", str(T + 10))
        assert held["stage"] == "sales_ready"
        keys, args = ContactWrite(cid, None).script_call()  # erasure removes the owner too
        await contact(keys=keys, args=args)
        assert not await r.exists(f"qs:contact:{cid}")
    finally:
        await r.aclose()
