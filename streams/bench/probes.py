"""Probe records of the latency bench: fit accounts and contacts, demo requests, reps, and a
scoring model whose timers fire within seconds."""

from __future__ import annotations

import re
from typing import Any

from streams.config import DEFAULT_MODEL_PATH

POOL = "NA:mid_market"
DAY_S = 86_400


def timers_model_text(half_life_s: float, first_touch_s: float) -> str:
    """The default model with seconds-long half-lives (no instant hold) and first-touch SLA,
    so decay and SLA timers fire while the bench watches."""
    text = DEFAULT_MODEL_PATH.read_text(encoding="utf-8")
    text = re.sub(r"half_life_days = [0-9.]+", f"half_life_days = {half_life_s / DAY_S!r}", text)
    text = re.sub(r"instant_hold_days = [0-9.]+", "instant_hold_days = 0.0", text)
    text, n = re.subn(r"minutes = \{ p1 = 5, p2 = 60, p3 = 240 \}",
                      f"seconds = {first_touch_s!r}", text)
    if n != 1:
        raise ValueError("the default [sla.first_touch] section changed")
    return text.replace('version = "', 'version = "bench-timers-', 1)


def rep(rep_id: str, at: int) -> dict[str, Any]:
    """A 24x7 rep of the probes' pool with room for every probe."""
    return {"event_id": f"rep-{rep_id}-{at}", "occurred_at": at, "rep_id": rep_id,
            "name": rep_id, "active": True, "pools": [POOL], "territories": [POOL],
            "weight": 1, "max_open": 100_000, "work_start_minute": 0, "work_end_minute": 1440,
            "work_days": [1, 2, 3, 4, 5, 6, 7], "timezone": "UTC", "manager_rep_id": None}


def account(account_id: str, domain: str, at: int) -> dict[str, Any]:
    """A mid-market software company in North America: a grade A fit."""
    return {"event_id": f"acc-{account_id}", "occurred_at": at, "account_id": account_id,
            "domain": domain, "name": domain, "industry": "software", "employee_count": 500,
            "annual_revenue": 90_000_000, "country": "US", "region": "NA",
            "tech_stack": ["salesforce"], "owner_rep_id": None, "is_customer": False,
            "named_account": False}


def contact(contact_id: str, domain: str, at: int) -> dict[str, Any]:
    return {"event_id": f"crm-{contact_id}", "occurred_at": at, "contact_id": contact_id,
            "email": f"probe.{contact_id}@{domain}", "first_name": "Probe", "last_name": "P",
            "title": "VP Engineering", "seniority": "vp", "department": "engineering",
            "persona": "decision_maker", "country": "US", "account_id": None}


def demo_request(event_id: str, contact_id: str, at: int) -> dict[str, Any]:
    return {"event_id": event_id, "occurred_at": at, "type": "form_submit",
            "contact_id": contact_id, "form_type": "demo_request", "url": "/demo"}
