"""Lead routing: account owner, then territory weighted round robin, then fallback, else alert."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from streams.core.ids import derive_id
from streams.core.routing_rules import RoutingRules
from streams.core.sales_events import RepProfile
from streams.core.working_hours import is_working

RECENT_LIMIT = 1024  # routed trigger ids remembered for re-delivery (per router state)
NO_REP_AVAILABLE = "no_rep_available"


@dataclass(frozen=True, slots=True)
class RouteRequested:
    """A lead to hand to a rep (instant trigger, sales-ready, account-qualified, reassignment)."""

    event_id: str
    occurred_at: int
    contact_id: str
    account_id: str | None
    owner_rep_id: str | None  # the account owner, tried first
    pool: str  # the territory pool (region x segment), e.g. "NA:mid_market"
    trigger: str
    priority: str  # p1 | p2 | p3
    caused_by: str
    excluded_reps: tuple[str, ...] = ()  # e.g. the rep whose SLA breached, on reassignment


@dataclass(frozen=True, slots=True)
class AssignmentClosed:
    """An assignment left the rep's open load (accepted, rejected, disqualified, recycled or
    reassigned): it frees one slot. Closing twice is a no-op."""

    event_id: str
    occurred_at: int
    assignment_id: str
    rep_id: str


@dataclass(frozen=True, slots=True)
class LeadRouted:
    """A lead was assigned to a rep (or left unassigned, rep_id None, rule ``unassigned``)."""

    assignment_id: str  # derive_id("assignment", trigger event id)
    event_id: str  # derive_id("routed", trigger event id)
    contact_id: str
    account_id: str | None
    rep_id: str | None
    pool: str  # the pool the rep was taken from (the request's pool for owner / unassigned)
    rule: str  # account_owner | territory_round_robin | fallback | unassigned
    priority: str
    trigger: str
    caused_by: str
    occurred_at: int  # when it was routed (wall clock)
    manager_rep_id: str | None


@dataclass(frozen=True, slots=True)
class RoutingFailed:
    """Nobody could take a lead: the shell alerts; the assignment stays unassigned."""

    event_id: str  # derive_id("routing_failed", trigger event id)
    assignment_id: str
    contact_id: str
    account_id: str | None
    pool: str
    reason: str  # no_rep_available
    priority: str
    trigger: str
    caused_by: str
    occurred_at: int


RoutingEffect = LeadRouted | RoutingFailed


@dataclass(frozen=True, slots=True)
class RouterState:
    """The reps one router key may assign, their open load and round-robin position.

    It is the single writer of those reps' load, so capacity holds within one state.
    """

    roster: tuple[RepProfile, ...] = ()  # by rep_id
    open: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (rep_id, open assignment ids), by rep
    current: tuple[tuple[str, tuple[tuple[str, int], ...]], ...] = ()  # pool -> (rep, weight)
    recent: tuple[LeadRouted, ...] = ()  # oldest first, at most RECENT_LIMIT

    def rep(self, rep_id: str) -> RepProfile | None:
        return next((rep for rep in self.roster if rep.rep_id == rep_id), None)

    def open_ids(self, rep_id: str) -> tuple[str, ...]:
        return next((ids for rid, ids in self.open if rid == rep_id), ())

    def load(self, rep_id: str) -> int:
        return len(self.open_ids(rep_id))

    def routed(self, trigger_event_id: str) -> LeadRouted | None:
        """The assignment already made for a trigger event, if still remembered."""
        assignment_id = derive_id("assignment", trigger_event_id)
        return next((r for r in self.recent if r.assignment_id == assignment_id), None)


def apply_roster(state: RouterState, rep: RepProfile) -> RouterState:
    """Record a roster update; the latest (occurred_at, event_id) per rep wins."""
    known = state.rep(rep.rep_id)
    if known is not None and (known.occurred_at, known.event_id) >= (rep.occurred_at,
                                                                       rep.event_id):
        return state
    others = tuple(r for r in state.roster if r.rep_id != rep.rep_id)
    return replace(state, roster=tuple(sorted((*others, rep), key=lambda r: r.rep_id)))


def close(state: RouterState, closed: AssignmentClosed) -> RouterState:
    """Free the slot of a closed assignment (idempotent; found by id whatever rep holds it)."""
    if not any(closed.assignment_id in ids for _, ids in state.open):
        return state
    remaining = ((rep_id, tuple(i for i in ids if i != closed.assignment_id))
                 for rep_id, ids in state.open)
    return replace(state, open=tuple((rep_id, ids) for rep_id, ids in remaining if ids))


def _in_pool(rep: RepProfile, pool: str) -> bool:
    return pool in rep.territories or pool in rep.pools


def _available(
    rep: RepProfile, state: RouterState, req: RouteRequested, now_ms: int, rules: RoutingRules
) -> bool:
    """Active, not excluded, under max_open and (if required) inside working hours."""
    return (rep.active and rep.rep_id not in req.excluded_reps
            and state.load(rep.rep_id) < rep.max_open
            and (not rules.respect_working_hours or is_working(rep, now_ms)))


def _pick_weighted(
    state: RouterState, pool: str, candidates: list[RepProfile]
) -> tuple[RouterState, RepProfile | None]:
    """nginx smooth weighted round robin over ``candidates`` with the pool's current weights."""
    candidates = sorted((r for r in candidates if r.weight > 0), key=lambda r: r.rep_id)
    if not candidates:
        return state, None
    pools: dict[str, tuple[tuple[str, int], ...]] = dict(state.current)
    current: dict[str, int] = dict(pools.get(pool, ()))
    for rep in candidates:
        current[rep.rep_id] = current.get(rep.rep_id, 0) + rep.weight
    best = max(current[rep.rep_id] for rep in candidates)
    chosen = next(rep for rep in candidates if current[rep.rep_id] == best)  # ties: lowest id
    current[chosen.rep_id] -= sum(rep.weight for rep in candidates)
    pools[pool] = tuple(sorted(current.items()))
    return replace(state, current=tuple(sorted(pools.items()))), chosen


