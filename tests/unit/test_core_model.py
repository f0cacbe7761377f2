"""Scoring model: the default file parses, lookups work, and invalid models are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from streams.core.ids import derive_id
from streams.core.model import ModelError, ScoringModel, parse_model

DEFAULT_TEXT = (Path(__file__).parents[2] / "streams" / "models" / "default.toml").read_text()
MODEL = parse_model(DEFAULT_TEXT)

INGEST_SIGNALS = {
    *(f"web.{p}" for p in ("pricing", "product", "docs", "integration", "security",
                           "case_study", "blog", "careers", "home", "other")),
    *(f"form.{f}" for f in ("demo_request", "contact_sales", "content_download",
                            "webinar_registration", "trial_signup")),
    *(f"email.{e}" for e in ("delivered", "open", "click", "reply", "bounce", "unsubscribe",
                             "spam_report")),
    *(f"product.{p}" for p in ("signup", "trial_started", "activation_milestone", "team_invite",
                               "feature_used", "usage_spike")),
}


def test_default_model_scores_exactly_the_ingest_signals() -> None:
    assert isinstance(MODEL, ScoringModel)
    assert MODEL.version == "2026.11.0"
    assert MODEL.known_signals == INGEST_SIGNALS


def test_default_model_categories_and_caps() -> None:
    assert MODEL.half_life_days == {"high_intent": 30, "web": 14, "email": 7, "product": 21,
                                    "third_party": 7, "negative": 60}
    demo = MODEL.signal("form.demo_request")
    assert demo is not None and (demo.category, demo.points, demo.cap) == ("high_intent", 40, 40)
    careers = MODEL.signal("web.careers")
    assert careers is not None and careers.negative and careers.clamp(-35.0) == -10
    assert MODEL.signal("web.nope") is None
    assert MODEL.instant_triggers == {"form.demo_request", "form.contact_sales"}
    assert MODEL.sales_grades == {"A", "B"}


def test_fit_points_sum_to_at_most_100() -> None:
    fit = MODEL.fit
    best = (max(fit.industry_points.values()) + max(b.points for b in fit.size_bands)
            + fit.tech_cap + max(fit.persona_points.values())
            + max(fit.seniority_points.values()))
    assert best == 100


def test_segments_thresholds_and_grades() -> None:
    assert MODEL.segment_of(199) == "smb"
    assert MODEL.segment_of(200) == "mid_market"
    assert MODEL.segment_of(999) == "mid_market"
    assert MODEL.segment_of(1000) == "enterprise"
    assert MODEL.segment_of(5, named_account=True) == "enterprise"
    assert MODEL.segment_of(None) == "unknown"
    assert (MODEL.thresholds("smb").enter, MODEL.thresholds("smb").exit) == (65, 50)
    assert MODEL.thresholds("enterprise").enter == 55
    assert MODEL.thresholds("unknown") == MODEL.thresholds("mid_market")
    assert [MODEL.fit.grade_of(s) for s in (75, 74.9, 50, 25, 24.9)] == ["A", "B", "B", "C", "D"]


def test_ingest_lookups() -> None:
    assert MODEL.is_free_mail("Gmail.com") and not MODEL.is_free_mail("acme.com")
    assert MODEL.is_internal_domain("qualstream.io")
    assert MODEL.is_internal_domain("eu.qualstream.io")
    assert MODEL.is_internal_ip("10.1.2.3") and not MODEL.is_internal_ip("8.8.8.8")
    assert MODEL.is_bot("Mozilla/5.0 (compatible; Googlebot/2.1)")
    assert MODEL.is_bot("HeadlessChrome/120") and not MODEL.is_bot("Mozilla/5.0 Firefox/120")
    assert not MODEL.is_bot(None)
    assert MODEL.region_of("us") == "NA" and MODEL.region_of("BR") == "LATAM"
    assert MODEL.region_of("ZZ") is None and MODEL.region_of(None) is None
    assert MODEL.is_competitor("RivalCorp.com") and not MODEL.is_competitor(None)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('version = "2026.11.0"\n', "", "version"),
        ('version = "2026.11.0"', "version = 2026", "version"),
        ('"web.blog" = { category = "web"', '"web.blog" = { category = "webb"',
         "unknown category"),
        ('"email.open" = { category = "email", points = 1,',
         '"email.open" = { category = "email", points = "one",', "must be a number"),
        ('"email.open" = { category = "email", points = 1,',
         '"email.open" = { category = "email", points = true,', "must be a number"),
        ("enter = 65\n", "enter = 50\n", "enter"),
        ("enter = 60\n", "enter = 40\n", "enter"),
        ('"web.careers" = { category = "negative", points = -10, cap = -10 }',
         '"web.careers" = { category = "negative", points = -10, cap = 10 }', "floor"),
        ('"web.blog" = { category = "web", points = 1, cap = 5 }',
         '"web.blog" = { category = "web", points = 10, cap = 5 }', "cap"),
        ('instant_triggers = ["form.demo_request"',
         'instant_triggers = ["form.demo_requests"', "unknown signal"),
        ("negative = { half_life_days = 60 }", "negative = { half_life_days = 0 }", "> 0"),
        ('sales_grades = ["A", "B"]', 'sales_grades = ["A", "E"]', "grades"),
        ('unknown_uses = "mid_market"', 'unknown_uses = "midmarket"', "unknown segment"),
        ('key_firmographics = ["account",', 'key_firmographics = ["acount",', "acount"),
        ("[weights]\n", "colour = 1\n[weights]\n", "unknown key"),
        ("fit = 0.4", "fit = -0.4", "negative"),
        ("[fit.grades]\nA = 75\nB = 50", "[fit.grades]\nA = 45\nB = 50", "decrease"),
        ("[weights]\n", "[weights\n", "not valid TOML"),
        ("[stages]\n", "[stage]\n", "unknown key"),
    ],
)
def test_invalid_models_raise_model_error(old: str, new: str, message: str) -> None:
    assert old in DEFAULT_TEXT, old
    with pytest.raises(ModelError, match=message):
        parse_model(DEFAULT_TEXT.replace(old, new, 1))


def test_derive_id_is_deterministic_and_unambiguous() -> None:
    assert derive_id("a", "b") == derive_id("a", "b")
    assert len(derive_id("x")) == 32
    assert derive_id("ab", "c") != derive_id("a", "bc")
    int(derive_id("anything"), 16)
