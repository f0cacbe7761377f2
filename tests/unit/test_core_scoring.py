"""Intent: caps and floors on decayed sums, clamping to 0..100, explanations."""

from __future__ import annotations

from pathlib import Path

from streams.core.effects import Reason
from streams.core.model import parse_model
from streams.core.scoring import intent_score, top_reasons, total_score

MODEL = parse_model(
    (Path(__file__).parents[2] / "streams" / "models" / "default.toml").read_text()
)


def test_caps_apply_to_the_decayed_sum() -> None:
    score = intent_score({"email.open": 50.0, "web.pricing": 15.0}, MODEL)
    assert score.intent == 5 + 15  # 50 opens are worth the cap of 5
    assert dict(score.contributions) == {"email.open": 5.0, "web.pricing": 15.0}
    assert dict(score.by_category) == {"email": 5.0, "high_intent": 15.0}


def test_negative_signals_floor_and_intent_clamps() -> None:
    assert intent_score({"web.careers": -40.0, "web.pricing": 15.0}, MODEL).intent == 5.0
    assert intent_score({"email.spam_report": -30.0}, MODEL).intent == 0.0
    many = {"form.demo_request": 40.0, "form.contact_sales": 35.0, "web.pricing": 30.0,
            "product.trial_started": 15.0}
    assert intent_score(many, MODEL).intent == 100.0


def test_unknown_signals_score_nothing() -> None:
    assert intent_score({"web.unheard_of": 99.0}, MODEL).intent == 0.0


def test_total_is_weighted() -> None:
    assert total_score(95.0, 55.0, MODEL) == 0.4 * 95 + 0.6 * 55


def test_top_reasons_orders_by_points_then_name_then_negatives() -> None:
    values = {"web.product": 5.0, "web.integration": 5.0, "web.pricing": 20.0,
              "email.open": 2.0, "email.click": 3.0, "web.docs": 4.0, "web.careers": -10.0,
              "email.delivered": 0.0}
    counts = {"web.product": 1, "web.integration": 1, "web.pricing": 2, "web.careers": 1}
    reasons = top_reasons(values, counts, MODEL)
    assert [r.signal for r in reasons] == [
        "web.pricing", "web.integration", "web.product", "web.docs", "email.click",
        "web.careers",
    ]
    assert reasons[0] == Reason("web.pricing", "high_intent", 20.0, 2)
    assert reasons[-1] == Reason("web.careers", "negative", -10.0, 1)
