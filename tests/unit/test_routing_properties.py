"""Hypothesis properties of routing: capacity, weights, availability, owners, re-delivery."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from streams.core.routing import (
    AssignmentClosed,
    LeadRouted,
    RouteRequested,
    RouterState,
    RoutingEffect,
    apply_roster,
    close,
    route,
)
from streams.core.routing_rules import RoutingRules
from streams.core.sales_events import RepProfile
from streams.core.working_hours import is_working

MONDAY = 1_710_115_200_000  # 2024-03-11 00:00 UTC
WEEK = 7 * 86_400_000
POOLS = ["NA:smb", "EMEA:smb", "fallback"]
REP_IDS = ["r0", "r1", "r2", "r3", "r4", "r5"]
ZONES = ["UTC", "America/New_York", "Asia/Tokyo", "Europe/Berlin"]
RULES = [RoutingRules(), RoutingRules(respect_working_hours=False)]

reps = st.builds(
    RepProfile,
    event_id=st.sampled_from(["e-a", "e-b"]),
    occurred_at=st.integers(0, 3),
    rep_id=st.sampled_from(REP_IDS),
    active=st.sampled_from([True, True, True, False]),
    pools=st.lists(st.sampled_from(POOLS), max_size=2).map(tuple),
    territories=st.lists(st.sampled_from(POOLS), min_size=1, max_size=2).map(tuple),
    weight=st.integers(0, 5),
    max_open=st.integers(0, 4),
    work_start_minute=st.integers(0, 600),
    work_end_minute=st.integers(600, 1440),
    work_days=st.lists(st.integers(1, 7), min_size=3, max_size=7, unique=True).map(tuple),
    timezone=st.sampled_from(ZONES),
    manager_rep_id=st.none() | st.just("boss"),
)
requests = st.builds(
    RouteRequested,
    event_id=st.integers(0, 40).map(lambda n: f"req-{n}"),  # repeats are re-deliveries
    occurred_at=st.just(MONDAY),
    contact_id=st.just("c"),
    account_id=st.none() | st.just("acc"),
    owner_rep_id=st.none() | st.sampled_from(REP_IDS),
    pool=st.sampled_from(POOLS),
    trigger=st.just("sales_ready"),
    priority=st.sampled_from(["p1", "p2", "p3"]),
    caused_by=st.just("cause"),
    excluded_reps=st.lists(st.sampled_from(REP_IDS), max_size=2).map(tuple),
)
now = st.integers(MONDAY, MONDAY + WEEK)
# A step: route a request, close one of the open assignments (by index), or update the roster.
steps = st.one_of(
    st.tuples(st.just("route"), requests, now),
    st.tuples(st.just("close"), st.integers(0, 50), st.just(0)),
    st.tuples(st.just("roster"), reps, st.just(0)),
)


def available(state: RouterState, rep: RepProfile, req: RouteRequested, at: int,
              rules: RoutingRules) -> bool:
    return (rep.active and rep.rep_id not in req.excluded_reps
            and state.load(rep.rep_id) < rep.max_open
            and (not rules.respect_working_hours or is_working(rep, at)))


def lead_of(effects: list[RoutingEffect]) -> LeadRouted:
    lead = effects[0]
    assert isinstance(lead, LeadRouted)
    return lead


@settings(max_examples=300, deadline=None)
@given(st.lists(reps, max_size=6), st.lists(steps, max_size=60), st.sampled_from(RULES))
def test_capacity_availability_and_redelivery_hold_over_any_sequence(
    roster: list[RepProfile], sequence: list[tuple[str, object, int]], rules: RoutingRules
) -> None:
    state = RouterState()
    for rep in roster:
        state = apply_roster(state, rep)
    first: dict[str, list[RoutingEffect]] = {}
    previous: dict[str, int] = {}
    for kind, item, at in sequence:
        if kind == "roster":
            assert isinstance(item, RepProfile)
            state = apply_roster(state, item)
        elif kind == "close":
            assert isinstance(item, int)
            held = [(rep_id, i) for rep_id, ids in state.open for i in ids]
            if held:
                rep_id, assignment = held[item % len(held)]
                state = close(state, AssignmentClosed("x", 0, assignment, rep_id))
        else:
            assert isinstance(item, RouteRequested)
            before = state
            state, effects = route(state, item, at, rules)
            lead = lead_of(effects)
            if item.event_id in first:  # re-delivered: same effects, nothing new assigned
                assert effects == first[item.event_id] and state == before
            else:
                first[item.event_id] = effects
                if lead.rep_id is None:  # nobody eligible was available
                    eligible = [r for r in before.roster if r.rep_id == item.owner_rep_id or (
                        r.weight > 0 and {item.pool, rules.fallback_pool} & {
                            *r.pools, *r.territories})]
                    assert not any(available(before, r, item, at, rules) for r in eligible)
                else:
                    chosen = before.rep(lead.rep_id)
                    assert chosen is not None and available(before, chosen, item, at, rules)
        for rep in state.roster:
            # Routing never adds to a rep at max_open (a roster update may lower max_open
            # below the current load; that load then only shrinks).
            assert state.load(rep.rep_id) <= rep.max_open or (
                state.load(rep.rep_id) <= previous.get(rep.rep_id, 0))
        previous = {rep.rep_id: state.load(rep.rep_id) for rep in state.roster}
        assert all(len(ids) == len(set(ids)) for _, ids in state.open)


@settings(max_examples=200, deadline=None)
@given(st.lists(reps, max_size=6), st.lists(st.tuples(requests, now, st.booleans()),
                                            max_size=80), st.sampled_from(RULES))
def test_no_rep_ever_exceeds_max_open(
    roster: list[RepProfile], sequence: list[tuple[RouteRequested, int, bool]],
    rules: RoutingRules
) -> None:
    state = RouterState()
    for rep in roster:
        state = apply_roster(state, rep)
    for req, at, close_oldest in sequence:
        state, _ = route(state, req, at, rules)
        if close_oldest and state.open:
            rep_id, ids = state.open[0]
            state = close(state, AssignmentClosed("x", 0, ids[0], rep_id))
        for rep in state.roster:
            assert state.load(rep.rep_id) <= rep.max_open


@settings(max_examples=10, deadline=None)
@given(st.lists(st.integers(1, 10), min_size=1, max_size=8))
def test_smooth_wrr_matches_the_weights_over_10000_assignments(weights: list[int]) -> None:
    state = RouterState()
    for n, weight in enumerate(weights):
        state = apply_roster(state, RepProfile(f"e{n}", 0, f"r{n}", True, ("NA:smb",), (),
                                               weight=weight, max_open=10**9))
    counts: Counter[str | None] = Counter()
    rules = RoutingRules(respect_working_hours=False)
    for n in range(10_000):
        req = RouteRequested(f"req-{n}", 0, "c", None, None, "NA:smb", "t", "p2", "x")
        state, effects = route(state, req, MONDAY, rules)
        counts[lead_of(effects).rep_id] += 1
    total = sum(weights)
    for n, weight in enumerate(weights):
        expected = 10_000 * weight / total
        assert abs(counts[f"r{n}"] - expected) <= 0.05 * expected


@settings(max_examples=300, deadline=None)
@given(st.lists(reps, max_size=6), requests, now, st.sampled_from(RULES))
def test_an_unavailable_rep_is_never_chosen(
    roster: list[RepProfile], req: RouteRequested, at: int, rules: RoutingRules
) -> None:
    state = RouterState()
    for rep in roster:
        state = apply_roster(state, rep)
    unavailable = {r.rep_id for r in state.roster if not available(state, r, req, at, rules)}
    _, effects = route(state, req, at, rules)
    assert lead_of(effects).rep_id not in unavailable


@settings(max_examples=300, deadline=None)
@given(st.lists(reps, max_size=6), requests, now, st.sampled_from(RULES))
def test_the_owner_gets_the_account_while_available(
    roster: list[RepProfile], req: RouteRequested, at: int, rules: RoutingRules
) -> None:
    state = RouterState()
    for rep in roster:
        state = apply_roster(state, rep)
    owner = state.rep(req.owner_rep_id) if req.owner_rep_id else None
    _, effects = route(state, req, at, rules)
    lead = lead_of(effects)
    if owner is not None and available(state, owner, req, at, rules):
        assert (lead.rep_id, lead.rule) == (owner.rep_id, "account_owner")
    else:
        assert lead.rule != "account_owner"
    # The owner keeps getting their account's leads until full.
    if owner is not None and owner.active and owner.max_open > 0:
        always = RoutingRules(respect_working_hours=False)
        state = RouterState(roster=state.roster)
        for n in range(owner.max_open + 1):
            asked = RouteRequested(f"o-{n}", at, "c", "acc", owner.rep_id, req.pool, "t", "p1",
                                   "x")
            state, effects = route(state, asked, at, always)
            assert (lead_of(effects).rep_id == owner.rep_id) is (n < owner.max_open)


@settings(max_examples=200, deadline=None)
@given(st.lists(reps, min_size=1, max_size=6), st.lists(st.tuples(requests, now), min_size=1,
                                                        max_size=30), st.data())
def test_a_redelivered_request_changes_no_load(
    roster: list[RepProfile], sequence: list[tuple[RouteRequested, int]], data: st.DataObject
) -> None:
    state = RouterState()
    for rep in roster:
        state = apply_roster(state, rep)
    emitted: dict[str, list[RoutingEffect]] = {}
    for req, at in sequence:
        state, effects = route(state, req, at, RULES[0])
        emitted.setdefault(req.event_id, effects)
    again, at = data.draw(st.sampled_from(sequence))
    later = data.draw(st.integers(at, at + WEEK))
    redelivered_state, effects = route(state, again, later, RULES[1])
    assert redelivered_state == state
    assert effects == emitted[again.event_id]
