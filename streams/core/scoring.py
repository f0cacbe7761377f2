"""Intent and total scores from decayed signal sums; caps apply at read time."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from streams.core.effects import Reason
from streams.core.model import ScoringModel

INTENT_MIN, INTENT_MAX = 0.0, 100.0
TOP_REASONS = 5
NEGLIGIBLE = 1e-6  # a contribution decayed below this explains nothing


@dataclass(frozen=True, slots=True)
class IntentScore:
    """Intent (clamped to 0..100) and how it splits into categories and signals."""

    intent: float
    by_category: tuple[tuple[str, float], ...]  # sorted by category
    contributions: tuple[tuple[str, float], ...]  # capped points per signal, sorted by signal


def capped_contributions(values: Mapping[str, float], model: ScoringModel) -> dict[str, float]:
    """Each scored signal's decayed sum clamped by its cap (or floor, if negative).

    Capping the decayed sum (rather than each event) keeps the result independent of the
    order in which events arrive. Signals the model does not know contribute nothing.
    """
    clamps = model.signal_clamps
    capped: dict[str, float] = {}
    for name, value in values.items():
        entry = clamps.get(name)
        if entry is not None:
            cap, negative, _ = entry
            # exactly SignalRule.clamp: max(value, cap) if negative else min(value, cap)
            if negative:
                capped[name] = cap if cap > value else value
            else:
                capped[name] = cap if cap < value else value
    return capped


def intent_value(values: Mapping[str, float], model: ScoringModel) -> float:
    """``intent_score(values, model).intent`` without the breakdown (the hot path)."""
    capped = capped_contributions(values, model)
    raw = sum([capped[name] for name in sorted(capped)])  # fixed summation order
    return min(INTENT_MAX, max(INTENT_MIN, raw))


def intent_of_pairs(pairs: Iterable[tuple[str, float]], model: ScoringModel) -> float:
    """``intent_value`` of name-sorted (signal, value) pairs (``ContactState.signal_values``):
    the same floats summed in the same order, without building dicts (the hot path)."""
    get = model.signal_clamps.get
    points = [(cap if cap > value else value) if negative else (cap if cap < value else value)
              for name, value in pairs if (entry := get(name)) is not None
              for cap, negative, _ in (entry,)]
    raw = sum(points)  # name order, as intent_value's sorted(capped)
    return min(INTENT_MAX, max(INTENT_MIN, raw))


def intent_score(values: Mapping[str, float], model: ScoringModel) -> IntentScore:
    """Sum the capped contributions, per category and in total (clamped to 0..100)."""
    clamps = model.signal_clamps
    capped = capped_contributions(values, model)
    by_category: dict[str, float] = {}
    for name, points in capped.items():  # in the order of ``values``, as ever
        category = clamps[name][2]
        by_category[category] = by_category.get(category, 0.0) + points
    contributions = tuple(sorted(capped.items()))
    raw = sum([points for _, points in contributions])  # fixed summation order
    return IntentScore(
        intent=min(INTENT_MAX, max(INTENT_MIN, raw)),
        by_category=tuple(sorted(by_category.items())),
        contributions=contributions,
    )


def total_score(fit: float, intent: float, model: ScoringModel) -> float:
    """``fit_weight * fit + intent_weight * intent``."""
    return model.fit_weight * fit + model.intent_weight * intent


def top_reasons(
    values: Mapping[str, float],
    counts: Mapping[str, int],
    model: ScoringModel,
    limit: int = TOP_REASONS,
) -> tuple[Reason, ...]:
    """The ``limit`` largest positive contributions (ties by signal name), then the negatives.

    Negative contributions (most negative first, at most ``limit``) follow the positive ones,
    so an explanation also says what held a lead back. Negligible contributions are left out.
    """
    capped = capped_contributions(values, model)

    def reason(name: str) -> Reason:
        return Reason(name, model.signals[name].category, capped[name], counts.get(name, 0))

    positive = sorted(
        (n for n, p in capped.items() if p > NEGLIGIBLE), key=lambda n: (-capped[n], n)
    )
    negative = sorted(
        (n for n, p in capped.items() if p < -NEGLIGIBLE), key=lambda n: (capped[n], n)
    )
    return tuple(reason(n) for n in positive[:limit]) + tuple(reason(n) for n in negative[:limit])
