"""When a sales-ready contact's decaying total will fall below its exit threshold."""

from __future__ import annotations

from collections.abc import Callable

from streams.core.contact_state import ContactState, fit_of, intent_value_at
from streams.core.decay import advance_pairs
from streams.core.model import ScoringModel
from streams.core.scoring import (
    INTENT_MAX,
    INTENT_MIN,
    NEGLIGIBLE,
    total_score,
)
from streams.core.thresholds import SALES_READY

HORIZON_HALF_LIVES = 64  # after this many of the longest half-lives every sum is ~0
SCAN_STEPS_PER_HALF_LIFE = 2  # scan granularity when negative signals make it non-monotone


def next_down_crossing(state: ContactState, model: ScoringModel) -> int | None:
    """The first epoch ms at which the total is below ``exit``, if nothing else happens.

    Only for sales_ready contacts, and never before ``hold_until``. Without negative signals
    the total decays monotonically, so a bisection to 1 ms is exact; negative signals decay
    too (pulling the total up), so then a scan finds the first interval that crosses.
    Returns None when the total never falls below ``exit``.
    """
    if state.stage != SALES_READY:
        return None
    fit = fit_of(state, model)
    exit_ = model.thresholds(fit.segment).exit
    start = max(state.ref_ms, state.hold_until or state.ref_ms)

    def below(at_ms: int) -> bool:
        intent = intent_value_at(state, at_ms, model)
        return total_score(fit.score, intent, model) < exit_

    if below(start):
        return start
    active = [model.signals[n] for n, v in state.signal_values
              if abs(v) > NEGLIGIBLE and n in model.signals]
    if not active:
        return None
    half_lives = [model.half_life_ms(rule.category) for rule in active]
    horizon = start + int(HORIZON_HALF_LIVES * max(half_lives)) + 1
    if any(rule.negative for rule in active):
        step = max(1, int(min(half_lives) / SCAN_STEPS_PER_HALF_LIFE))
        lo = start
        while lo < horizon:
            hi = min(lo + step, horizon)
            if below(hi):
                return _bisect(lo, hi, below)
            lo = hi
        return None
    return _bisect(start, horizon, below) if below(horizon) else None


def _bisect(lo: int, hi: int, below: Callable[[int], bool]) -> int:
    """Smallest t in (lo, hi] with below(t), given not below(lo) and below(hi)."""
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if below(mid):
            hi = mid
        else:
            lo = mid
    return hi


def may_cross_by(state: ContactState, until_ms: int, model: ScoringModel) -> bool:
    """False when a sales_ready contact's total provably stays at or above ``exit`` from its
    reference time (or ``hold_until``) to ``until_ms``, so no down-crossing is due by then.

    Every signal's decayed sum moves monotonically towards zero and its cap is monotone, so
    each capped contribution is lowest at one end of the interval: the sum of those lows
    bounds the total from below. Cheap (two readings), where the crossing search is not.
    """
    if state.stage != SALES_READY:
        return False
    start = max(state.ref_ms, state.hold_until or state.ref_ms)
    if until_ms < start:
        return False
    values = state.signal_values  # sorted by name, as the sum below needs
    at_end = advance_pairs(values, state.ref_ms, until_ms, model.signal_half_lives,
                           model.half_life_set)
    get = model.signal_clamps.get
    lows: list[float] = []
    for (name, start_value), (_, end_value) in zip(values, at_end, strict=True):
        entry = get(name)
        if entry is None:
            continue
        cap, negative = entry[0], entry[1]
        if negative:  # as capped_contributions
            at_start = cap if cap > start_value else start_value
            at_until = cap if cap > end_value else end_value
        else:
            at_start = cap if cap < start_value else start_value
            at_until = cap if cap < end_value else end_value
        lows.append(min(at_start, at_until))
    lowest = sum(lows)
    intent = min(INTENT_MAX, max(INTENT_MIN, lowest))
    fit = fit_of(state, model)
    return total_score(fit.score, intent, model) < model.thresholds(fit.segment).exit
