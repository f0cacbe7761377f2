"""Hypothesis properties of the account rollup: order-free score, one event per crossing."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from streams.config import DEFAULT_MODEL_PATH
from streams.core.account import (
    AccountStageChanged,
    account_snapshot,
    apply_account,
    recompute_accounts,
)
from streams.core.account_events import AccountInput, MemberContributed, ThirdPartyIntent
from streams.core.contact_state import half_life_of
from streams.core.decay import observe
from streams.core.events import Origin
from streams.core.model import parse_model
from streams.core.scoring import intent_score

MODEL = parse_model(DEFAULT_MODEL_PATH.read_text(encoding="utf-8"))
DAY = 86_400_000
T0 = 1_800_000_000_000
SIGNALS = sorted(MODEL.known_signals)
PERSONAS = ["decision_maker", "champion", "technical_evaluator", "end_user", None]

times = st.integers(T0, T0 + 60 * DAY)
member_histories = st.dictionaries(
    st.sampled_from(["c1", "c2", "c3", "c4"]),
    st.tuples(st.sampled_from(PERSONAS),
              st.lists(st.tuples(st.sampled_from(SIGNALS), times), min_size=1, max_size=6)),
    max_size=4,
)
surges = st.lists(
    st.tuples(st.sampled_from(["crm", "dbt", "ai"]), st.integers(0, 100), times), max_size=5
)


def contributions(contact: str, persona: str | None,
                  signals: list[tuple[str, int]]) -> list[MemberContributed]:
    """What the contact core would send after each signal: its folded values, version k."""
    values: dict[str, float] = {}
    ref_ms, engaged_at, out = 0, None, []
    for version, (name, at) in enumerate(signals, start=1):
        values, ref_ms = observe(values, ref_ms, name, MODEL.signals[name].points, at,
                                 half_life_of(MODEL))
        if MODEL.signals[name].points > 0:
            engaged_at = max(engaged_at or at, at)
        out.append(MemberContributed(f"mc-{contact}-{version}", at, contact, version, ref_ms,
                                     tuple(sorted(values.items())), persona, None, engaged_at,
                                     "nurture"))
    return out


def from_scratch(history: dict[str, tuple[str | None, list[tuple[str, int]]]],
                 topics: list[tuple[str, int, int]], at_ms: int) -> float:
    """Each member's intent from all its signals, plus the third-party part, at ``at_ms``."""
    rules = MODEL.account
    members = 0.0
    for _persona, signals in history.values():
        values: dict[str, float] = {}
        for name, at in signals:
            half_life = MODEL.signal_half_life_ms(name)
            values[name] = values.get(name, 0.0) + MODEL.signals[name].points * 2.0 ** (
                -(at_ms - at) / half_life)
        members += intent_score(values, MODEL).intent
    strength: dict[str, float] = {}
    for topic, points, at in topics:
        strength[topic] = strength.get(topic, 0.0) + points * 2.0 ** (
            -(at_ms - at) / MODEL.half_life_ms("third_party"))
    third = min(rules.third_party_cap,
                rules.third_party_weight * sum(min(100.0, s) for s in strength.values()))
    return min(rules.score_cap, rules.member_weight * members + third)


def inputs_of(history: dict[str, tuple[str | None, list[tuple[str, int]]]],
              topics: list[tuple[str, int, int]]) -> list[AccountInput]:
    payloads: list[MemberContributed | ThirdPartyIntent] = [
        c for contact, (persona, signals) in history.items()
        for c in contributions(contact, persona, signals)
    ]
    payloads += [ThirdPartyIntent(f"s{i}", at, topic, points, "bombora")
                 for i, (topic, points, at) in enumerate(topics)]
    return [AccountInput("acme.com", p) for p in payloads]


@settings(max_examples=150, deadline=None)
@given(member_histories, surges, st.data())
def test_score_is_the_sum_of_members_from_scratch_plus_third_party_in_any_order(
    history: dict[str, tuple[str | None, list[tuple[str, int]]]],
    topics: list[tuple[str, int, int]],
    data: st.DataObject,
) -> None:
    inputs = inputs_of(history, topics)
    if not inputs:
        return
    shuffled = data.draw(st.permutations(inputs))
    at_ms = max(max(at for _, signals in history.values() for _, at in signals)
                if history else 0, max((at for *_, at in topics), default=0))
    expected = from_scratch(history, topics, at_ms)
    snapshots = [account_snapshot(recompute_accounts(order, MODEL)["acme.com"], MODEL)
                 for order in (inputs, shuffled, list(reversed(inputs)))]
    for snapshot in snapshots:
        assert math.isclose(snapshot.score, expected, rel_tol=1e-9, abs_tol=1e-9)
        assert snapshot.committee_size == snapshots[0].committee_size
        assert snapshot.committee_personas == snapshots[0].committee_personas


@settings(max_examples=150, deadline=None)
@given(member_histories, surges, st.data())
def test_stage_events_chain_one_per_crossing_and_redelivery_is_silent(
    history: dict[str, tuple[str | None, list[tuple[str, int]]]],
    topics: list[tuple[str, int, int]],
    data: st.DataObject,
) -> None:
    inputs = data.draw(st.permutations(inputs_of(history, topics)))
    delivered = [AccountInput(i.domain, i.payload, Origin("account-inputs", 0, n))
                 for n, i in enumerate(inputs)]
    state, events = None, []
    for inp in delivered:
        state, effects = apply_account(state, inp, MODEL)
        events += [e for e in effects if isinstance(e, AccountStageChanged)]
    stage = "none"
    for event in events:
        assert event.from_stage == stage and event.to_stage != stage
        stage = event.to_stage
    assert state is None or state.stage == stage
    assert len({e.event_id for e in events}) == len(events)
    for inp in delivered:  # a replay of the same offsets changes nothing
        again, effects = apply_account(state, inp, MODEL)
        assert again is state and effects == []
