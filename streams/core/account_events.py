"""Normalised inputs of the account agent (key: the account's company domain)."""

from __future__ import annotations

from dataclasses import dataclass

from streams.core.events import Origin


@dataclass(frozen=True, slots=True)
class AccountFirmographics:
    """The CRM's latest view of an account (``crm.accounts`` upsert)."""

    event_id: str
    occurred_at: int
    account_id: str
    domain: str
    industry: str | None
    employee_count: int | None
    annual_revenue: int | None
    country: str | None
    region: str | None
    tech_stack: tuple[str, ...]
    owner_rep_id: str | None
    is_customer: bool
    named_account: bool


@dataclass(frozen=True, slots=True)
class ThirdPartyIntent:
    """A third-party topic surge for the account (``events.intent``)."""

    event_id: str
    occurred_at: int
    topic: str
    strength: int
    provider: str


@dataclass(frozen=True, slots=True)
class MemberJoined:
    """A contact's company domain resolved to this account."""

    event_id: str
    occurred_at: int
    contact_id: str


@dataclass(frozen=True, slots=True)
class MemberLeft:
    """A contact left the account (domain change or erasure)."""

    event_id: str
    occurred_at: int
    contact_id: str




@dataclass(frozen=True, slots=True)
class AccountInput:
    """One message of the account agent's single input stream."""

    domain: str
    payload: AccountPayload
    origin: Origin | None = None


@dataclass(frozen=True, slots=True)
class MemberContributed:
    """A member contact's latest intent, as the account needs it for its rollup.

    ``signal_values`` are the contact's per-signal decayed values at ``ref_ms`` (uncapped;
    caps apply when read, as for the contact), so the account can score the member at any
    later time and the rollup is order-independent: the newest ``version`` per member wins.
    """

    event_id: str
    occurred_at: int
    contact_id: str
    version: int  # the contact's events_applied: grows with every applied input
    ref_ms: int
    signal_values: tuple[tuple[str, float], ...]
    persona: str | None
    seniority: str | None
    engaged_at: int | None  # event time of the contact's last positive signal
    stage: str


AccountPayload = (
    AccountFirmographics | ThirdPartyIntent | MemberJoined | MemberLeft | MemberContributed
)
