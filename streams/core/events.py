"""Normalised inputs of the contact agent: immutable facts named in the past tense."""

from __future__ import annotations

from dataclasses import dataclass

# Contact ids the ingest derives from an anonymous id: such a visitor is scored, but it is not
# a lead (no stage transitions) until it is identified.
ANONYMOUS_PREFIX = "anon-"


def is_anonymous(contact_id: str) -> bool:
    return contact_id.startswith(ANONYMOUS_PREFIX)


@dataclass(frozen=True, slots=True)
class Origin:
    """Where an input was first read: the per-key watermark makes re-deliveries no-ops."""

    topic: str
    partition: int
    offset: int

    @property
    def stream(self) -> str:
        return f"{self.topic}:{self.partition}"


@dataclass(frozen=True, slots=True)
class SignalObserved:
    """A behavioural signal of one contact (web, e-mail or product), already normalised.

    ``signal`` names a key of the scoring model's ``[signals]`` table, for example
    ``web.pricing_view``, ``form.demo_request``, ``email.click``, ``product.signup``.
    """

    event_id: str
    occurred_at: int  # epoch ms, event time
    signal: str
    source: str  # web | email | product
    channel: str | None = None  # utm_source / campaign id, for attribution
    email_domain: str | None = None  # company domain seen on the event, if any


@dataclass(frozen=True, slots=True)
class ContactProfiled:
    """The CRM's latest view of a contact (``crm.contacts`` upsert)."""

    event_id: str
    occurred_at: int
    email_domain: str | None
    account_id: str | None
    title: str | None
    seniority: str | None
    department: str | None
    persona: str | None
    country: str | None


@dataclass(frozen=True, slots=True)
class AccountProfiled:
    """Firmographics of the contact's account, delivered by the account agent."""

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
class ContactErased:
    """GDPR erasure: a tombstone on ``crm.contacts``."""

    event_id: str
    occurred_at: int


@dataclass(frozen=True, slots=True)
class AccountContextUpdated:
    """The account's score, committee and stage, shared with its members by the account
    agent so that their transitions carry account context. Changes no contact score."""

    event_id: str
    occurred_at: int
    account_score: float
    committee_size: int
    account_stage: str


@dataclass(frozen=True, slots=True)
class TimerTick:
    """Wall-clock time delivered to one partition of the contact inputs: deadlines due by
    ``occurred_at`` fire. Not a contact's input: it carries no contact."""

    event_id: str
    occurred_at: int


TICK_KEY = "__tick__"

ContactPayload = (
    SignalObserved | ContactProfiled | AccountProfiled | ContactErased | AccountContextUpdated
)


@dataclass(frozen=True, slots=True)
class ContactInput:
    """One message of the contact agent's single input stream."""

    contact_id: str
    payload: ContactPayload
    origin: Origin | None = None
