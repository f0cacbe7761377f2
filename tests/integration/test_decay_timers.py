"""Durable decay timers: the down-crossing fires at the computed moment, once, across kill -9."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from streams.config import Topics, from_env
from streams.core.contact import next_down_crossing
from streams.core.events import ContactInput, Origin
from streams.core.model import parse_model
from streams.core.replay import recompute
from streams.ingest.normalise import normalise
from streams.shell.app import ingest_policy
from streams.shell.worker import ensure_topics
from tests.integration.support import Tail, Worker, producer, send, worker_env
from tests.integration.test_contact_pipeline import account, contact, demo_request, page_view
from tests.support.models import fast_decay_model_text

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]
HALF_LIFE_S = 3.0


def trace(contact_id: str, now: int) -> list[tuple[str, str, dict[str, Any]]]:
    domain = f"{contact_id}.example-corp.com"
    return [
        ("crm.accounts", f"A-{contact_id}", account(f"A-{contact_id}", domain)),
        ("crm.contacts", contact_id, contact(contact_id, f"vera@{domain}")),
        ("events.web", contact_id, page_view(f"pv-{contact_id}", contact_id, "pricing", now)),
        ("events.web", contact_id, demo_request(f"demo-{contact_id}", contact_id, now + 10)),
    ]


def expected_crossing(rows: list[tuple[str, str, dict[str, Any]]], model_text: str) -> int:
    """When the pure core says the decaying total falls below the exit threshold."""
    model = parse_model(model_text)
    policy = ingest_policy(model, from_env({}))
    inputs: list[ContactInput] = []
    firmographics = None
    for i, (base, key, record) in enumerate(rows):
        out = normalise(base, key, record, Origin(base, 0, i), record["occurred_at"] + 1, policy)
        if isinstance(out, ContactInput):
            inputs.append(out)
        else:
            from streams.core.account import profiled

            firmographics = profiled(out.payload)  # type: ignore[arg-type]
    assert firmographics is not None
    contact_id = inputs[0].contact_id
    inputs.insert(1, ContactInput(contact_id, firmographics))
    state = recompute(inputs, model)[contact_id]
    assert state.stage == "sales_ready"
    deadline = next_down_crossing(state, model)
    assert deadline is not None
    return deadline


async def start(bootstrap: str, prefix: str, tmp_path: Path,
                half_life_s: float = HALF_LIFE_S) -> tuple[dict[str, str], str]:
    model_file = tmp_path / "fast-decay.toml"
    model_text = fast_decay_model_text(half_life_s)
    model_file.write_text(model_text)
    env = worker_env(bootstrap, prefix, tmp_path / "data-1", QUALSTREAM_MODEL=str(model_file),
                     QUALSTREAM_TICK_INTERVAL_S="0.2")
    await ensure_topics(from_env(env))
    return env, model_text


def decay_events(tail: Tail, contact_id: str) -> list[dict[str, Any]]:
    return [v for k, v, _ in tail.records
            if k == contact_id and v is not None and v["trigger"] == "decay"]


async def test_down_crossing_fires_within_two_seconds_of_the_computed_moment(
    bootstrap: str, unique_prefix: str, tmp_path: Path,
) -> None:
    env, model_text = await start(bootstrap, unique_prefix, tmp_path)
    t = Topics(unique_prefix)
    worker = Worker(env, tmp_path / "worker.log").start()
    prod = await producer(bootstrap)
    events = await Tail(bootstrap, t.qualification_events, "qualification.events").start()
    try:
        # a first contact warms the worker up (group joined, partitions assigned)
        for base, key, record in trace("c-warm", int(time.time() * 1000)):
            await send(prod, t.name(base), base, key, record)
        await events.wait_for(lambda k, v: k == "c-warm" and v is not None
                              and v["to_stage"] == "sales_ready", timeout=90)
        rows = trace("c-decay", int(time.time() * 1000))
        for base, key, record in rows:
            await send(prod, t.name(base), base, key, record)
        deadline = expected_crossing(rows, model_text)
        _, change, received = await events.wait_for(
            lambda k, v: k == "c-decay" and v is not None and v["trigger"] == "decay",
            timeout=60)
        arrived_ms = time.time() * 1000 - (time.monotonic() - received) * 1000
        assert change is not None
        assert (change["from_stage"], change["to_stage"]) == ("sales_ready", "nurture")
        assert change["occurred_at"] == deadline
        lateness = (arrived_ms - deadline) / 1000
        print(f"decay transition {lateness:.3f}s after the computed crossing")
        assert -0.05 <= lateness <= 2.0, lateness
    finally:
        await events.stop()
        await prod.stop()
        worker.stop()


async def test_kill_minus_9_before_the_deadline_fires_it_exactly_once_after_restart(
    bootstrap: str, unique_prefix: str, tmp_path: Path,
) -> None:
    # a longer half-life: the kill must land between scheduling and firing even on a slow box
    env, model_text = await start(bootstrap, unique_prefix, tmp_path, half_life_s=6.0)
    t = Topics(unique_prefix)
    log = tmp_path / "worker.log"
    worker = Worker(env, log).start()
    prod = await producer(bootstrap)
    events = await Tail(bootstrap, t.qualification_events, "qualification.events").start()
    try:
        for base, key, record in trace("c-warm2", int(time.time() * 1000)):
            await send(prod, t.name(base), base, key, record)
        await events.wait_for(lambda k, v: k == "c-warm2" and v is not None
                              and v["to_stage"] == "sales_ready", timeout=90)
        rows = trace("c-kill", int(time.time() * 1000))
        for base, key, record in rows:
            await send(prod, t.name(base), base, key, record)
        deadline = expected_crossing(rows, model_text)
        await events.wait_for(lambda k, v: k == "c-kill" and v is not None
                              and v["to_stage"] == "sales_ready", timeout=90)
        assert time.time() * 1000 < deadline, "the timer fired before the kill could happen"
        worker.kill()  # scheduled, not yet fired
        assert decay_events(events, "c-kill") == []
        # restart on an empty data dir: the deadline comes back from the changelog
        worker = Worker({**env, "QUALSTREAM_DATA_DIR": str(tmp_path / "data-2")}, log).start()
        await events.wait_for(lambda k, v: k == "c-kill" and v is not None
                              and v["trigger"] == "decay", timeout=90)
        # proving an absence needs an observation window: a second firing would come on the
        # next ticks (every 0.2 s), so 3 s is ample
        await asyncio.sleep(3)
        fired = decay_events(events, "c-kill")
        assert len(fired) == 1, fired
        assert fired[0]["occurred_at"] == deadline
    finally:
        await events.stop()
        await prod.stop()
        worker.stop()
