"""The stage decision: stickiness, exclusion, review, hysteresis, instant and re-qualification."""

from __future__ import annotations

from pathlib import Path

from streams.core.fit import FitAssessment
from streams.core.model import ScoringModel, parse_model
from streams.core.thresholds import StageDecision, decide_stage, direction

MODEL = parse_model(
    (Path(__file__).parents[2] / "streams" / "models" / "default.toml").read_text()
)
DAY = 86_400_000
A_FIT = FitAssessment(95.0, "A", "mid_market", None, (), ())  # enter 60, exit 45
C_FIT = FitAssessment(30.0, "C", "mid_market", None, (), ())


def decide(current: str, total: float, *, fit: FitAssessment = A_FIT,
           signal: str | None = "web.blog", now: int = 100 * DAY, hold: int | None = None,
           signals: bool = True, enrichment: bool = False,
           model: ScoringModel = MODEL) -> StageDecision:
    return decide_stage(current, fit, total, has_signals=signals, signal=signal,
                        signal_at=now if signal else None, enrichment=enrichment,
                        now_ms=now, hold_until=hold, model=model)


def test_sticky_stages_never_move() -> None:
    for stage in ("accepted", "rejected", "disqualified"):
        assert decide(stage, 99.0, signal="form.demo_request").trigger is None
        excluded = FitAssessment(95.0, "A", "smb", "competitor", (), ())
        assert decide(stage, 99.0, fit=excluded).stage == stage


def test_exclusion_and_its_lifting() -> None:
    excluded = FitAssessment(95.0, "A", "smb", "competitor", (), ())
    assert decide("sales_ready", 90.0, fit=excluded) == StageDecision(
        "excluded", "exclusion", None, None)
    assert decide("excluded", 40.0, signal=None, enrichment=True).stage == "nurture"
    assert decide("excluded", 40.0, signal=None, enrichment=True).trigger == "enrichment"
    assert decide("excluded", 0.0, signal=None, enrichment=True, signals=False).stage == "new"


def test_review_needs_a_signal() -> None:
    review = FitAssessment(40.0, "C", "unknown", None, ("account_unknown",), ())
    assert decide("new", 20.0, fit=review, signals=False, signal=None).trigger is None
    assert decide("new", 20.0, fit=review).stage == "review"
    assert decide("nurture", 20.0, fit=review).trigger == "review"
    out = decide("review", 70.0, signal=None, enrichment=True)
    assert (out.stage, out.trigger, out.threshold) == ("sales_ready", "enrichment", 60.0)
    assert decide("review", 30.0, signal=None, enrichment=True).trigger == "enrichment"


def test_thresholds_with_hysteresis() -> None:
    assert decide("new", 59.9) == StageDecision("nurture", "engaged", None, None)
    assert decide("nurture", 60.0) == StageDecision("sales_ready", "threshold", 60.0, None)
    assert decide("sales_ready", 45.0).trigger is None  # inside the band: stays
    assert decide("sales_ready", 44.9) == StageDecision("nurture", "threshold", 45.0, None)
    assert decide("sales_ready", 44.9, signal=None).trigger == "decay"
    assert decide("nurture", 59.9).trigger is None


def test_low_grade_is_never_sales_ready() -> None:
    assert decide("nurture", 99.0, fit=C_FIT).trigger is None
    assert decide("nurture", 99.0, fit=C_FIT, signal="form.demo_request").trigger is None
    demoted = decide("sales_ready", 99.0, fit=C_FIT, signal=None, enrichment=True)
    assert (demoted.stage, demoted.trigger) == ("nurture", "enrichment")


def test_instant_trigger_for_grade_b_sets_the_hold() -> None:
    b_fit = FitAssessment(60.0, "B", "smb", None, (), ())
    out = decide("nurture", 30.0, fit=b_fit, signal="form.contact_sales", now=10 * DAY)
    assert (out.stage, out.trigger, out.threshold) == ("sales_ready", "instant", None)
    assert out.hold_until == 10 * DAY + 14 * DAY
    # held: a low total does not leave before hold_until, and leaves at it
    assert decide("sales_ready", 10.0, fit=b_fit, now=23 * DAY, hold=24 * DAY).stage \
        == "sales_ready"
    assert decide("sales_ready", 10.0, fit=b_fit, now=24 * DAY, hold=24 * DAY).stage == "nurture"
    # a second instant signal while sales_ready extends the hold
    again = decide("sales_ready", 10.0, fit=b_fit, signal="form.demo_request", now=20 * DAY,
                   hold=24 * DAY)
    assert (again.stage, again.trigger, again.hold_until) == ("sales_ready", None, 34 * DAY)


def test_requalification_from_nurture_and_recycled() -> None:
    for stage in ("nurture", "recycled"):
        out = decide(stage, 50.0, signal="web.pricing")
        assert (out.stage, out.trigger, out.threshold) == ("sales_ready", "requalified", 45.0)
        assert decide(stage, 44.0, signal="web.pricing").trigger is None
        assert decide(stage, 50.0, signal="web.blog").trigger is None  # not a requal signal


def test_direction_by_rank() -> None:
    assert direction("new", "nurture") == "up"
    assert direction("sales_ready", "nurture") == "down"
    assert direction("nurture", "recycled") == "lateral"
    assert direction("sales_ready", "excluded") == "down"
    assert direction("review", "excluded") == "down"
    assert direction("excluded", "nurture") == "up"
