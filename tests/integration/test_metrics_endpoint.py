"""A real worker with traffic: /metrics serves every documented series and they move.

Traffic: a rep roster, an account and a contact, a demo request that routes (its 2 s
first-touch SLA then breaches and the lead is reassigned: a due timer), an undecodable record
(dead-lettered), with the Redis projection on.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from streams.config import Topics, from_env
from streams.core.sla_rules import KINDS
from streams.shell.worker import ensure_topics
from tests.integration.support import Tail, Worker, producer, send, worker_env
from tests.integration.test_contact_pipeline import demo_request
from tests.integration.test_routing_and_sla import seed
from tests.support.models import sla_model_text
from tests.unit.test_metrics_catalog import documented_series

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(worker: Worker) -> tuple[set[str], Samples]:
    """The metric families the worker declares and every sample, keyed by name and labels."""
    async with aiohttp.ClientSession() as session, session.get(
            f"{worker.web}/metrics", timeout=aiohttp.ClientTimeout(total=10)) as response:
        assert response.status == 200
        text = await response.text()
    families: set[str] = set()
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        families.add(family.name)
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return families, samples


def total(samples: Samples, name: str, **labels: str) -> float:
    """Sum of the samples of ``name`` whose labels include ``labels``."""
    return sum(v for (n, ls), v in samples.items()
               if n == name and set(labels.items()) <= set(ls))


def present(samples: Samples, name: str, **labels: str) -> bool:
    return any(n == name and set(labels.items()) <= set(ls) for n, ls in samples)


async def scrape_until(worker: Worker, condition: Any, timeout: float = 60) -> Samples:
    deadline = time.monotonic() + timeout
    samples: Samples = {}
    while time.monotonic() < deadline:
        try:
            _, samples = await scrape(worker)
        except (aiohttp.ClientError, TimeoutError):
            samples = {}
        if samples and condition(samples):
            return samples
        await asyncio.sleep(0.25)
    raise AssertionError(f"/metrics never met the condition within {timeout}s:\n{worker.log_tail()}")


@pytest.fixture
async def stack(bootstrap: str, unique_prefix: str, tmp_path: Path,
                redis_server: Any) -> AsyncIterator[dict[str, Any]]:
    topics = Topics(unique_prefix)
    model = tmp_path / "sla.toml"
    model.write_text(sla_model_text(2.0, "reassign"))
    env = worker_env(bootstrap, unique_prefix, tmp_path / "data", QUALSTREAM_MODEL=str(model),
                     QUALSTREAM_TICK_INTERVAL_S="0.2", REDIS_URL=redis_server.url)
    await ensure_topics(from_env(env))
    worker = Worker(env, tmp_path / "worker.log").start()
    prod = await producer(bootstrap)
    tails = {
        "assignments": await Tail(bootstrap, topics.assignments, "routing.assignments").start(),
        "sla": await Tail(bootstrap, topics.sla_events, "sla.events").start(),
        "contacts": await Tail(bootstrap, topics.qualification_contacts,
                               "qualification.contacts").start(),
    }
    try:
        yield {"topics": topics, "producer": prod, "worker": worker, "model": model, **tails}
    finally:
        for tail in tails.values():
            await tail.stop()
        await prod.stop()
        worker.stop()
        print(worker.log_tail(80))


async def test_documented_series_are_served_and_move_with_traffic(
    stack: dict[str, Any],
) -> None:
    worker: Worker = stack["worker"]
    t: Topics = stack["topics"]
    before = await scrape_until(worker, lambda s: total(s, "qualstream_ready") == 1, timeout=90)

    await seed(stack, ["m-lead"])
    await send(stack["producer"], t.web, "events.web", "m-lead",
               demo_request("m-demo", "m-lead", int(time.time() * 1000)))
    await stack["producer"].send_and_wait(t.web, key=b"junk", value=b"\x00\xffnot avro")
    _, first, _ = await stack["assignments"].wait_for(lambda k, v: k == "m-lead", timeout=90)
    assert first is not None
    # while the first-touch clock runs, the open-timer gauge counts it
    await scrape_until(worker, lambda s: total(s, "qualstream_sla_open_timers",
                                               kind="first_touch") >= 1, timeout=30)
    await stack["sla"].wait_for(lambda k, v: k == "m-lead" and v is not None
                                and v["status"] == "breached", timeout=30)
    await stack["assignments"].wait_for(
        lambda k, v: k == "m-lead" and v is not None
        and v["assignment_id"] != first["assignment_id"], timeout=30)
    after = await scrape_until(
        worker, lambda s: total(s, "qualstream_projection_writes_total") > 0
        and total(s, "qualstream_consumer_lag_messages", topic="events.web") == 0, timeout=60)
    families, _ = await scrape(worker)

    missing = documented_series() - families
    assert not missing, f"documented but not served: {sorted(missing)}"

    moved = {  # counter or histogram count: (labels) that this traffic must have increased
        "qualstream_events_in_total": {"source": "events.web"},
        "qualstream_events_rejected_total": {"stage": "decode"},
        "qualstream_dlq_records_total": {"stage": "decode"},
        "qualstream_processed_total": {"agent": "router"},
        "qualstream_processing_seconds_count": {"agent": "contact"},
        "qualstream_transitions_total": {"to_stage": "sales_ready"},
        "qualstream_event_to_output_seconds_count": {},
        "qualstream_assignments_total": {"rule": "territory_round_robin"},
        "qualstream_routing_latency_seconds_count": {},
        "qualstream_sla_events_total": {"kind": "first_touch", "status": "breached"},
        "qualstream_timers_fired_total": {"kind": "sla"},
        "qualstream_timer_lateness_seconds_count": {"kind": "sla"},
        "qualstream_projection_writes_total": {"result": "applied"},
    }
    for name, labels in moved.items():
        assert total(after, name, **labels) > total(before, name, **labels), (
            name, labels, total(before, name, **labels), total(after, name, **labels))
    assert total(after, "qualstream_table_keys", table="contacts") >= 1
    assert total(after, "qualstream_processing_seconds_bucket", agent="ingest", le="+Inf") >= 2
    for kind in KINDS:
        assert present(after, "qualstream_sla_open_timers", kind=kind)
    for base in ("events.web", "crm.contacts", "qualstream.contact-inputs", "qualstream.routing"):
        assert present(after, "qualstream_consumer_lag_messages", topic=base), base
    # two partitions per topic (worker_env), all on this one worker
    assert total(after, "qualstream_assigned_partitions", topic="qualstream.contact-inputs") == 2
    model_version = next(line.split('"')[1] for line in stack["model"].read_text().splitlines()
                         if line.startswith("version"))
    assert total(after, "qualstream_build_info", model_version=model_version) == 1
    assert 0 <= total(after, "qualstream_projection_lag_seconds") < 300
