"""The contact core end to end: scenarios, effects, idempotence, erasure, timers, records."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from streams.core.contact import (
    ContactState,
    apply,
    from_record,
    next_down_crossing,
    snapshot,
    to_record,
)
from streams.core.contact_state import evaluate
from streams.core.effects import AccountLinked, ContactForgotten, StageChanged
from streams.core.events import (
    AccountProfiled,
    ContactErased,
    ContactInput,
    ContactPayload,
    ContactProfiled,
    Origin,
    SignalObserved,
)
from streams.core.ids import derive_id
from streams.core.model import ScoringModel, parse_model
from streams.core.replay import recompute

TEXT = (Path(__file__).parents[2] / "streams" / "models" / "default.toml").read_text()
MODEL = parse_model(TEXT)
NO_INSTANT = parse_model(TEXT.replace(
    'instant_triggers = ["form.demo_request", "form.contact_sales"]', "instant_triggers = []"))
DAY = 86_400_000
T0 = 1_800_000_000_000
VP = ContactProfiled("p-1", T0, "acme.com", "acc-1", "VP Sales", "vp", "sales",
                     "decision_maker", "US")
ACME = AccountProfiled("a-1", T0, "acc-1", "acme.com", "software", 500, None, "US", None,
                       ("salesforce",), None, False, False)


def sig(event_id: str, signal: str, at: int, domain: str | None = None) -> SignalObserved:
    return SignalObserved(event_id, at, signal, signal.split(".")[0], "utm", domain)


def run(payloads: list[ContactPayload], model: ScoringModel = MODEL,
        state: ContactState | None = None) -> tuple[ContactState | None, list[object]]:
    effects: list[object] = []
    for payload in payloads:
        state, out = apply(state, ContactInput("c-1", payload), model)
        effects.extend(out)
    return state, effects


def stage_changes(effects: list[object]) -> list[StageChanged]:
    return [e for e in effects if isinstance(e, StageChanged)]


def test_vp_pricing_is_nurture_then_demo_is_sales_ready() -> None:
    for model, trigger in ((MODEL, "instant"), (NO_INSTANT, "threshold")):
        state, effects = run([VP, ACME, sig("e-1", "web.pricing", T0 + 1000)], model)
        assert state is not None and state.stage == "nurture"
        snap = snapshot(state, model)
        assert snap.total < 60 and round(snap.total, 3) == 47.0
        state, more = run([sig("e-2", "form.demo_request", T0 + 2000)], model, state)
        assert state is not None and state.stage == "sales_ready"
        change = stage_changes(more)[0]
        assert (change.from_stage, change.to_stage, change.trigger) == (
            "nurture", "sales_ready", trigger)
        assert change.total >= 60 and round(change.total, 3) == 71.0
        assert [r.signal for r in change.reasons[:2]] == ["form.demo_request", "web.pricing"]
        assert change.model_version == "2026.11.0" and change.direction == "up"
        assert change.event_id == derive_id("stage", "c-1", "e-2", "nurture", "sales_ready")
        assert change.first_touch is not None and change.first_touch.event_id == "e-1"
        assert change.last_touch is not None and change.last_touch.event_id == "e-2"
        assert change.account_id == "acc-1" and change.caused_by == "e-2"


def test_competitor_is_excluded_and_never_sales_ready() -> None:
    rival = replace(VP, email_domain="rivalcorp.com")
    state, effects = run([rival, replace(ACME, domain="rivalcorp.com"),
                          sig("e-1", "form.demo_request", T0), sig("e-2", "web.pricing", T0),
                          sig("e-3", "form.contact_sales", T0)])
    assert state is not None and state.stage == "excluded"
    assert snapshot(state, MODEL).exclusion == "competitor"
    assert all(c.to_stage != "sales_ready" for c in stage_changes(effects))
    assert stage_changes(effects)[0].trigger == "exclusion"


def test_free_mail_contact_without_account_is_review_not_new() -> None:
    gmail = replace(VP, email_domain="gmail.com", account_id=None)
    state, effects = run([gmail])
    assert state is not None and state.stage == "new" and state.email_domain is None
    assert not effects  # no account to link, no stage change without signals
    assert snapshot(state, MODEL).review_reasons == ("account_unknown",)
    state, effects = run([sig("e-1", "form.demo_request", T0 + 1)], state=state)
    assert state is not None and state.stage == "review"  # not sales, even for a demo
    assert stage_changes(effects)[0].trigger == "review"


def test_enrichment_moves_out_of_review() -> None:
    state, _ = run([VP, sig("e-1", "web.pricing", T0), sig("e-2", "web.pricing", T0 + 1),
                    sig("e-3", "web.product", T0 + 2), sig("e-4", "web.product", T0 + 3),
                    sig("e-5", "web.product", T0 + 4)])
    assert state is not None and state.stage == "review"
    state, effects = run([ACME], state=state)
    change = stage_changes(effects)[0]
    assert (change.from_stage, change.to_stage, change.trigger, change.threshold) == (
        "review", "sales_ready", "enrichment", 60.0)


def test_account_linked_when_domain_known_or_changed() -> None:
    state, effects = run([sig("e-1", "web.blog", T0, domain="Acme.com")])
    assert AccountLinked("c-1", "acme.com", None, "e-1") in effects
    state, effects = run([sig("e-2", "web.blog", T0 + 1, domain="other.com")], state=state)
    assert not [e for e in effects if isinstance(e, AccountLinked)]  # signals only fill a gap
    state, effects = run([replace(VP, email_domain="newco.com")], state=state)
    assert AccountLinked("c-1", "newco.com", "acme.com", "p-1") in effects


def test_older_profile_does_not_replace_newer() -> None:
    newer = replace(VP, event_id="p-2", occurred_at=T0 + 10, persona="end_user")
    one, _ = run([newer, VP])
    two, _ = run([VP, newer])
    assert one is not None and two is not None
    assert one.profile == two.profile == newer


def test_grade_b_instant_trigger_and_hold() -> None:
    manager = replace(VP, seniority="manager", persona="end_user")  # 25+25+5+5+8 = 68 -> B
    state, effects = run([manager, ACME, sig("e-1", "form.demo_request", T0)])
    assert state is not None and state.stage == "sales_ready"
    assert snapshot(state, MODEL).fit_grade == "B"
    assert stage_changes(effects)[-1].trigger == "instant"
    hold = T0 + 14 * DAY
    assert state.hold_until == hold
    # without the hold the total (27.2 + 24 decaying) would leave within about two weeks;
    crossing = next_down_crossing(state, MODEL)
    assert crossing == hold
    held, effects = run([sig("e-2", "email.delivered", hold - 1)], state=state)
    assert held is not None and held.stage == "sales_ready" and not stage_changes(effects)
    left, effects = run([sig("e-3", "email.delivered", hold)], state=held)
    assert left is not None and left.stage == "nurture" and left.hold_until is None
    change = stage_changes(effects)[0]
    assert (change.trigger, change.threshold, change.direction) == ("threshold", 45.0, "down")


def test_requalification_from_nurture() -> None:
    state, _ = run([VP, ACME, sig("e-1", "web.pricing", T0), sig("e-2", "web.pricing", T0),
                    sig("e-3", "web.product", T0), sig("e-4", "web.product", T0)])
    assert state is not None and state.stage == "sales_ready"  # 38 + 0.6 * 40 = 62
    later = T0 + 50 * DAY
    state, effects = run([sig("e-5", "email.open", later)], state=state)
    assert state is not None and state.stage == "nurture"
    assert snapshot(state, MODEL).total < 45
    state, effects = run([sig("e-6", "web.product", later + 1)], state=state)
    total = snapshot(state, MODEL).total if state else 0.0
    assert state is not None and 45 <= total < 60 and state.stage == "sales_ready"
    assert stage_changes(effects)[0].trigger == "requalified"


def test_duplicate_and_redelivery() -> None:
    first = ContactInput("c-1", sig("e-1", "web.pricing", T0), Origin("in", 0, 5))
    state, _ = apply(None, first, MODEL)
    assert state is not None
    again, effects = apply(state, first, MODEL)
    assert again is state and effects == []
    older, effects = apply(state, ContactInput("c-1", sig("e-9", "web.pricing", T0),
                                               Origin("in", 0, 4)), MODEL)
    assert older is state and effects == []
    moved = ContactInput("c-1", first.payload, Origin("in", 1, 1))  # same event, new origin
    dup, effects = apply(state, moved, MODEL)
    assert dup is not None and effects == []
    assert dup.watermarks == (("in:0", 5), ("in:1", 1))
    assert replace(dup, watermarks=state.watermarks) == state
    assert dup.events_applied == 1


def test_erasure_forgets_the_contact() -> None:
    state, _ = run([VP, sig("e-1", "web.pricing", T0)])
    gone, effects = apply(state, ContactInput("c-1", ContactErased("x-1", T0 + 5)), MODEL)
    assert gone is None
    assert effects == [ContactForgotten("c-1", "acme.com", "x-1")]
    inputs = [ContactInput("c-1", VP), ContactInput("c-2", sig("e-2", "web.blog", T0)),
              ContactInput("c-1", ContactErased("x-1", T0 + 5))]
    assert set(recompute(inputs, MODEL)) == {"c-2"}


def test_next_down_crossing_is_exact_to_the_millisecond() -> None:
    state, _ = run([VP, ACME, sig("e-1", "web.pricing", T0),
                    sig("e-2", "form.demo_request", T0 + 1000)], NO_INSTANT)
    assert state is not None and state.stage == "sales_ready" and state.hold_until is None
    crossing = next_down_crossing(state, NO_INSTANT)
    assert crossing is not None
    assert evaluate(state, NO_INSTANT, crossing - 1).total >= 45
    assert evaluate(state, NO_INSTANT, crossing).total < 45
    assert 60 * DAY < crossing - T0 < 75 * DAY  # 55 -> 11.7 intent: about 2.2 half-lives
    nurtured, _ = run([VP, sig("e-1", "web.blog", T0)])
    assert nurtured is not None and next_down_crossing(nurtured, MODEL) is None


def test_next_down_crossing_with_a_negative_signal() -> None:
    state, _ = run([VP, ACME, sig("e-1", "web.pricing", T0), sig("e-2", "web.pricing", T0),
                    sig("e-3", "web.product", T0), sig("e-4", "web.product", T0),
                    sig("e-5", "web.product", T0), sig("e-6", "web.careers", T0)], NO_INSTANT)
    assert state is not None and state.stage == "sales_ready"
    crossing = next_down_crossing(state, NO_INSTANT)
    assert crossing is not None
    assert evaluate(state, NO_INSTANT, crossing - 1).total >= 45
    assert evaluate(state, NO_INSTANT, crossing).total < 45


def test_record_round_trip_through_json() -> None:
    state, _ = run([VP, ACME, sig("e-1", "web.pricing", T0), sig("e-2", "form.demo_request",
                                                                  T0 + 1)])
    assert state is not None
    record = json.loads(json.dumps(to_record(state)))
    assert from_record(record) == state
