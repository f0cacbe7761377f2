"""End to end on a real broker: a scripted trace through ingest and the contact agent."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from streams.config import Topics, from_env
from streams.shell.worker import ensure_topics
from tests.integration.support import Tail, Worker, producer, send, worker_env

pytestmark = pytest.mark.integration

NOW = int(time.time() * 1000)


def account(account_id: str, domain: str, **extra: Any) -> dict[str, Any]:
    record = {"event_id": f"acc-{account_id}", "occurred_at": NOW - 60_000,
              "account_id": account_id, "domain": domain, "name": domain, "industry": "software",
              "employee_count": 500, "annual_revenue": 90_000_000, "country": "US",
              "region": "NA", "tech_stack": ["salesforce"], "owner_rep_id": "rep-1",
              "is_customer": False, "named_account": False}
    record.update(extra)
    return record


def contact(contact_id: str, email: str) -> dict[str, Any]:
    return {"event_id": f"crm-{contact_id}", "occurred_at": NOW - 60_000,
            "contact_id": contact_id, "email": email, "first_name": "Vera", "last_name": "P",
            "title": "VP Engineering", "seniority": "vp", "department": "engineering",
            "persona": "decision_maker", "country": "US", "account_id": None}


def page_view(event_id: str, contact_id: str, category: str, at: int) -> dict[str, Any]:
    return {"event_id": event_id, "occurred_at": at, "type": "page_view",
            "contact_id": contact_id, "page_category": category, "url": f"/{category}",
            "utm_source": "google"}


def demo_request(event_id: str, contact_id: str, at: int) -> dict[str, Any]:
    return {"event_id": event_id, "occurred_at": at, "type": "form_submit",
            "contact_id": contact_id, "form_type": "demo_request", "url": "/demo"}


@pytest.fixture
async def stack(bootstrap: str, unique_prefix: str, tmp_path: Path) -> AsyncIterator[dict[str, Any]]:
    topics = Topics(unique_prefix)
    env = worker_env(bootstrap, unique_prefix, tmp_path / "data")
    await ensure_topics(from_env(env))  # before any reader subscribes
    worker = Worker(env, tmp_path / "worker.log").start()
    prod = await producer(bootstrap)
    tails = {
        "events": await Tail(bootstrap, topics.qualification_events,
                             "qualification.events").start(),
        "contacts": await Tail(bootstrap, topics.qualification_contacts,
                               "qualification.contacts").start(),
        "dlq": await Tail(bootstrap, topics.dlq, "qualification.dlq").start(),
    }
    try:
        yield {"topics": topics, "worker": worker, "producer": prod, **tails}
    finally:
        for tail in tails.values():
            await tail.stop()
        await prod.stop()
        code = worker.stop()
        print(worker.log_tail())  # shown by pytest only when the test fails
        assert code == 0 or code == -15, f"worker exited with {code}"


async def test_vp_pricing_then_demo_is_sales_ready_within_two_seconds(
    stack: dict[str, Any],
) -> None:
    t: Topics = stack["topics"]
    p = stack["producer"]
    await send(p, t.crm_accounts, "crm.accounts", "A1", account("A1", "acme-corp.com"))
    await send(p, t.crm_accounts, "crm.accounts", "R1", account("R1", "rivalcorp.com"))
    await send(p, t.crm_contacts, "crm.contacts", "c-vp", contact("c-vp", "vera@acme-corp.com"))
    await send(p, t.crm_contacts, "crm.contacts", "c-rival", contact("c-rival", "vic@rivalcorp.com"))
    # Warm-up: the worker has joined and both contacts know their account's firmographics.
    await stack["contacts"].wait_for(
        lambda k, v: k == "c-vp" and v is not None and v["segment"] == "mid_market", timeout=90)
    await stack["contacts"].wait_for(
        lambda k, v: k == "c-rival" and v is not None and v["exclusion"] == "competitor",
        timeout=30)

    for cid in ("c-vp", "c-rival"):
        await send(p, t.web, "events.web", cid, page_view(f"pv-{cid}", cid, "pricing", NOW - 5000))
    await stack["contacts"].wait_for(
        lambda k, v: k == "c-vp" and v is not None and v["stage"] == "nurture")
    sent_at = time.monotonic()
    for cid in ("c-vp", "c-rival"):
        await send(p, t.web, "events.web", cid, demo_request(f"demo-{cid}", cid, NOW - 1000))

    key, value, received = await stack["events"].wait_for(
        lambda k, v: k == "c-vp" and v is not None and v["to_stage"] == "sales_ready")
    print(f"demo request to sales_ready on the output topic: {received - sent_at:.3f}s")
    assert received - sent_at < 2.0, f"sales_ready after {received - sent_at:.3f}s"
    assert value is not None
    signals = {r["signal"] for r in value["reasons"]}
    assert {"form.demo_request", "web.pricing"} <= signals
    assert value["caused_by"] == "demo-c-vp"
    assert value["model_version"]
    assert value["first_touch"]["event_id"] == "pv-c-vp"
    assert value["last_touch"]["event_id"] == "demo-c-vp"

    # The competitor did the same and is processed, but never becomes sales-ready.
    await stack["contacts"].wait_for(
        lambda k, v: k == "c-rival" and v is not None and v["last_event_id"] == "demo-c-rival")
    rival = [v for k, v, _ in stack["events"].records if k == "c-rival"]
    assert all(v is not None and v["to_stage"] != "sales_ready" for v in rival)


async def test_bad_records_go_to_the_dlq_and_the_next_event_is_processed(
    stack: dict[str, Any],
) -> None:
    t: Topics = stack["topics"]
    p = stack["producer"]
    await p.send_and_wait(t.web, key=b"junk", value=b"\x00\xffnot avro at all")
    no_id = page_view("", "c-3", "docs", NOW - 2000)
    await send(p, t.web, "events.web", "c-3", no_id)
    await send(p, t.web, "events.web", "c-3", page_view("ok-1", "c-3", "docs", NOW - 1000))

    _, garbage, _ = await stack["dlq"].wait_for(
        lambda k, v: k == "junk" and v is not None, timeout=90)
    assert garbage is not None
    assert garbage["stage"] == "decode" and garbage["origin_topic"] == t.web
    assert garbage["original_value"] == b"\x00\xffnot avro at all"
    _, missing, _ = await stack["dlq"].wait_for(
        lambda k, v: k == "c-3" and v is not None and v["stage"] == "validate")
    assert missing is not None and "missing_event_id" in missing["error_message"]
    _, state, _ = await stack["contacts"].wait_for(lambda k, v: k == "c-3" and v is not None)
    assert state is not None and state["last_event_id"] == "ok-1"
    assert stack["worker"].alive()
