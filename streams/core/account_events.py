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


AccountPayload = AccountFirmographics | ThirdPartyIntent | MemberJoined | MemberLeft


@dataclass(frozen=True, slots=True)
class AccountInput:
    """One message of the account agent's single input stream."""

    domain: str
    payload: AccountPayload
    origin: Origin | None = None
