"""Turn one decoded input record into the agents' normalised input, or say why not."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from streams.core.account_events import AccountFirmographics, AccountInput, ThirdPartyIntent
from streams.core.events import (
    ANONYMOUS_PREFIX,
    ContactErased,
    ContactInput,
    ContactProfiled,
    Origin,
    SignalObserved,
)
from streams.core.ids import derive_id
from streams.ingest.errors import InvalidRecord
from streams.ingest.redact import pseudonym, redact

# 2000-01-01T00:00:00Z: anything older is a unit mistake (seconds for millis), not history.
MIN_EVENT_TIME_MS = 946_684_800_000
# Unicode letters are allowed (RFC 6531 internationalised addresses, IDN domains).
_EMAIL = re.compile(r"^[\w.!#$%&'*+/=?^`{|}~\-]+@([\w\-]+(\.[\w\-]+)+)$")
_DOMAIN = re.compile(r"^[a-z0-9\-]+(\.[a-z0-9\-]+)+$")
MAX_ID_LENGTH = 256


@dataclass(frozen=True, slots=True)
class IngestPolicy:
    """What ingest needs from the model and the settings."""

    free_mail_domains: frozenset[str]
    internal_domains: frozenset[str]
    internal_ip_prefixes: tuple[str, ...]
    bot_user_agent_patterns: tuple[str, ...]
    future_skew_ms: int


@dataclass(frozen=True, slots=True)
class Dropped:
    """A valid record that is deliberately not scored (bot or internal traffic)."""

    reason: str  # bot | internal


Normalised = ContactInput | AccountInput | Dropped


def _require_str(record: dict[str, Any], name: str) -> str:
    value = record.get(name)
    if not isinstance(value, str) or not value.strip():
        raise InvalidRecord(f"missing_{name}", f"field {name!r} is missing or empty")
    if len(value) > MAX_ID_LENGTH:
        raise InvalidRecord("oversized_field", f"field {name!r} is longer than {MAX_ID_LENGTH}")
    return value.strip()


def _optional_str(record: dict[str, Any], name: str) -> str | None:
    value = record.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidRecord("wrong_type", f"field {name!r} is not a string")
    value = value.strip()
    return value or None


def _free_text(record: dict[str, Any], name: str) -> str | None:
    """A free-text field kept in state: an e-mail address typed into it is not kept."""
    value = _optional_str(record, name)
    return None if value is None else redact(value)


def _event_time(record: dict[str, Any], now_ms: int, policy: IngestPolicy) -> int:
    value = record.get("occurred_at")
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidRecord("missing_occurred_at", "field 'occurred_at' is missing")
    if value < MIN_EVENT_TIME_MS:
        raise InvalidRecord("timestamp_too_old", f"occurred_at {value} is before 2000-01-01")
    if value > now_ms + policy.future_skew_ms:
        raise InvalidRecord(
            "timestamp_in_future",
            f"occurred_at is {value - now_ms} ms ahead of now (allowed {policy.future_skew_ms})",
        )
    return value


def normalise_email(raw: str) -> str:
    """Lower-case and validate an e-mail address; the error message never contains it."""
    email = raw.strip().lower()
    if len(email) > 254 or not _EMAIL.match(email):
        raise InvalidRecord("invalid_email", "field 'email' is not a valid e-mail address")
    return email


def company_domain(email: str | None, policy: IngestPolicy) -> str | None:
    """The company domain of an e-mail address; free-mail domains never become accounts."""
    if email is None:
        return None
    domain = email.rsplit("@", 1)[1]
    return None if domain in policy.free_mail_domains else domain


def normalise_domain(raw: str) -> str:
    domain = raw.strip().lower().removeprefix("www.")
    if not _DOMAIN.match(domain):
        raise InvalidRecord("invalid_domain", "field 'domain' is not a valid domain name")
    return domain


def _contact_identity(record: dict[str, Any]) -> tuple[str, str | None]:
    """contact_id, else an id derived from the e-mail, else the anonymous id."""
    email_raw = _optional_str(record, "email")
    email = normalise_email(email_raw) if email_raw is not None else None
    contact_id = _optional_str(record, "contact_id")
    if contact_id is not None:
        return contact_id, email
    if email is not None:
        return f"e-{pseudonym(email)}", email
    anonymous_id = _optional_str(record, "anonymous_id")
    if anonymous_id is not None:
        return f"{ANONYMOUS_PREFIX}{anonymous_id}", None
    raise InvalidRecord("missing_identity", "no contact_id, email or anonymous_id")


def _is_bot(user_agent: str | None, policy: IngestPolicy) -> bool:
    if user_agent is None:
        return False
    ua = user_agent.lower()
    for pattern in policy.bot_user_agent_patterns:  # a loop: any() over a generator costs more
        if pattern in ua:
            return True
    return False


def _is_internal(email: str | None, ip: str | None, policy: IngestPolicy) -> bool:
    if email is not None and email.rsplit("@", 1)[1] in policy.internal_domains:
        return True
    return ip is not None and ip.startswith(policy.internal_ip_prefixes)


def _web_signal(record: dict[str, Any]) -> str:
    kind = record.get("type")
    if kind == "page_view":
        category = record.get("page_category")
        if category is None:
            raise InvalidRecord("missing_page_category", "page_view without page_category")
        return f"web.{category}"
    if kind == "form_submit":
        form = record.get("form_type")
        if form is None:
            raise InvalidRecord("missing_form_type", "form_submit without form_type")
        return f"form.{form}"
    raise InvalidRecord("invalid_type", f"unknown web event type {kind!r}")


def _behaviour(
    source: str, record: dict[str, Any], origin: Origin, now_ms: int, policy: IngestPolicy
) -> Normalised:
    event_id = _require_str(record, "event_id")
    occurred_at = _event_time(record, now_ms, policy)
    contact_id, email = _contact_identity(record)
    if _is_bot(_optional_str(record, "user_agent"), policy):
        return Dropped("bot")
    if _is_internal(email, _optional_str(record, "ip"), policy):
        return Dropped("internal")
    if source == "web":
        signal = _web_signal(record)
        channel = _optional_str(record, "utm_source")
    else:
        kind = record.get("type")
        if not isinstance(kind, str):
            raise InvalidRecord("invalid_type", "missing event type")
        signal = f"{source}.{kind}"
        channel = _optional_str(record, "campaign_id") if source == "email" else None
    payload = SignalObserved(
        event_id=event_id,
        occurred_at=occurred_at,
        signal=signal,
        source=source,
        channel=channel,
        email_domain=company_domain(email, policy),
    )
    return ContactInput(contact_id=contact_id, payload=payload, origin=origin)


def _crm_contact(
    key: str | None, record: dict[str, Any] | None, origin: Origin, now_ms: int,
    policy: IngestPolicy, timestamp_ms: int,
) -> Normalised:
    if record is None:  # a tombstone: erase the contact everywhere
        if not key:
            raise InvalidRecord("missing_key", "tombstone without a key")
        erase_id = derive_id("erase", origin.topic, str(origin.partition), str(origin.offset))
        return ContactInput(key, ContactErased(erase_id, timestamp_ms), origin)
    event_id = _require_str(record, "event_id")
    occurred_at = _event_time(record, now_ms, policy)
    contact_id = _require_str(record, "contact_id")
    email_raw = _optional_str(record, "email")
    email = normalise_email(email_raw) if email_raw is not None else None
    payload = ContactProfiled(
        event_id=event_id,
        occurred_at=occurred_at,
        email_domain=company_domain(email, policy),
        account_id=_optional_str(record, "account_id"),
        title=_free_text(record, "title"),
        seniority=_optional_str(record, "seniority"),
        department=_free_text(record, "department"),
        persona=_optional_str(record, "persona"),
        country=(_optional_str(record, "country") or "").upper() or None,
    )
    return ContactInput(contact_id=contact_id, payload=payload, origin=origin)


def _crm_account(
    record: dict[str, Any], origin: Origin, now_ms: int, policy: IngestPolicy
) -> Normalised:
    employees = record.get("employee_count")
    if employees is not None and employees < 0:
        raise InvalidRecord("out_of_range", "employee_count is negative")
    domain = normalise_domain(_require_str(record, "domain"))
    if domain in policy.free_mail_domains:
        raise InvalidRecord("free_mail_account", "a free-mail domain cannot be an account")
    payload = AccountFirmographics(
        event_id=_require_str(record, "event_id"),
        occurred_at=_event_time(record, now_ms, policy),
        account_id=_require_str(record, "account_id"),
        domain=domain,
        industry=(_optional_str(record, "industry") or "").lower() or None,
        employee_count=employees,
        annual_revenue=record.get("annual_revenue"),
        country=(_optional_str(record, "country") or "").upper() or None,
        region=(_optional_str(record, "region") or "").upper() or None,
        tech_stack=tuple(sorted({str(t).strip().lower() for t in record.get("tech_stack") or ()})),
        owner_rep_id=_optional_str(record, "owner_rep_id"),
        is_customer=bool(record.get("is_customer", False)),
        named_account=bool(record.get("named_account", False)),
    )
    return AccountInput(domain=domain, payload=payload, origin=origin)


def _intent(
    record: dict[str, Any], origin: Origin, now_ms: int, policy: IngestPolicy
) -> Normalised:
    event_id = _require_str(record, "event_id")
    occurred_at = _event_time(record, now_ms, policy)
    domain_raw = _optional_str(record, "domain")
    if domain_raw is None:
        raise InvalidRecord("missing_domain", "intent event without a domain")
    strength = record.get("strength")
    if not isinstance(strength, int) or not 0 <= strength <= 100:
        raise InvalidRecord("out_of_range", "strength must be an integer in 0..100")
    payload = ThirdPartyIntent(
        event_id=event_id,
        occurred_at=occurred_at,
        topic=_require_str(record, "topic"),
        strength=strength,
        provider=_require_str(record, "provider"),
    )
    return AccountInput(domain=normalise_domain(domain_raw), payload=payload, origin=origin)


def normalise(
    topic_base: str,
    key: str | None,
    record: dict[str, Any] | None,
    origin: Origin,
    now_ms: int,
    policy: IngestPolicy,
    timestamp_ms: int = 0,
) -> Normalised:
    """Validate and normalise one decoded record of ``topic_base`` (e.g. ``events.web``).

    ``record`` is None only for a tombstone. ``timestamp_ms`` is the Kafka record timestamp,
    used as the time of a tombstone. Raises :class:`InvalidRecord` with a bounded reason.
    """
    if record is None and topic_base != "crm.contacts":
        raise InvalidRecord("unexpected_tombstone", f"null value on {topic_base}")
    if topic_base == "crm.contacts":
        return _crm_contact(key, record, origin, now_ms, policy, timestamp_ms)
    assert record is not None  # noqa: S101 - guarded above
    if topic_base == "events.web":
        return _behaviour("web", record, origin, now_ms, policy)
    if topic_base == "events.email":
        return _behaviour("email", record, origin, now_ms, policy)
    if topic_base == "events.product":
        return _behaviour("product", record, origin, now_ms, policy)
    if topic_base == "crm.accounts":
        return _crm_account(record, origin, now_ms, policy)
    if topic_base == "events.intent":
        return _intent(record, origin, now_ms, policy)
    raise InvalidRecord("unknown_topic", f"no ingest rule for topic {topic_base!r}")
