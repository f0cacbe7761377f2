"""Decay is exponential, additive in time and independent of the order events arrive."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from streams.core.decay import advance, contribution, decay_factor, decayed, observe

DAY = 86_400_000
HALF_LIVES = {"a": 7 * DAY, "b": 30 * DAY}
elapsed = st.integers(min_value=0, max_value=400 * DAY)
half_life = st.floats(min_value=1.0, max_value=1e12)


def test_half_life_halves() -> None:
    assert decay_factor(7 * DAY, 7 * DAY) == 0.5
    assert decay_factor(0, DAY) == 1.0
    assert decay_factor(-5, DAY) == 1.0  # no "advance" into the past
    assert decayed(8.0, 0, 3 * DAY, DAY) == 1.0
    assert contribution(10.0, 0, 14 * DAY, 7 * DAY) == 2.5


@given(elapsed, elapsed, half_life)
def test_decaying_t1_then_t2_equals_t1_plus_t2(t1: int, t2: int, h: float) -> None:
    assert math.isclose(decay_factor(t1, h) * decay_factor(t2, h), decay_factor(t1 + t2, h),
                        rel_tol=1e-9, abs_tol=1e-300)
    values = {"a": 12.0, "b": 3.5}
    step = advance(advance(values, 0, t1, HALF_LIVES.__getitem__), t1, t1 + t2,
                   HALF_LIVES.__getitem__)
    once = advance(values, 0, t1 + t2, HALF_LIVES.__getitem__)
    for key in values:
        assert math.isclose(step[key], once[key], rel_tol=1e-9, abs_tol=1e-9)


events = st.lists(st.tuples(st.sampled_from(["a", "b"]),
                            st.floats(min_value=-50, max_value=50),
                            st.integers(min_value=0, max_value=200 * DAY)),
                  min_size=1, max_size=20)


@given(events, st.randoms())
def test_observe_is_order_independent(evs: list[tuple[str, float, int]], rnd: object) -> None:
    def fold(seq: list[tuple[str, float, int]]) -> tuple[dict[str, float], int]:
        values: dict[str, float] = {}
        ref = 0
        for key, points, at in seq:
            values, ref = observe(values, ref, key, points, at, HALF_LIVES.__getitem__)
        return values, ref

    shuffled = list(evs)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    (one, ref1), (two, ref2) = fold(evs), fold(shuffled)
    assert ref1 == ref2 == max(at for _, _, at in evs)
    # the closed form: sum of points * 2 ** (-(ref - t) / h)
    for key in one:
        expected = sum(p * 2 ** (-(ref1 - at) / HALF_LIVES[key]) for k, p, at in evs if k == key)
        assert math.isclose(one[key], two[key], rel_tol=1e-9, abs_tol=1e-9)
        assert math.isclose(one[key], expected, rel_tol=1e-9, abs_tol=1e-9)
