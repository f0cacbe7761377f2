"""The stage decision: exclusions, review, hysteresis, instant and re-qualification triggers."""

from __future__ import annotations

from dataclasses import dataclass

from streams.core.fit import FitAssessment
from streams.core.model import ScoringModel

NEW = "new"
REVIEW = "review"
NURTURE = "nurture"
SALES_READY = "sales_ready"
ACCEPTED = "accepted"
REJECTED = "rejected"
DISQUALIFIED = "disqualified"
RECYCLED = "recycled"
EXCLUDED = "excluded"

STAGES = (NEW, REVIEW, NURTURE, SALES_READY, ACCEPTED, REJECTED, DISQUALIFIED, RECYCLED, EXCLUDED)
STICKY = frozenset({ACCEPTED, REJECTED, DISQUALIFIED})  # only sales activity moves these
_RANK = {
    EXCLUDED: 0, DISQUALIFIED: 0, REJECTED: 0,
    NEW: 1, REVIEW: 2, NURTURE: 3, RECYCLED: 3, SALES_READY: 4, ACCEPTED: 5,
}

# Triggers (the ``trigger`` of a ``StageChanged``):
#
# - ``exclusion``: a hard stop (competitor, student, existing customer, region) -> excluded.
# - ``review``: key firmographics are missing and the contact has signals -> review.
# - ``engaged``: the first signals of a contact that does not qualify yet: new -> nurture.
# - ``threshold``: the total reached the segment's ``enter`` (up to sales_ready) or fell below its
#   ``exit`` on a signal (down to nurture); ``threshold`` carries the value crossed.
# - ``instant``: a demo-request / contact-sales signal of a sales-grade contact -> sales_ready at
#   once, held there for ``instant_hold_days``.
# - ``requalified``: a re-qualification signal moved a nurture/recycled lead with total >= exit
#   back to sales_ready (``threshold`` = exit).
# - ``enrichment``: new firmographics (ContactProfiled / AccountProfiled) moved the stage: out of
#   review or excluded (or to new when it has no signals), up over ``enter``, or down (below
#   ``exit``, or the fit grade no longer allows sales).
# - ``decay``: the decaying total fell below ``exit`` on neither a signal nor firmographics
#   (reserved for the down-crossing timer's tick).
EXCLUSION = "exclusion"
REVIEW_TRIGGER = "review"
ENGAGED = "engaged"
THRESHOLD = "threshold"
INSTANT = "instant"
REQUALIFIED = "requalified"
ENRICHMENT = "enrichment"
DECAY = "decay"


@dataclass(frozen=True, slots=True)
class StageDecision:
    """The stage after an input; ``trigger`` is None when the stage did not change."""

    stage: str
    trigger: str | None
    threshold: float | None
    hold_until: int | None  # sales_ready may not decay out before this (instant triggers)


def direction(from_stage: str, to_stage: str) -> str:
    """up / down / lateral by stage rank (excluded < new < review < nurture < sales_ready)."""
    before, after = _RANK[from_stage], _RANK[to_stage]
    return "up" if after > before else "down" if after < before else "lateral"


def decide_stage(
    current: str,
    fit: FitAssessment,
    total: float,
    *,
    has_signals: bool,
    signal: str | None,
    signal_at: int | None,
    enrichment: bool,
    now_ms: int,
    hold_until: int | None,
    model: ScoringModel,
) -> StageDecision:
    """Decide the stage after one input, at event time ``now_ms``.

    ``signal``/``signal_at``: the signal this input observed (None for other inputs);
    ``enrichment``: the input brought firmographics (ContactProfiled / AccountProfiled).
    """

    # (no inner helpers: this runs once per input, and building closures costs more than it)
    if current in STICKY:
        return StageDecision(current, None, None, hold_until)
    if fit.exclusion is not None:
        return _move(current, EXCLUDED, EXCLUSION)
    if not has_signals:
        return _move(current, NEW, ENRICHMENT)
    if fit.review_reasons:
        return _move(current, REVIEW, REVIEW_TRIGGER)

    band = model.thresholds(fit.segment)
    eligible = fit.grade in model.sales_grades
    instant = eligible and signal_at is not None and signal in model.instant_triggers
    held = hold_until
    if instant and signal_at is not None:
        held = max(hold_until or signal_at, signal_at + model.instant_hold_ms)

    if current == SALES_READY:
        if not eligible:
            return _move(current, NURTURE, ENRICHMENT if enrichment else THRESHOLD)
        if total < band.exit and (held is None or now_ms >= held):
            trigger = THRESHOLD if signal else ENRICHMENT if enrichment else DECAY
            return _move(current, NURTURE, trigger, band.exit)
        return StageDecision(current, None, None, held)

    if eligible:
        if instant:
            return _move(current, SALES_READY, INSTANT, None, held)
        if total >= band.enter:
            return _move(current, SALES_READY, ENRICHMENT if enrichment else THRESHOLD,
                         band.enter)
        if signal in model.requalification_triggers and current in (NURTURE, RECYCLED) \
                and total >= band.exit:
            return _move(current, SALES_READY, REQUALIFIED, band.exit)
    if current in (NURTURE, RECYCLED):
        return StageDecision(current, None, None, None)
    return _move(current, NURTURE, ENRICHMENT if current in (REVIEW, EXCLUDED) else ENGAGED)


def _move(current: str, stage: str, trigger: str, threshold: float | None = None,
          hold: int | None = None) -> StageDecision:
    """A move to ``stage``; staying in ``current`` (with ``hold``) when it is already there."""
    if stage == current:
        return StageDecision(current, None, None, hold)
    return StageDecision(stage, trigger, threshold, hold)