def _choose(
    state: RouterState, req: RouteRequested, now_ms: int, rules: RoutingRules
) -> tuple[RouterState, RepProfile | None, str, str]:
    """Apply the rules in order; return the new state, the rep (or None), its pool and rule."""
    if req.owner_rep_id is not None:
        owner = state.rep(req.owner_rep_id)
        if owner is not None and _available(owner, state, req, now_ms, rules):
            return state, owner, req.pool, "account_owner"
    steps = [(req.pool, "territory_round_robin")]
    if rules.fallback_pool != req.pool:
        steps.append((rules.fallback_pool, "fallback"))
    for pool, rule in steps:
        candidates = [rep for rep in state.roster
                      if _in_pool(rep, pool) and _available(rep, state, req, now_ms, rules)]
        picked_state, rep = _pick_weighted(state, pool, candidates)
        if rep is not None:
            return picked_state, rep, pool, rule
    return state, None, req.pool, "unassigned"


def _failure(routed: LeadRouted, trigger_event_id: str) -> RoutingFailed:
    return RoutingFailed(
        event_id=derive_id("routing_failed", trigger_event_id),
        assignment_id=routed.assignment_id,
        contact_id=routed.contact_id,
        account_id=routed.account_id,
        pool=routed.pool,
        reason=NO_REP_AVAILABLE,
        priority=routed.priority,
        trigger=routed.trigger,
        caused_by=routed.caused_by,
        occurred_at=routed.occurred_at,
    )


def _effects(routed: LeadRouted, trigger_event_id: str) -> list[RoutingEffect]:
    if routed.rep_id is None:
        return [routed, _failure(routed, trigger_event_id)]
    return [routed]


def route(
    state: RouterState, req: RouteRequested, now_ms: int, rules: RoutingRules
) -> tuple[RouterState, list[RoutingEffect]]:
    """Assign ``req`` to a rep; a re-delivered request re-emits its first assignment unchanged
    and assigns nothing new."""
    earlier = state.routed(req.event_id)
    if earlier is not None:
        return state, _effects(earlier, req.event_id)
    state, rep, pool, rule = _choose(state, req, now_ms, rules)
    routed = LeadRouted(
        assignment_id=derive_id("assignment", req.event_id),
        event_id=derive_id("routed", req.event_id),
        contact_id=req.contact_id,
        account_id=req.account_id,
        rep_id=None if rep is None else rep.rep_id,
        pool=pool,
        rule=rule,
        priority=req.priority,
        trigger=req.trigger,
        caused_by=req.caused_by,
        occurred_at=now_ms,
        manager_rep_id=None if rep is None else rep.manager_rep_id,
    )
    if rep is not None:
        state = replace(state, open=_with_open(state.open, rep.rep_id, routed.assignment_id))
    state = replace(state, recent=(*state.recent, routed)[-RECENT_LIMIT:])
    return state, _effects(routed, req.event_id)


def _with_open(
    open_: tuple[tuple[str, tuple[str, ...]], ...], rep_id: str, assignment_id: str
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    loads: Mapping[str, tuple[str, ...]] = dict(open_)
    merged = {**loads, rep_id: (*loads.get(rep_id, ()), assignment_id)}
    return tuple(sorted(merged.items()))
