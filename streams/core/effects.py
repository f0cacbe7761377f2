"""What the contact core asks the shell to do: events named in the past tense."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Reason:
    """One contributing signal of a score (the explanation)."""

    signal: str
    category: str
    points: float
    count: int


@dataclass(frozen=True, slots=True)
class Touch:
    """A first- or last-touch attribution point."""

    event_id: str
    signal: str
    source: str
    channel: str | None
    occurred_at: int


@dataclass(frozen=True, slots=True)
class StageChanged:
    """A contact crossed a qualification threshold (up or down) or changed stage otherwise."""

    event_id: str  # deterministic: hash of (contact_id, caused_by, from, to)
    contact_id: str
    account_id: str | None
    from_stage: str
    to_stage: str
    direction: str  # up | down | lateral
    trigger: str  # threshold | instant | requalified | exclusion | review | decay | enrichment
    threshold: float | None
    fit: float
    intent: float
    total: float
    fit_grade: str
    segment: str
    model_version: str
    reasons: tuple[Reason, ...]
    first_touch: Touch | None
    last_touch: Touch | None
    exclusion: str | None
    caused_by: str
    occurred_at: int
    account_score: float | None = None
    committee_size: int | None = None


@dataclass(frozen=True, slots=True)
class AccountLinked:
    """The contact now belongs to the account of ``domain``: ask for its firmographics."""

    contact_id: str
    domain: str
    previous_domain: str | None
    caused_by: str


@dataclass(frozen=True, slots=True)
class ContactForgotten:
    """The contact was erased: tombstone it downstream and in its account."""

    contact_id: str
    domain: str | None
    caused_by: str


ContactEffect = StageChanged | AccountLinked | ContactForgotten
