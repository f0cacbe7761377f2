"""Validate and normalise the sales-side inputs: the rep roster and sales activity (pure)."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from streams.core.sales_events import RepProfile, SalesActivityObserved
from streams.ingest.errors import InvalidRecord

MINUTES_PER_DAY = 24 * 60
REASON_REQUIRED = frozenset({"rejected", "disqualified"})


def _text(record: dict[str, Any], name: str) -> str:
    value = record.get(name)
    if not isinstance(value, str) or not value.strip():
        raise InvalidRecord(f"missing_{name}", f"field {name!r} is missing or empty")
    return value.strip()


def _time(record: dict[str, Any], now_ms: int, future_skew_ms: int) -> int:
    value = record.get("occurred_at")
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidRecord("missing_occurred_at", "field 'occurred_at' is missing")
    if value > now_ms + future_skew_ms:
        raise InvalidRecord("timestamp_in_future", f"occurred_at is {value - now_ms} ms ahead")
    return value


def normalise_rep(record: dict[str, Any], now_ms: int, future_skew_ms: int) -> RepProfile:
    """A ``sales.reps`` record as a RepProfile; impossible rosters are rejected, not guessed."""
    start, end = record.get("work_start_minute", 540), record.get("work_end_minute", 1080)
    if not (0 <= start < end <= MINUTES_PER_DAY):
        raise InvalidRecord("invalid_working_hours",
                            "working hours must satisfy 0 <= start < end <= 1440 minutes")
    days = tuple(sorted(set(record.get("work_days") or ())))
    if not days or any(day not in range(1, 8) for day in days):
        raise InvalidRecord("invalid_work_days", "work_days must be ISO weekdays 1..7")
    timezone = record.get("timezone") or "UTC"
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a directory, a long name
        raise InvalidRecord("unknown_timezone", f"unknown IANA timezone {timezone!r}") from None
    weight, max_open = record.get("weight", 1), record.get("max_open", 10)
    if weight < 1 or max_open < 0:
        raise InvalidRecord("out_of_range", "weight must be >= 1 and max_open >= 0")
    return RepProfile(
        event_id=_text(record, "event_id"),
        occurred_at=_time(record, now_ms, future_skew_ms),
        rep_id=_text(record, "rep_id"),
        active=bool(record.get("active", False)),
        pools=tuple(str(p) for p in record.get("pools") or ()),
        territories=tuple(str(t) for t in record.get("territories") or ()),
        weight=weight,
        max_open=max_open,
        work_start_minute=start,
        work_end_minute=end,
        work_days=days,
        timezone=timezone,
        manager_rep_id=record.get("manager_rep_id"),
    )


def normalise_activity(record: dict[str, Any], now_ms: int,
                       future_skew_ms: int) -> SalesActivityObserved:
    """A ``sales.activity`` record; a rejection or disqualification needs its reason code."""
    kind = _text(record, "type")
    reason = record.get("reason_code")
    if kind in REASON_REQUIRED and not reason:
        raise InvalidRecord("missing_reason_code", f"a {kind} activity needs a reason_code")
    return SalesActivityObserved(
        event_id=_text(record, "event_id"),
        occurred_at=_time(record, now_ms, future_skew_ms),
        contact_id=_text(record, "contact_id"),
        rep_id=record.get("rep_id"),
        kind=kind,
        reason_code=reason,
        assignment_id=record.get("assignment_id"),
    )
