"""Compare replay outcomes: who qualifies under one model and not the other, and the figures."""

from __future__ import annotations

import math
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from streams.ingest.redact import pseudonym
from streams.replay.outcome import Outcome

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
EPOCH_WEEKDAY_OFFSET = 3  # 1970-01-01 was a Thursday: (days + 3) % 7 is days since Monday


def public_id(contact_id: str) -> str:
    """A contact id fit for a report: ids are pseudonymous already, but an id that is an
    e-mail address (some CRMs do that) is replaced by its pseudonym."""
    return f"e-{pseudonym(contact_id.lower())}" if "@" in contact_id else contact_id


def week_start(at_ms: int) -> str:
    """The Monday (UTC) of the ISO week of ``at_ms``, as YYYY-MM-DD."""
    days = at_ms // DAY_MS
    monday = (days - (days + EPOCH_WEEKDAY_OFFSET) % 7) * DAY_MS
    return datetime.fromtimestamp(monday / 1000, tz=UTC).strftime("%Y-%m-%d")


def weekly_sales_ready(outcome: Outcome) -> dict[str, int]:
    """Moves into sales_ready per week (Monday, UTC), in week order."""
    weeks = Counter(week_start(entry.at_ms) for entry in outcome.entries)
    return dict(sorted(weeks.items()))


def percentile(sorted_values: list[int], q: float) -> float:
    """Nearest-rank percentile of already sorted values (q in 0..100)."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return float(sorted_values[rank - 1])


def time_to_qualify(outcome: Outcome) -> dict[str, Any]:
    """First touch -> first sales_ready, in hours: count, mean, p50, p90, min, max."""
    values = sorted(outcome.time_to_qualify_ms.values())
    if not values:
        return {"count": 0}

    def hours(ms: float) -> float:
        return round(ms / HOUR_MS, 4)

    return {"count": len(values), "mean_hours": hours(sum(values) / len(values)),
            "p50_hours": hours(percentile(values, 50)),
            "p90_hours": hours(percentile(values, 90)),
            "min_hours": hours(values[0]), "max_hours": hours(values[-1])}


def model_summary(outcome: Outcome) -> dict[str, Any]:
    return {
        "model_version": outcome.model_version,
        "events": outcome.events,
        "applied": outcome.applied,
        "skipped": dict(sorted(outcome.skipped.items())),
        "contacts": outcome.contacts,
        "sales_ready_contacts": len(outcome.first_sales_ready),
        "sales_ready_entries": len(outcome.entries),
        "weekly_sales_ready": weekly_sales_ready(outcome),
        "final_stages": dict(sorted(outcome.final_stages.items())),
        "rep_load": dict(sorted(outcome.rep_load.items())),
        "pool_load": dict(sorted(outcome.pool_load.items())),
        "routing_rules": dict(sorted(outcome.rules.items())),
        "unassigned": outcome.unassigned,
        "time_to_qualify": time_to_qualify(outcome),
        "elapsed_s": round(outcome.elapsed_s, 3),
        "events_per_second": round(outcome.events_per_second, 1),
    }


def difference(baseline: Outcome, candidate: Outcome) -> dict[str, Any]:
    """Contacts sales-ready (at least once) under one model and never under the other."""
    base, cand = set(baseline.first_sales_ready), set(candidate.first_sales_ready)
    return {
        "baseline": baseline.model_version,
        "candidate": candidate.model_version,
        "only_candidate": sorted(public_id(c) for c in cand - base),
        "only_baseline": sorted(public_id(c) for c in base - cand),
        "both": len(base & cand),
    }


def summarise(outcomes: list[Outcome]) -> dict[str, Any]:
    """The machine-readable summary: each model's figures, each later model vs the first."""
    return {
        "models": [model_summary(o) for o in outcomes],
        "comparisons": [difference(outcomes[0], o) for o in outcomes[1:]],
        "history": {
            "events": outcomes[0].events if outcomes else 0,
            "first_event_ms": outcomes[0].first_ms if outcomes else None,
            "last_event_ms": outcomes[0].last_ms if outcomes else None,
        },
    }
