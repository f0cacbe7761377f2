"""Routing examples: owner, territory round robin, fallback, unassigned, re-delivery, closing."""

from __future__ import annotations

from dataclasses import replace

from streams.core.ids import derive_id
from streams.core.routing import (
    RECENT_LIMIT,
    AssignmentClosed,
    LeadRouted,
    RouteRequested,
    RouterState,
    RoutingFailed,
    apply_roster,
    close,
    route,
)
from streams.core.routing_rules import RoutingRules
from streams.core.sales_events import RepProfile

MONDAY_NOON = 1_710_158_400_000  # 2024-03-11 12:00 UTC
SUNDAY_NOON = MONDAY_NOON - 86_400_000
RULES = RoutingRules()
ALWAYS = RoutingRules(respect_working_hours=False)


def rep(rep_id: str, *, pools: tuple[str, ...] = (), territories: tuple[str, ...] = ("NA:smb",),
        **fields: object) -> RepProfile:
    base = RepProfile(f"e-{rep_id}", 1, rep_id, True, pools, territories)
    return replace(base, **fields)  # type: ignore[arg-type]


def roster(*reps: RepProfile) -> RouterState:
    state = RouterState()
    for r in reps:
        state = apply_roster(state, r)
    return state


def request(n: int | str, *, owner: str | None = None, pool: str = "NA:smb",
            excluded: tuple[str, ...] = ()) -> RouteRequested:
    return RouteRequested(f"req-{n}", MONDAY_NOON, f"c-{n}", "acc-1", owner, pool,
                          "form.demo_request", "p1", f"cause-{n}", excluded)


def routed(state: RouterState, req: RouteRequested, now: int = MONDAY_NOON,
           rules: RoutingRules = RULES) -> tuple[RouterState, LeadRouted]:
    state, effects = route(state, req, now, rules)
    assert isinstance(effects[0], LeadRouted)
    return state, effects[0]


def test_the_owner_gets_the_account() -> None:
    state = roster(rep("owner", territories=(), manager_rep_id="boss"), rep("a"))
    state, lead = routed(state, request(1, owner="owner"))
    assert (lead.rep_id, lead.rule, lead.pool, lead.manager_rep_id) == (
        "owner", "account_owner", "NA:smb", "boss")
    assert lead.assignment_id == derive_id("assignment", "req-1")
    assert lead.event_id == derive_id("routed", "req-1")
    assert (lead.contact_id, lead.account_id, lead.priority, lead.trigger, lead.caused_by,
            lead.occurred_at) == ("c-1", "acc-1", "p1", "form.demo_request", "cause-1",
                                  MONDAY_NOON)
    assert state.open_ids("owner") == (lead.assignment_id,)


def test_an_unavailable_owner_falls_through_to_the_territory() -> None:
    cases = {
        "inactive": (roster(rep("owner", active=False), rep("a")), request(1, owner="owner")),
        "at capacity": (roster(rep("owner", max_open=0), rep("a")), request(1, owner="owner")),
        "excluded": (roster(rep("owner"), rep("a")),
                     request(1, owner="owner", excluded=("owner",))),
        "not in this roster": (roster(rep("a")), request(1, owner="owner")),
        "off hours": (roster(rep("owner", timezone="Asia/Tokyo"), rep("a")),
                      request(1, owner="owner")),  # 21:00 in Tokyo
    }
    for name, (state, req) in cases.items():
        _, lead = routed(state, req)
        assert (lead.rep_id, lead.rule) == ("a", "territory_round_robin"), name


def test_working_hours_can_be_ignored() -> None:
    state = roster(rep("a"))
    _, lead = routed(state, request(1), now=SUNDAY_NOON, rules=ALWAYS)
    assert lead.rep_id == "a"
    state, effects = route(state, request(1), SUNDAY_NOON, RULES)
    assert [type(e) for e in effects] == [LeadRouted, RoutingFailed]


def test_pools_and_territories_both_count_for_the_territory_step() -> None:
    state = roster(rep("t"), rep("p", territories=(), pools=("NA:smb",)), rep("x", territories=()))
    chosen = set()
    for n in range(4):
        state, lead = routed(state, request(n))
        chosen.add(lead.rep_id)
    assert chosen == {"t", "p"}


def test_smooth_weighted_round_robin_follows_nginx() -> None:
    state = roster(rep("a", weight=5), rep("b"), rep("c"))
    picks = []
    for n in range(14):
        state, lead = routed(state, request(n))
        picks.append(lead.rep_id)
    assert picks == ["a", "a", "b", "a", "c", "a", "a"] * 2


def test_the_fallback_pool_then_nobody() -> None:
    state = roster(rep("f", territories=(), pools=("fallback",), max_open=1))
    state, lead = routed(state, request(1))
    assert (lead.rep_id, lead.rule, lead.pool) == ("f", "fallback", "fallback")
    state, effects = route(state, request(2), MONDAY_NOON, RULES)
    lead, failed = effects
    assert isinstance(lead, LeadRouted) and isinstance(failed, RoutingFailed)
    assert (lead.rep_id, lead.rule, lead.pool, lead.manager_rep_id) == (
        None, "unassigned", "NA:smb", None)
    assert (failed.reason, failed.pool, failed.assignment_id) == (
        "no_rep_available", "NA:smb", lead.assignment_id)
    assert failed.event_id == derive_id("routing_failed", "req-2")
    assert state.load("f") == 1


def test_a_redelivered_request_re_emits_the_same_assignment() -> None:
    state = roster(rep("a"), rep("b"))
    state, first = route(state, request(1), MONDAY_NOON, RULES)
    again_state, again = route(state, request(1), MONDAY_NOON + 60_000, RULES)
    assert again == first and again_state == state
    empty = RouterState()
    empty, failed = route(empty, request(9), MONDAY_NOON, RULES)
    assert route(empty, request(9), MONDAY_NOON + 1, RULES) == (empty, failed)


def test_closing_frees_a_slot_once() -> None:
    state = roster(rep("a", max_open=1))
    state, lead = routed(state, request(1))
    assert route(state, request(2), MONDAY_NOON, RULES)[1][0].rep_id is None  # type: ignore[union-attr]
    closed = AssignmentClosed("x-1", MONDAY_NOON, lead.assignment_id, "a")
    freed = close(state, closed)
    assert freed.load("a") == 0 and close(freed, closed) == freed
    assert close(state, replace(closed, assignment_id="unknown")) == state
    _, again = routed(freed, request(3))
    assert again.rep_id == "a"


def test_the_latest_roster_record_wins() -> None:
    newer = rep("a", active=False, occurred_at=5)
    state = apply_roster(apply_roster(RouterState(), newer), rep("a", occurred_at=4))
    assert state.rep("a") == newer
    state = apply_roster(state, replace(newer, event_id="e-z", active=True))
    assert state.rep("a") is not None and state.rep("a").active  # type: ignore[union-attr]
    assert [r.rep_id for r in roster(rep("b"), rep("a")).roster] == ["a", "b"]


def test_recent_is_bounded() -> None:
    state = roster(rep("a", max_open=10**9))
    for n in range(RECENT_LIMIT + 5):
        state, _ = route(state, request(n), MONDAY_NOON, RULES)
    assert len(state.recent) == RECENT_LIMIT
    assert state.routed("req-0") is None and state.routed(f"req-{RECENT_LIMIT + 4}") is not None
