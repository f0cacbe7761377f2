"""Account level on a real broker: one account_qualified per buying committee, and erasure."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from streams.config import Topics, from_env
from streams.shell.contact_rows import ERASED, HEADER, read_header
from streams.shell.worker import ensure_topics
from tests.integration.support import Tail, Worker, producer, send, worker_env
from tests.integration.test_contact_pipeline import account, demo_request, page_view

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]
NOW = int(time.time() * 1000)

PEOPLE = {  # contact id -> (persona, seniority)
    "c-dm": ("decision_maker", "vp"),
    "c-champ": ("champion", "director"),
    "c-tech": ("technical_evaluator", "manager"),
}


def person(contact_id: str, domain: str, persona: str, seniority: str) -> dict[str, Any]:
    return {"event_id": f"crm-{contact_id}", "occurred_at": NOW - 60_000,
            "contact_id": contact_id, "email": f"{contact_id}@{domain}", "title": seniority,
            "seniority": seniority, "department": "engineering", "persona": persona,
            "country": "US"}


@pytest.fixture
async def stack(bootstrap: str, unique_prefix: str,
                tmp_path: Path) -> AsyncIterator[dict[str, Any]]:
    env = worker_env(bootstrap, unique_prefix, tmp_path / "data")
    await ensure_topics(from_env(env))
    topics = Topics(unique_prefix)
    worker = Worker(env, tmp_path / "worker.log").start()
    prod = await producer(bootstrap)
    tails = {
        "events": await Tail(bootstrap, topics.qualification_events,
                             "qualification.events").start(),
        "contacts": await Tail(bootstrap, topics.qualification_contacts,
                               "qualification.contacts").start(),
        "accounts": await Tail(bootstrap, topics.qualification_accounts,
                               "qualification.accounts").start(),
        "assignments": await Tail(bootstrap, topics.assignments, "routing.assignments").start(),
    }
    try:
        yield {"topics": topics, "worker": worker, "producer": prod, "bootstrap": bootstrap,
               "prefix": unique_prefix, **tails}
    finally:
        for tail in tails.values():
            await tail.stop()
        await prod.stop()
        worker.stop()
        print(worker.log_tail())


async def engage(stack: dict[str, Any], domain: str, contacts: dict[str, tuple[str, str]],
                 demo: bool = True) -> None:
    t: Topics = stack["topics"]
    p = stack["producer"]
    for cid, (persona, seniority) in contacts.items():
        await send(p, t.crm_contacts, "crm.contacts", cid, person(cid, domain, persona, seniority))
    for cid in contacts:
        for i, category in enumerate(("pricing", "product", "integration", "security")):
            await send(p, t.web, "events.web", cid,
                       page_view(f"{cid}-pv{i}", cid, category, NOW - 5000 + i))
        if demo:
            await send(p, t.web, "events.web", cid, demo_request(f"{cid}-demo", cid, NOW - 100))


def account_events(stack: dict[str, Any], domain: str) -> list[dict[str, Any]]:
    return [v for _, v, _ in stack["events"].records
            if v is not None and v["entity_type"] == "account"
            and (v["entity_id"] == domain or v["account_id"] == "A-acct")]


async def test_three_engaged_contacts_with_a_decision_maker_qualify_the_account_once(
    stack: dict[str, Any],
) -> None:
    t: Topics = stack["topics"]
    await send(stack["producer"], t.crm_accounts, "crm.accounts", "A-acct",
               account("A-acct", "acct-corp.com"))
    await engage(stack, "acct-corp.com", PEOPLE)
    _, qualified, _ = await stack["events"].wait_for(
        lambda k, v: v is not None and v["entity_type"] == "account"
        and v["to_stage"] == "qualified", timeout=90)
    assert qualified is not None
    assert qualified["committee_size"] == 3
    assert qualified["account_id"] == "A-acct"
    # every contact's last input is in the account's state before we count
    await stack["accounts"].wait_for(
        lambda k, v: v is not None and v["committee_size"] == 3 and v["stage"] == "qualified")
    await stack["contacts"].wait_for(
        lambda k, v: k == "c-tech" and v is not None and v["last_event_id"] == "c-tech-demo")
    more = [v for v in account_events(stack, "acct-corp.com") if v["to_stage"] == "qualified"]
    assert len({v["event_id"] for v in more}) == 1, more
    # the qualified account is routed (to its owner when available; nobody is on the roster
    # here, so the assignment says so) on behalf of its decision maker
    _, routed, _ = await stack["assignments"].wait_for(
        lambda k, v: v is not None and v["trigger"] == "account_qualified")
    assert routed is not None
    assert (routed["account_id"], routed["contact_id"]) == ("A-acct", "c-dm")
    assert (routed["rule"], routed["rep_id"]) == ("unassigned", None)


async def test_no_committee_without_a_decision_maker(stack: dict[str, Any]) -> None:
    t: Topics = stack["topics"]
    await send(stack["producer"], t.crm_accounts, "crm.accounts", "A-nodm",
               account("A-nodm", "nodm-corp.com"))
    others = {"n-champ": ("champion", "director"), "n-tech": ("technical_evaluator", "manager"),
              "n-user": ("end_user", "individual_contributor")}
    await engage(stack, "nodm-corp.com", others)
    await stack["accounts"].wait_for(
        lambda k, v: v is not None and v["domain"] == "nodm-corp.com"
        and v["committee_size"] == 3, timeout=90)
    assert not any(v is not None and v["entity_type"] == "account"
                   and v["to_stage"] == "qualified" for _, v, _ in stack["events"].records)


async def test_erasure_removes_the_contact_from_state_rollup_and_outputs(
    stack: dict[str, Any],
) -> None:
    t: Topics = stack["topics"]
    p = stack["producer"]
    await send(p, t.crm_accounts, "crm.accounts", "A-gdpr", account("A-gdpr", "gdpr-corp.com"))
    await engage(stack, "gdpr-corp.com", {"g-keep": ("champion", "director"),
                                          "g-erase": ("decision_maker", "vp")})
    await stack["accounts"].wait_for(
        lambda k, v: v is not None and v["domain"] == "gdpr-corp.com"
        and v["committee_size"] == 2, timeout=90)

    await p.send_and_wait(t.crm_contacts, key=b"g-erase", value=None)  # the tombstone
    await stack["contacts"].wait_for(lambda k, v: k == "g-erase" and v is None)
    await stack["accounts"].wait_for(
        lambda k, v: v is not None and v["domain"] == "gdpr-corp.com"
        and v["committee_size"] == 1 and "decision_maker" not in v["committee_personas"])
    erased_at = len(stack["events"].records), len(stack["contacts"].records)

    # a late event for the erased contact, then a barrier event of another contact
    await send(p, t.web, "events.web", "g-erase", page_view("g-late", "g-erase", "pricing", NOW))
    await send(p, t.web, "events.web", "g-keep", page_view("g-barrier", "g-keep", "docs", NOW))
    await stack["contacts"].wait_for(
        lambda k, v: k == "g-keep" and v is not None and v["last_event_id"] == "g-barrier")
    later = stack["events"].records[erased_at[0]:] + stack["contacts"].records[erased_at[1]:]
    assert not [r for r in later if "g-erase" in json.dumps(r[1], default=str)
                or r[0] == "g-erase"]

    # the table holds only a marker without personal data for the erased key
    changelog = await Tail(stack["bootstrap"], f"{stack['prefix']}qualstream-contacts-changelog",
                           "qualstream.contact-inputs").start()
    try:
        def erased_marker() -> bool:
            values = [v for k, v in changelog.raw if k == b'"g-erase"']
            return bool(values) and values[-1] is not None and values[-1][1] == ERASED

        await changelog.wait_for(lambda k, v: erased_marker())
        marker = [v for k, v in changelog.raw if k == b'"g-erase"'][-1]
        assert marker is not None and read_header(marker).kind == ERASED
        assert len(marker) == HEADER.size  # a header only: offset and partition, no body
    finally:
        await changelog.stop()
