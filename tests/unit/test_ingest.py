"""Ingest: validation reasons, normalisation and identity resolution (pure)."""

from __future__ import annotations

import pytest

from streams.core.account_events import AccountFirmographics, AccountInput, ThirdPartyIntent
from streams.core.events import ContactErased, ContactInput, ContactProfiled, Origin, SignalObserved
from streams.ingest.errors import InvalidRecord
from streams.ingest.normalise import Dropped, IngestPolicy, normalise
from streams.ingest.redact import redact

NOW = 1_780_000_000_000
ORIGIN = Origin("events.web", 0, 7)
POLICY = IngestPolicy(
    free_mail_domains=frozenset({"gmail.com"}),
    internal_domains=frozenset({"qualstream.io"}),
    internal_ip_prefixes=("10.",),
    bot_user_agent_patterns=("bot", "headless"),
    future_skew_ms=60_000,
)


def web(**fields: object) -> dict[str, object]:
    base: dict[str, object] = {"event_id": "e1", "occurred_at": NOW - 1000, "type": "page_view",
                               "page_category": "pricing", "contact_id": "c1"}
    base.update(fields)
    return base


def test_page_view_becomes_signal_of_the_contact() -> None:
    out = normalise("events.web", "c1", web(email="Ann@Acme.COM"), ORIGIN, NOW, POLICY)
    assert isinstance(out, ContactInput)
    assert out.contact_id == "c1"
    assert out.origin == ORIGIN
    assert isinstance(out.payload, SignalObserved)
    assert out.payload.signal == "web.pricing"
    assert out.payload.email_domain == "acme.com"


def test_form_submit_names_the_form() -> None:
    out = normalise("events.web", "c1", web(type="form_submit", page_category=None,
                                             form_type="demo_request"), ORIGIN, NOW, POLICY)
    assert isinstance(out, ContactInput) and isinstance(out.payload, SignalObserved)
    assert out.payload.signal == "form.demo_request"


def test_identity_falls_back_to_email_then_anonymous_id() -> None:
    by_email = normalise("events.web", None, web(contact_id=None, email="a@acme.com"), ORIGIN,
                         NOW, POLICY)
    assert isinstance(by_email, ContactInput)
    assert by_email.contact_id.startswith("e-") and "acme" not in by_email.contact_id
    anon = normalise("events.web", None, web(contact_id=None, anonymous_id="xyz"), ORIGIN, NOW,
                     POLICY)
    assert isinstance(anon, ContactInput) and anon.contact_id == "anon-xyz"


def test_free_mail_never_becomes_a_company_domain() -> None:
    out = normalise("events.web", "c1", web(email="bob@gmail.com"), ORIGIN, NOW, POLICY)
    assert isinstance(out, ContactInput) and isinstance(out.payload, SignalObserved)
    assert out.payload.email_domain is None


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"event_id": ""}, "missing_event_id"),
        ({"occurred_at": NOW + 3_600_000}, "timestamp_in_future"),
        ({"occurred_at": 1_600_000_000}, "timestamp_too_old"),
        ({"contact_id": None}, "missing_identity"),
        ({"email": "not-an-address"}, "invalid_email"),
        ({"page_category": None}, "missing_page_category"),
        ({"type": "form_submit", "form_type": None}, "missing_form_type"),
        ({"event_id": "x" * 300}, "oversized_field"),
    ],
)
def test_invalid_records_name_their_reason(fields: dict[str, object], reason: str) -> None:
    with pytest.raises(InvalidRecord) as err:
        normalise("events.web", "c1", web(**fields), ORIGIN, NOW, POLICY)
    assert err.value.reason == reason


def test_invalid_email_reason_does_not_leak_the_address() -> None:
    with pytest.raises(InvalidRecord) as err:
        normalise("events.web", "c1", web(email="jane.doe@@acme.com"), ORIGIN, NOW, POLICY)
    assert "jane.doe" not in str(err.value)


def test_bots_and_internal_traffic_are_dropped() -> None:
    bot = normalise("events.web", "c1", web(user_agent="Googlebot/2.1"), ORIGIN, NOW, POLICY)
    assert bot == Dropped("bot")
    staff = normalise("events.web", "c1", web(email="me@qualstream.io"), ORIGIN, NOW, POLICY)
    assert staff == Dropped("internal")
    office = normalise("events.web", "c1", web(ip="10.1.2.3"), ORIGIN, NOW, POLICY)
    assert office == Dropped("internal")


def test_email_and_product_events_map_to_signals() -> None:
    email = normalise("events.email", "c1", {"event_id": "m1", "occurred_at": NOW, "type": "click",
                                             "contact_id": "c1", "campaign_id": "q4"},
                      ORIGIN, NOW, POLICY)
    assert isinstance(email, ContactInput) and isinstance(email.payload, SignalObserved)
    assert (email.payload.signal, email.payload.channel) == ("email.click", "q4")
    product = normalise("events.product", "c1", {"event_id": "p1", "occurred_at": NOW,
                                                 "type": "signup", "contact_id": "c1"},
                        ORIGIN, NOW, POLICY)
    assert isinstance(product, ContactInput) and isinstance(product.payload, SignalObserved)
    assert product.payload.signal == "product.signup"


