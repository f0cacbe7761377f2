"""Normalised sales-side inputs: the rep roster and sales activity (routing and SLA timers)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RepProfile:
    """One rep of the ``sales.reps`` roster (the latest record per rep wins)."""

    event_id: str
    occurred_at: int
    rep_id: str
    active: bool
    pools: tuple[str, ...]  # routing pools, e.g. "NA:mid_market", "fallback"
    territories: tuple[str, ...]  # territory pools (region x segment), e.g. "EMEA:smb"
    weight: int = 1
    max_open: int = 10
    work_start_minute: int = 540  # minutes after local midnight
    work_end_minute: int = 1080
    work_days: tuple[int, ...] = (1, 2, 3, 4, 5)  # ISO weekday, 1 = Monday
    timezone: str = "UTC"  # IANA name
    manager_rep_id: str | None = None


@dataclass(frozen=True, slots=True)
class SalesActivityObserved:
    """A rep's action on a lead (``sales.activity``): it stops SLA clocks or moves the stage."""

    event_id: str
    occurred_at: int
    contact_id: str
    rep_id: str | None
    kind: str  # first_touch | call | email_sent | meeting_booked | accepted | rejected |
    # disqualified | recycled
    reason_code: str | None = None
    assignment_id: str | None = None


@dataclass(frozen=True, slots=True)
class AssignmentStarted:
    """The router assigned the lead (to ``rep``, or to nobody): its SLA clocks start."""

    event_id: str
    occurred_at: int  # wall clock of the assignment
    assignment_id: str
    priority: str
    trigger: str
    pool: str
    rep: RepProfile | None
