"""A golden replay trace whose differences between two models are known by construction.

Model A is the default model. Model B lowers the mid-market band (enter 50 / exit 40,
default 60 / 45) and raises the SMB band (enter 80 / exit 60, default 65 / 50). Fit and intent
(default weights 0.4 / 0.6) put, on non-requalification signals a few minutes apart:

- X, mid-market (fit 92): total 36.8 + 0.6 * 26 = 52.4 after its third event: sales-ready
  under B only, in week 3, 20 minutes after its first touch; routed to rep-na (territory).
- Y, SMB (fit 85): total 34 + 0.6 * 57 = 68.2 after its sixth event: sales-ready under A
  only, in week 2, 25 minutes after its first touch; routed to rep-emea (territory).
- Z, enterprise: a demo request: sales-ready under both at once (instant), in week 1, one
  hour after its first touch; routed to its account owner rep-owner; then accepted.
- W: one e-mail open: nurture under both. A bot page view is dropped under both.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from streams.config import DEFAULT_MODEL_PATH
from streams.core.model import ScoringModel, parse_model

T0 = 1_780_272_000_000  # 2026-06-01T00:00:00Z, a Monday
MINUTE, HOUR, DAY = 60_000, 3_600_000, 86_400_000
WEEK1, WEEK2, WEEK3 = "2026-06-01", "2026-06-08", "2026-06-15"
X, Y, Z, W = "c-x", "c-y", "c-z", "c-w"


def model_texts() -> tuple[str, str]:
    """The TOML of models A (default) and B (mid-market easier, SMB harder)."""
    a = Path(DEFAULT_MODEL_PATH).read_text(encoding="utf-8")
    b = a
    for old, new in (('version = "2026.11.0"', 'version = "golden-b"'),
                     ("enter = 65\nexit = 50", "enter = 80\nexit = 60"),
                     ("enter = 60\nexit = 45", "enter = 50\nexit = 40")):
        assert old in b, old
        b = b.replace(old, new, 1)
    return a, b


def models() -> tuple[ScoringModel, ScoringModel]:
    a, b = model_texts()
    return parse_model(a), parse_model(b)


def _record(topic: str, key: str | None, value: dict[str, Any] | None, at: int,
            offset: int) -> dict[str, Any]:
    return {"topic": topic, "partition": 0, "offset": offset, "timestamp": at, "key": key,
            "value": value}


def _rep(rep_id: str, territories: list[str]) -> dict[str, Any]:
    return {"event_id": f"rep-{rep_id}", "occurred_at": T0, "rep_id": rep_id, "active": True,
            "pools": [], "territories": territories, "weight": 1, "max_open": 10,
            "work_start_minute": 0, "work_end_minute": 1440, "work_days": [1, 2, 3, 4, 5, 6, 7],
            "timezone": "UTC"}


def _account(account_id: str, domain: str, employees: int, country: str,
             stack: list[str], owner: str | None = None) -> dict[str, Any]:
    return {"event_id": f"acc-{account_id}", "occurred_at": T0, "account_id": account_id,
            "domain": domain, "industry": "software", "employee_count": employees,
            "country": country, "tech_stack": stack, "owner_rep_id": owner,
            "is_customer": False, "named_account": False}


def _contact(contact_id: str, domain: str, account_id: str, persona: str, seniority: str,
             country: str) -> dict[str, Any]:
    return {"event_id": f"crm-{contact_id}", "occurred_at": T0, "contact_id": contact_id,
            "email": f"{contact_id}@{domain}", "persona": persona, "seniority": seniority,
            "country": country, "account_id": account_id}


def golden_trace() -> list[dict[str, Any]]:
    """History records (decoded values) in event-time order."""
    out: list[tuple[str, str | None, dict[str, Any] | None, int]] = []

    def event(topic: str, key: str, at: int, **fields: Any) -> None:
        out.append((topic, key, {"event_id": f"{key}-{len(out)}", "occurred_at": at,
                                 "contact_id": key, **fields}, at))

    for rep_id, territories in (("rep-na", ["NA:smb", "NA:mid_market", "NA:enterprise"]),
                                ("rep-emea", ["EMEA:smb", "EMEA:mid_market"]),
                                ("rep-owner", [])):
        out.append(("sales.reps", rep_id, _rep(rep_id, territories), T0))
    for account in (_account("a-mid", "midco.com", 500, "US", ["salesforce", "hubspot"]),
                    _account("a-smb", "smallco.co.uk", 100, "GB", ["salesforce"]),
                    _account("a-ent", "bigco.com", 2000, "US", ["salesforce"], "rep-owner")):
        out.append(("crm.accounts", account["account_id"], account, T0))
    for contact in (_contact(X, "midco.com", "a-mid", "champion", "director", "US"),
                    _contact(Y, "smallco.co.uk", "a-smb", "decision_maker", "vp", "GB"),
                    _contact(Z, "bigco.com", "a-ent", "champion", "director", "US"),
                    _contact(W, "midco.com", "a-mid", "end_user", "manager", "US")):
        out.append(("crm.contacts", contact["contact_id"], contact, T0))

    z0 = T0 + 9 * HOUR  # week 1
    event("events.web", Z, z0, type="page_view", page_category="docs")
    event("events.web", Z, z0 + HOUR, type="form_submit", form_type="demo_request")
    event("events.email", W, z0 + 2 * HOUR, type="open")
    event("events.web", "anon", z0 + 3 * HOUR, type="page_view", page_category="pricing",
          anonymous_id="visitor-1", user_agent="Googlebot/2.1 (+http://www.google.com/bot.html)")
    event("sales.activity", Z, z0 + 5 * HOUR, type="accepted", rep_id="rep-owner")

    y0 = T0 + 7 * DAY + 9 * HOUR  # week 2
    for i, (topic, kind) in enumerate((("events.email", "reply"), ("events.email", "reply"),
                                       ("events.product", "signup"),
                                       ("events.product", "trial_started"),
                                       ("events.web", "security"), ("events.web", "security"))):
        fields = ({"type": "page_view", "page_category": kind} if topic == "events.web"
                  else {"type": kind})
        event(topic, Y, y0 + 5 * i * MINUTE, **fields)

    x0 = T0 + 14 * DAY + 10 * HOUR  # week 3
    event("events.email", X, x0, type="reply")
    event("events.email", X, x0 + 10 * MINUTE, type="reply")
    event("events.web", X, x0 + 20 * MINUTE, type="page_view", page_category="security")
    for record in out:  # the bot's page view carries no contact id
        if record[1] == "anon":
            record[2].pop("contact_id")  # type: ignore[union-attr]
    return [_record(topic, key, value, at, offset)
            for offset, (topic, key, value, at) in enumerate(out)]
