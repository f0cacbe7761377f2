"""Exponential decay in event time: values are kept at one reference time and decayed lazily."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping


def decay_factor(elapsed_ms: float, half_life_ms: float) -> float:
    """``2 ** (-elapsed / half_life)``; no elapsed time (or negative) decays nothing."""
    if elapsed_ms <= 0:
        return 1.0
    return float(2.0 ** (-elapsed_ms / half_life_ms))


def decayed(value: float, from_ms: int, to_ms: int, half_life_ms: float) -> float:
    """``value`` observed at ``from_ms``, as seen at ``to_ms`` (never grows when to < from)."""
    return value * decay_factor(to_ms - from_ms, half_life_ms)


def contribution(points: float, at_ms: int, ref_ms: int, half_life_ms: float) -> float:
    """What ``points`` observed at ``at_ms <= ref_ms`` are worth at the reference time."""
    return points * decay_factor(ref_ms - at_ms, half_life_ms)


def advance(
    values: Mapping[str, float],
    from_ms: int,
    to_ms: int,
    half_life_of: Callable[[str], float],
) -> dict[str, float]:
    """Move every value kept at ``from_ms`` to the later reference time ``to_ms``."""
    if to_ms <= from_ms:
        return dict(values)
    elapsed = to_ms - from_ms
    factors: dict[float, float] = {}  # signals share a few half-lives: one power each
    moved: dict[str, float] = {}
    for key, value in values.items():
        half_life = half_life_of(key)
        factor = factors.get(half_life)
        if factor is None:
            factor = factors[half_life] = decay_factor(elapsed, half_life)
        moved[key] = value * factor
    return moved


def observe(
    values: Mapping[str, float],
    ref_ms: int,
    key: str,
    points: float,
    at_ms: int,
    half_life_of: Callable[[str], float],
) -> tuple[dict[str, float], int]:
    """Add ``points`` of ``key`` observed at ``at_ms``; return (values, new reference time).

    A later event first advances everything to its time; an earlier (late) one adds its
    already-decayed contribution. Either way the values equal
    ``sum(points_i * 2 ** (-(ref - t_i) / h))``, so the arrival order does not matter.
    """
    new_ref = max(ref_ms, at_ms)
    moved = advance(values, ref_ms, new_ref, half_life_of)
    moved[key] = moved.get(key, 0.0) + contribution(points, at_ms, new_ref, half_life_of(key))
    return moved, new_ref


# -- the hot path: sums kept as name-sorted (name, value) pairs, as ``ContactState`` holds them

Pairs = tuple[tuple[str, float], ...]


def advance_pairs(pairs: Pairs, from_ms: int, to_ms: int, half_lives: Mapping[str, float],
                  distinct: Iterable[float], unknown: float = 1.0) -> Pairs:
    """``advance`` on sorted pairs, returning sorted pairs (the same floats, no dict).

    ``distinct`` holds every value of ``half_lives`` and ``unknown``: one power each."""
    if to_ms <= from_ms:
        return pairs
    elapsed = to_ms - from_ms
    factors = {half_life: decay_factor(elapsed, half_life) for half_life in distinct}
    get = half_lives.get
    return tuple([(key, value * factors[get(key, unknown)]) for key, value in pairs])


def observe_pairs(pairs: Pairs, ref_ms: int, key: str, points: float, at_ms: int,
                  half_lives: Mapping[str, float], distinct: Iterable[float],
                  unknown: float = 1.0) -> tuple[Pairs, int]:
    """``observe`` on sorted pairs: ``(sorted pairs, new reference time)``, the same floats."""
    new_ref = ref_ms if ref_ms >= at_ms else at_ms
    moved = advance_pairs(pairs, ref_ms, new_ref, half_lives, distinct, unknown)
    added = contribution(points, at_ms, new_ref, half_lives.get(key, unknown))
    for i, (name, value) in enumerate(moved):
        if name == key:
            return (*moved[:i], (key, value + added), *moved[i + 1:]), new_ref
        if name > key:
            return (*moved[:i], (key, 0.0 + added), *moved[i:]), new_ref
    return (*moved, (key, 0.0 + added)), new_ref