def test_crm_contact_upsert_and_tombstone() -> None:
    rec = {"event_id": "u1", "occurred_at": NOW, "contact_id": "c9", "email": "Vp@Acme.com",
           "seniority": "vp", "persona": "decision_maker", "country": "us"}
    out = normalise("crm.contacts", "c9", rec, ORIGIN, NOW, POLICY)
    assert isinstance(out, ContactInput) and isinstance(out.payload, ContactProfiled)
    assert (out.payload.email_domain, out.payload.country) == ("acme.com", "US")
    gone = normalise("crm.contacts", "c9", None, Origin("crm.contacts", 1, 5), NOW, POLICY,
                     timestamp_ms=NOW)
    assert isinstance(gone, ContactInput) and isinstance(gone.payload, ContactErased)
    again = normalise("crm.contacts", "c9", None, Origin("crm.contacts", 1, 5), NOW, POLICY,
                      timestamp_ms=NOW)
    assert again == gone  # deterministic erase id


def test_crm_account_is_keyed_by_normalised_domain() -> None:
    rec = {"event_id": "a1", "occurred_at": NOW, "account_id": "A1", "domain": "WWW.Acme.com",
           "industry": "Software", "employee_count": 500, "tech_stack": ["Salesforce", "segment"],
           "is_customer": False, "named_account": False}
    out = normalise("crm.accounts", "A1", rec, ORIGIN, NOW, POLICY)
    assert isinstance(out, AccountInput) and isinstance(out.payload, AccountFirmographics)
    assert out.domain == "acme.com"
    assert out.payload.industry == "software"
    assert out.payload.tech_stack == ("salesforce", "segment")
    with pytest.raises(InvalidRecord) as err:
        normalise("crm.accounts", "A2", {**rec, "domain": "gmail.com"}, ORIGIN, NOW, POLICY)
    assert err.value.reason == "free_mail_account"


def test_intent_strength_is_range_checked() -> None:
    rec = {"event_id": "i1", "occurred_at": NOW, "type": "topic_surge", "domain": "acme.com",
           "topic": "lead scoring", "strength": 80, "provider": "bombora"}
    out = normalise("events.intent", "acme.com", rec, ORIGIN, NOW, POLICY)
    assert isinstance(out, AccountInput) and isinstance(out.payload, ThirdPartyIntent)
    with pytest.raises(InvalidRecord):
        normalise("events.intent", "acme.com", {**rec, "strength": 101}, ORIGIN, NOW, POLICY)


def test_redact_hides_local_part_keeps_domain() -> None:
    assert redact("bad address jane@acme.com here") == "bad address <redacted>@acme.com here"


@pytest.mark.parametrize(("text", "redacted"), [
    ("x@localhost", "<redacted>@localhost"),  # invalid addresses are personal data too
    ("tz 'Bob@@Acme.com'", "tz '<redacted>@acme.com'"),
    ("a@b@c", "<redacted>@c"),
    ("ünïcödé@exämple.de", "<redacted>@exämple.de"),
    ('"Ann" <ann@acme.com>, bob@x.io;', '"Ann" <<redacted>@acme.com>, <redacted>@x.io;'),
    ("<redacted>@acme.com", "<redacted>@acme.com"),  # idempotent
    ("@handle and no address", "@handle and no address"),
])
def test_redact_catches_every_e_mail_shaped_string(text: str, redacted: str) -> None:
    assert redact(text) == redacted


def test_settings_survive_the_environment_round_trip() -> None:
    from dataclasses import replace

    from streams.config import Settings, from_env, to_env

    settings = replace(Settings(), topic_prefix="x.", partitions=3, one_record_batches=True,
                       redis_url="redis://127.0.0.1:1/0", commit_interval_s=0.5)
    assert from_env(to_env(settings)) == settings


def test_anonymous_visitors_are_scored_but_never_become_leads() -> None:
    from streams.config import DEFAULT_MODEL_PATH
    from streams.core.contact import apply
    from streams.core.model import parse_model

    model = parse_model(DEFAULT_MODEL_PATH.read_text())
    out = normalise("events.web", None, web(contact_id=None, anonymous_id="v1"), ORIGIN, NOW,
                    POLICY)
    assert isinstance(out, ContactInput)
    state, effects = apply(None, out, model)
    assert state is not None and state.stage == "new" and effects == []
    assert state.events_applied == 1


def test_internationalised_addresses_are_valid() -> None:
    out = normalise("events.web", "c1", web(email="Tomás@Acme.com"), ORIGIN, NOW, POLICY)
    assert isinstance(out, ContactInput) and isinstance(out.payload, SignalObserved)
    assert out.payload.email_domain == "acme.com"


def test_an_address_typed_into_free_text_is_not_kept() -> None:
    record = {"event_id": "cc1", "occurred_at": NOW - 1000, "contact_id": "c1",
              "email": "ann@acme.com", "title": "CTO (write to ann.lee@acme.com)",
              "department": "ops, bob@acme.com"}
    out = normalise("crm.contacts", "c1", record, ORIGIN, NOW, POLICY)
    assert isinstance(out, ContactInput) and isinstance(out.payload, ContactProfiled)
    assert out.payload.title == "CTO (write to <redacted>@acme.com)"
    assert out.payload.department == "ops, <redacted>@acme.com"
    assert out.payload.email_domain == "acme.com"  # the address itself is never kept
