"""What one model made of a history: the figures a what-if comparison needs."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass(slots=True)
class SalesReadyEntry:
    """A contact moved into sales_ready (by threshold, instant trigger or re-qualification)."""

    contact_id: str
    at_ms: int
    trigger: str


@dataclass(slots=True)
class Outcome:
    """Counts and per-contact facts of one model's replay (filled in by the fold).

    ``events`` is every history record read; ``applied`` the inputs the contact core applied.
    """

    model_version: str
    events: int = 0
    applied: int = 0
    skipped: Counter[str] = field(default_factory=Counter)  # reason -> records not applied
    contacts: int = 0
    first_ms: int | None = None  # event-time span of the history
    last_ms: int | None = None
    entries: list[SalesReadyEntry] = field(default_factory=list)
    first_sales_ready: dict[str, int] = field(default_factory=dict)  # contact -> epoch ms
    time_to_qualify_ms: dict[str, int] = field(default_factory=dict)  # first touch -> ready
    final_stages: Counter[str] = field(default_factory=Counter)
    rep_load: Counter[str] = field(default_factory=Counter)  # assignments per rep
    pool_load: Counter[str] = field(default_factory=Counter)  # assignments per pool
    rules: Counter[str] = field(default_factory=Counter)  # assignments per routing rule
    unassigned: int = 0
    elapsed_s: float = 0.0

    @property
    def events_per_second(self) -> float:
        return self.events / self.elapsed_s if self.elapsed_s > 0 else 0.0
