"""Restarts lose nothing and double-count nothing: live state equals the core's recomputation."""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer

from streams.config import Topics, from_env
from streams.core import contact as core
from streams.core.account import profiled
from streams.core.account_events import AccountInput
from streams.core.contact_state import evaluate
from streams.core.events import ContactInput, ContactProfiled, Origin
from streams.core.replay import recompute, recompute_partitions
from streams.ingest.normalise import normalise
from streams.shell.app import ingest_policy
from streams.shell.records import contact_input_from_record, contact_state_record
from streams.shell.worker import ensure_topics, load_model
from tests.integration.support import CODEC, Tail, Worker, producer, send, worker_env

pytestmark = pytest.mark.integration

NOW = int(time.time() * 1000)
CATEGORIES = ["pricing", "product", "docs", "blog", "integration", "case_study", "careers"]
EMAIL_TYPES = ["open", "click", "reply", "delivered"]


def traffic(seed: int, contacts: int, events: int) -> tuple[list[tuple[str, str, str, dict[str, Any]]], Counter[str]]:
    """CRM records first, then behaviour: (topic base, key, record) rows and events per contact."""
    rng = random.Random(seed)
    rows: list[tuple[str, str, str, dict[str, Any]]] = []
    for a in range(contacts // 5):
        rows.append(("crm.accounts", f"A{a}", "", {
            "event_id": f"acc-{a}", "occurred_at": NOW - 86_400_000, "account_id": f"A{a}",
            "domain": f"company{a}.com", "industry": rng.choice(["software", "fintech", "retail"]),
            "employee_count": rng.choice([40, 300, 2500]), "annual_revenue": None,
            "country": "US", "region": "NA", "tech_stack": ["salesforce"],
            "owner_rep_id": None, "is_customer": False, "named_account": False}))
    for c in range(contacts):
        rows.append(("crm.contacts", f"c{c}", "", {
            "event_id": f"crm-{c}", "occurred_at": NOW - 86_400_000, "contact_id": f"c{c}",
            "email": f"p{c}@company{c % (contacts // 5)}.com",
            "seniority": rng.choice(["vp", "director", "manager"]),
            "persona": rng.choice(["decision_maker", "champion", "end_user"]), "country": "US"}))
    applied: Counter[str] = Counter()
    for i in range(events):
        cid = f"c{rng.randrange(contacts)}"
        at = NOW - rng.randrange(30 * 86_400_000)
        if rng.random() < 0.7:
            record: dict[str, Any] = {"event_id": f"w{i}", "occurred_at": at, "type": "page_view",
                                      "contact_id": cid, "page_category": rng.choice(CATEGORIES)}
            if rng.random() < 0.03:
                record.update(type="form_submit", page_category=None, form_type="demo_request")
            rows.append(("events.web", cid, "", record))
        else:
            rows.append(("events.email", cid, "", {
                "event_id": f"m{i}", "occurred_at": at, "type": rng.choice(EMAIL_TYPES),
                "contact_id": cid, "campaign_id": "q4"}))
        applied[cid] += 1
    for c in range(contacts):
        applied[f"c{c}"] += 2  # the CRM profile and its account's firmographics
    return rows, applied


async def read_all(bootstrap: str, topic: str) -> list[tuple[int, int, bytes, bytes]]:
    """Every record of ``topic`` in partition order; stops after 3 s without new records."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=None,
                                auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    rows: list[tuple[int, int, bytes, bytes]] = []
    try:
        while True:
            batch = await consumer.getmany(timeout_ms=3000)
            if not batch:
                break
            for tp, msgs in batch.items():
                rows.extend((tp.partition, m.offset, m.key, m.value) for m in msgs)
    finally:
        await consumer.stop()
    return sorted(rows)


async def settle(states: Tail, expected: Counter[str], timeout: float = 90) -> None:
    """Wait until every contact's state counts all its events, then a little longer so that an
    over-count would show too."""
    def complete() -> bool:
        latest = states.latest_by_key()
        return all(latest.get(cid) and latest[cid]["events_applied"] >= n  # type: ignore[index]
                   for cid, n in expected.items())

    deadline = time.monotonic() + timeout
    while not complete() and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    await asyncio.sleep(2.0)


@pytest.mark.timeout(600)
async def test_clean_stop_and_kill_minus_9_lose_and_double_count_nothing(
    bootstrap: str, unique_prefix: str, tmp_path: Path,
) -> None:
    t = Topics(unique_prefix)
    rows, expected = traffic(seed=7, contacts=100, events=3000)
    env = worker_env(bootstrap, unique_prefix, tmp_path / "data-1")
    await ensure_topics(from_env(env))
    log = tmp_path / "worker.log"
    worker = Worker(env, log).start()
    prod = await producer(bootstrap)
    states = await Tail(bootstrap, t.qualification_contacts, "qualification.contacts").start()

    async def produce(part: list[tuple[str, str, str, dict[str, Any]]]) -> None:
        for base, key, _, record in part:
            await send(prod, t.name(base), base, key, record)

    def applied_total() -> int:
        return sum(v["events_applied"] for v in states.latest_by_key().values() if v)

    try:
        third = len(rows) // 3
        await produce(rows[:third])
        await states.wait_for(lambda k, v: True, timeout=120)
        deadline = time.monotonic() + 120
        while applied_total() < third // 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        assert worker.stop() in (0, -15), worker.log_tail()  # clean SIGTERM mid-stream
        worker = Worker(env, log).start()
        await produce(rows[third: 2 * third])
        await asyncio.sleep(1.0)
        worker.kill()  # kill -9 mid-stream, then restart on an EMPTY data dir (changelog recovery)
        env = {**env, "QUALSTREAM_DATA_DIR": str(tmp_path / "data-2")}
        worker = Worker(env, log).start()
        await produce(rows[2 * third:])

        await settle(states, expected)
    finally:
        code = worker.stop()
        await states.stop()
        await prod.stop()
    assert code in (0, -15)
    await verify_exact(bootstrap, t, rows, expected, states, env)


async def verify_exact(bootstrap: str, t: Topics, rows: list[tuple[str, str, str, dict[str, Any]]],
                       expected: Counter[str], states: Tail, env: dict[str, str]) -> None:
    """Nothing lost or double-counted; the state equals two recomputations by the core."""
    latest = states.latest_by_key()
    counts = {cid: latest[cid]["events_applied"] if latest.get(cid) else 0 for cid in expected}
    lost = {c: expected[c] - n for c, n in counts.items() if n < expected[c]}
    doubled = {c: n - expected[c] for c, n in counts.items() if n > expected[c]}
    # The pure core folding the worker's own input stream gives exactly the published state.
    model = load_model(from_env(env))
    records = [(partition, contact_input_from_record(
                    CODEC.decode("qualstream.contact-inputs", value)))
               for partition, _, _, value in await read_all(bootstrap, t.contact_inputs)]
    recomputed = recompute_partitions(records, model)
    replayed = {c: recomputed[c].events_applied for c in list(lost)[:5] if c in recomputed}
    assert not lost and not doubled, (len(lost), lost, doubled, replayed)
    assert set(recomputed) == set(expected)
    for cid, state in recomputed.items():
        assert contact_state_record(core.snapshot(state, model)) == latest[cid], cid

    # Independently, from the source events in the order they were produced (through the
    # same validation and the account join, without the topic): the order-free parts agree.
    # Decay timers may have moved a contact's evaluation time past its last event, so both
    # are scored at the live state's reference time.
    independent = recompute(source_inputs(rows, t, model), model)
    assert set(independent) == set(recomputed)
    for cid, state in independent.items():
        live_state = recomputed[cid]
        assert state.events_applied == live_state.events_applied, cid
        mine = evaluate(state, model, at_ms=live_state.ref_ms)
        theirs = evaluate(live_state, model)
        assert mine.at_ms == theirs.at_ms, cid
        for name, a, b in (("fit", mine.fit.score, theirs.fit.score),
                           ("intent", mine.intent.intent, theirs.intent.intent),
                           ("total", mine.total, theirs.total)):
            assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9), (cid, name, a, b)


def source_inputs(rows: list[tuple[str, str, str, dict[str, Any]]], t: Topics,
                  model: Any) -> list[ContactInput]:
    """The contact inputs the sources imply, with each contact's account firmographics."""
    policy = ingest_policy(model, from_env({}))
    accounts: dict[str, Any] = {}
    inputs: list[ContactInput] = []
    for i, (base, key, _, record) in enumerate(rows):
        out = normalise(base, key, record, Origin(t.name(base), 0, i), NOW + 60_000, policy)
        if isinstance(out, AccountInput):
            accounts[out.domain] = profiled(out.payload)  # type: ignore[arg-type]
        elif isinstance(out, ContactInput):
            inputs.append(out)
            payload = out.payload
            if isinstance(payload, ContactProfiled) and payload.email_domain in accounts:
                inputs.append(ContactInput(out.contact_id, accounts[payload.email_domain]))
    return inputs


@pytest.mark.timeout(600)
async def test_a_second_worker_joining_and_leaving_loses_and_double_counts_nothing(
    bootstrap: str, unique_prefix: str, tmp_path: Path,
) -> None:
    t = Topics(unique_prefix)
    rows, expected = traffic(seed=11, contacts=100, events=3000)
    env = worker_env(bootstrap, unique_prefix, tmp_path / "data-a")
    await ensure_topics(from_env(env))
    first = Worker(env, tmp_path / "worker-a.log").start()
    second = Worker({**worker_env(bootstrap, unique_prefix, tmp_path / "data-b")},
                    tmp_path / "worker-b.log")
    prod = await producer(bootstrap)
    states = await Tail(bootstrap, t.qualification_contacts, "qualification.contacts").start()
    third = len(rows) // 3
    try:
        for base, key, _, record in rows[:third]:
            await send(prod, t.name(base), base, key, record)
        await states.wait_for(lambda k, v: True, timeout=120)
        second.start()  # joins mid-stream: the partitions are rebalanced across two workers
        for base, key, _, record in rows[third: 2 * third]:
            await send(prod, t.name(base), base, key, record)
        deadline = time.monotonic() + 120
        while "Worker ready" not in second.log_tail(400) and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        assert second.stop() in (0, -15), second.log_tail()  # leaves: rebalanced back
        for base, key, _, record in rows[2 * third:]:
            await send(prod, t.name(base), base, key, record)
        await settle(states, expected)
    finally:
        code = first.stop()
        if second.alive():
            second.stop()
        await states.stop()
        await prod.stop()
    assert code in (0, -15)
    await verify_exact(bootstrap, t, rows, expected, states, env)
