"""Chaos input: seeded synthetic traffic with known per-contact counts, and poison records."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from typing import Any

from tests.integration.support import CODEC

CATEGORIES = ["pricing", "product", "docs", "blog", "integration", "case_study", "careers"]
EMAIL_TYPES = ["open", "click", "reply", "delivered"]
DAY_MS = 86_400_000

# (topic base, key, record); the harness adds the topic prefix.
Row = tuple[str, str, dict[str, Any]]


def traffic(seed: int, contacts: int, events: int, now: int) -> tuple[list[Row], Counter[str]]:
    """CRM records first, then behaviour; and how many inputs each contact's state must count."""
    rng = random.Random(seed)
    accounts = max(1, contacts // 5)
    rows: list[Row] = []
    for a in range(accounts):
        rows.append(("crm.accounts", f"A{a}", {
            "event_id": f"acc-{a}", "occurred_at": now - DAY_MS, "account_id": f"A{a}",
            "domain": f"company{a}.com", "industry": rng.choice(["software", "fintech", "retail"]),
            "employee_count": rng.choice([40, 300, 2500]), "annual_revenue": None,
            "country": "US", "region": "NA", "tech_stack": ["salesforce"],
            "owner_rep_id": None, "is_customer": False, "named_account": False}))
    for c in range(contacts):
        rows.append(("crm.contacts", f"c{c}", {
            "event_id": f"crm-{c}", "occurred_at": now - DAY_MS, "contact_id": f"c{c}",
            "email": f"p{c}@company{c % accounts}.com",
            "seniority": rng.choice(["vp", "director", "manager"]),
            "persona": rng.choice(["decision_maker", "champion", "end_user"]), "country": "US"}))
    applied: Counter[str] = Counter()
    for i in range(events):
        cid = f"c{rng.randrange(contacts)}"
        at = now - rng.randrange(30 * DAY_MS)
        if rng.random() < 0.7:
            record: dict[str, Any] = {"event_id": f"w{i}", "occurred_at": at, "type": "page_view",
                                      "contact_id": cid, "page_category": rng.choice(CATEGORIES)}
            if rng.random() < 0.03:
                record.update(type="form_submit", page_category=None, form_type="demo_request")
            rows.append(("events.web", cid, record))
        else:
            rows.append(("events.email", cid, {
                "event_id": f"m{i}", "occurred_at": at, "type": rng.choice(EMAIL_TYPES),
                "contact_id": cid, "campaign_id": "q4"}))
        applied[cid] += 1
    for c in range(contacts):
        applied[f"c{c}"] += 2  # the CRM profile and its account's firmographics
    return rows, applied


@dataclass(frozen=True, slots=True)
class Poison:
    """A record that must end in the dead-letter topic: raw bytes as sent, and what is wrong."""

    base: str
    key: str
    value: bytes
    kind: str


POISON_KINDS = ("random_bytes", "wrong_schema", "truncated", "missing_fields", "far_future",
                "oversized", "invalid_email")


def poison(rng: random.Random, i: int, key: str, now: int) -> Poison:
    """The ``i``-th poison record (the kinds in turn), keyed like a real contact's events."""
    kind = POISON_KINDS[i % len(POISON_KINDS)]
    good = {"event_id": f"poison-{i}", "occurred_at": now - 60_000, "type": "page_view",
            "contact_id": key, "page_category": "pricing"}
    if kind == "random_bytes":
        return Poison("events.web", key, rng.randbytes(rng.randrange(1, 200)), kind)
    if kind == "wrong_schema":
        # a well-formed record of another topic's schema (a CRM account on a web topic)
        account = {"event_id": f"poison-{i}", "occurred_at": now, "account_id": "P",
                   "domain": "poison.example", "tech_stack": []}
        return Poison("events.web", key, CODEC.encode("crm.accounts", account), kind)
    if kind == "truncated":
        whole = CODEC.encode("events.web", good)
        return Poison("events.web", key, whole[: rng.randrange(0, len(whole))], kind)
    if kind == "missing_fields":
        missing = rng.choice([{"event_id": ""}, {"contact_id": None},
                              {"page_category": None}])
        return Poison("events.web", key, CODEC.encode("events.web", {**good, **missing}), kind)
    if kind == "far_future":
        future = {**good, "occurred_at": now + 365 * DAY_MS}
        return Poison("events.web", key, CODEC.encode("events.web", future), kind)
    if kind == "oversized":
        huge = {**good, "event_id": "x" * 10_000}
        return Poison("events.web", key, CODEC.encode("events.web", huge), kind)
    email = {"event_id": f"poison-{i}", "occurred_at": now - 60_000, "type": "open",
             "contact_id": None, "email": rng.choice(["no-at-sign", "two@@at.example", "@x.y"])}
    return Poison("events.email", key, CODEC.encode("events.email", email), kind)


def interleave(rows: list[Row], poison_count: int, seed: int,
               now: int) -> list[Row | Poison]:
    """``rows`` with ``poison_count`` poison records spread evenly among the behaviour events
    (after the CRM records, so that a poison never stands in for a contact's profile)."""
    rng = random.Random(seed)
    start = next(i for i, row in enumerate(rows) if not row[0].startswith("crm."))
    head, behaviour = rows[:start], rows[start:]
    every = max(1, len(behaviour) // max(1, poison_count))
    out: list[Row | Poison] = list(head)
    made = 0
    for n, row in enumerate(behaviour):
        out.append(row)
        if made < poison_count and (n + 1) % every == 0:
            out.append(poison(rng, made, row[1], now))
            made += 1
    while made < poison_count:
        out.append(poison(rng, made, behaviour[-1][1], now))
        made += 1
    return out
