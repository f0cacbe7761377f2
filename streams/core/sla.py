"""SLA timers as deadlines in state: start, tick (warning, breach, escalation), meet, cancel."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from streams.core import working_hours
from streams.core.ids import derive_id
from streams.core.sales_events import RepProfile, SalesActivityObserved
from streams.core.sla_rules import KINDS, SlaRules

# Timer statuses. Only open and warned timers stay in the state; the others are finished.
OPEN, WARNED, MET, BREACHED, CANCELLED = "open", "warned", "met", "breached", "cancelled"
# Statuses of the `sla.events` record (docs/contract.md: the warning event is "warning").
STARTED, WARNING = "started", "warning"

HISTORY_LIMIT = 256  # finished sla ids kept per contact, so a re-delivered start stays a no-op

FIRST_TOUCH_ACTIVITIES = frozenset({"first_touch", "call", "email_sent", "meeting_booked"})
DECISION_ACTIVITIES = frozenset({"accepted", "rejected", "disqualified"})
CANCELLING_ACTIVITIES = frozenset({"recycled"})


@dataclass(frozen=True, slots=True)
class SlaTimer:
    """One running SLA of an assignment; its deadlines are wall-clock epoch ms."""

    sla_id: str  # derive_id("sla", assignment_id, kind)
    kind: str  # first_touch | accept_reject
    assignment_id: str
    contact_id: str
    rep_id: str | None
    priority: str
    started_at: int
    warn_at: int
    due_at: int
    status: str  # open | warned (met | breached | cancelled once finished)
    escalation: str  # reassign | manager
    escalation_target: str | None  # the rep's manager for `manager` escalation, else None

    @property
    def next_instant(self) -> int:
        """When this timer next changes by itself: the warning, then the breach."""
        return self.warn_at if self.status == OPEN else self.due_at


@dataclass(frozen=True, slots=True)
class SlaState:
    """The running timers of one contact (by sla_id) and the ids of recently finished ones."""

    timers: tuple[SlaTimer, ...] = ()
    finished: tuple[str, ...] = ()  # oldest first, at most HISTORY_LIMIT

    def knows(self, sla_id: str) -> bool:
        return sla_id in self.finished or any(t.sla_id == sla_id for t in self.timers)


EMPTY = SlaState()


@dataclass(frozen=True, slots=True)
class SlaEventRaised:
    """A timer changed status: one `sla.events` record (same id and bytes on a replay)."""

    event_id: str  # derive_id("sla-event", sla_id, status)
    sla_id: str
    assignment_id: str
    contact_id: str
    rep_id: str | None
    kind: str
    status: str  # started | warning | breached | met | cancelled
    due_at: int
    occurred_at: int  # now for started/met/cancelled; warn_at / due_at for warning / breached
    escalation_target: str | None  # set on warning and breached of a `manager` escalation
    priority: str


@dataclass(frozen=True, slots=True)
class ReassignRequested:
    """A `reassign` SLA breached: route the assignment again, to anyone but ``excluded_rep``."""

    assignment_id: str
    contact_id: str
    excluded_rep: str | None
    sla_id: str
    requested_at: int  # the breach instant (due_at), so a replay asks identically


SlaEffect = SlaEventRaised | ReassignRequested
Result = tuple[SlaState, tuple[SlaEffect, ...]]


def _event(timer: SlaTimer, status: str, occurred_at: int) -> SlaEventRaised:
    notify = status in (WARNING, BREACHED)
    return SlaEventRaised(
        event_id=derive_id("sla-event", timer.sla_id, status), sla_id=timer.sla_id,
        assignment_id=timer.assignment_id, contact_id=timer.contact_id, rep_id=timer.rep_id,
        kind=timer.kind, status=status, due_at=timer.due_at, occurred_at=occurred_at,
        escalation_target=timer.escalation_target if notify else None, priority=timer.priority,
    )


def _after(rep: RepProfile | None, start_ms: int, duration_ms: int, business: bool) -> int:
    """The instant ``duration_ms`` after ``start_ms``: in the rep's working time if asked."""
    if business and rep is not None:
        try:
            return working_hours.add_working_time(rep, start_ms, duration_ms)
        except ValueError:  # a roster entry without any working time: count calendar time
            pass
    return start_ms + duration_ms


def _settle(state: SlaState, kept: Iterable[SlaTimer], finished: Iterable[str]) -> SlaState:
    history = (*state.finished, *finished)[-HISTORY_LIMIT:]
    return SlaState(tuple(sorted(kept, key=lambda t: t.sla_id)), history)


def start(
    state: SlaState,
    assignment_id: str,
    contact_id: str,
    rep: RepProfile | None,
    priority: str,
    kinds: tuple[str, ...],
    now_ms: int,
    rules: SlaRules,
) -> Result:
    """Start one timer per kind for an assignment; a kind whose sla_id is known is a no-op.

    A kind with ``business_hours`` counts only the rep's working time (calendar time while the
    assignment has no rep); the warning fires after ``warning_fraction`` of the same time.
    Raises ValueError on an unknown kind or priority.
    """
    timers = list(state.timers)
    effects: list[SlaEffect] = []
    for kind in dict.fromkeys(kinds):
        kind_rules = rules.of(kind)
        duration = kind_rules.duration_ms(priority)
        sla_id = derive_id("sla", assignment_id, kind)
        if state.knows(sla_id):
            continue
        business = kind_rules.business_hours
        manager = rep.manager_rep_id if rep is not None else None
        timer = SlaTimer(
            sla_id=sla_id, kind=kind, assignment_id=assignment_id, contact_id=contact_id,
            rep_id=rep.rep_id if rep is not None else None, priority=priority,
            started_at=now_ms,
            warn_at=_after(rep, now_ms, round(duration * rules.warning_fraction), business),
            due_at=_after(rep, now_ms, duration, business),
            status=OPEN, escalation=kind_rules.escalation,
            escalation_target=manager if kind_rules.escalation == "manager" else None,
        )
        timers.append(timer)
        effects.append(_event(timer, STARTED, now_ms))
    if not effects:
        return state, ()
    return _settle(state, timers, ()), tuple(effects)


def next_deadline(state: SlaState) -> int | None:
    """The earliest instant at which ``due`` has something to do, or None without timers."""
    return min((timer.next_instant for timer in state.timers), default=None)


def due(state: SlaState, now_ms: int) -> Result:
    """Fire every deadline reached by ``now_ms``: each timer warns once, then breaches once.

    A timer already past ``due_at`` (a tick after a restart, or a late tick) breaches directly,
    without a warning: the warning would come too late to act on. Events carry the deadline
    itself as ``occurred_at``, so a replay re-emits identical records. A breach escalates: a
    ``reassign`` timer asks for a new rep (ReassignRequested), a ``manager`` one names the
    rep's manager as escalation target.
    """
    kept: list[SlaTimer] = []
    finished: list[str] = []
    effects: list[SlaEffect] = []
    for timer in sorted(state.timers, key=lambda t: (t.next_instant, t.sla_id)):
        if now_ms >= timer.due_at:
            finished.append(timer.sla_id)
            effects.append(_event(timer, BREACHED, timer.due_at))
            if timer.escalation == "reassign":
                effects.append(ReassignRequested(timer.assignment_id, timer.contact_id,
                                                 timer.rep_id, timer.sla_id, timer.due_at))
        elif timer.status == OPEN and now_ms >= timer.warn_at:
            kept.append(replace(timer, status=WARNED))
            effects.append(_event(timer, WARNING, timer.warn_at))
        else:
            kept.append(timer)
    if not effects:
        return state, ()
    return _settle(state, kept, finished), tuple(effects)


def _close(state: SlaState, matches: Iterable[SlaTimer], status: str, now_ms: int) -> Result:
    closing = {timer.sla_id for timer in matches}
    if not closing:
        return state, ()
    ordered = [timer for timer in state.timers if timer.sla_id in closing]
    kept = [timer for timer in state.timers if timer.sla_id not in closing]
    effects = tuple(_event(timer, status, now_ms) for timer in ordered)
    return _settle(state, kept, [timer.sla_id for timer in ordered]), effects


def on_activity(state: SlaState, activity: SalesActivityObserved, now_ms: int) -> Result:
    """A rep acted: stop the clocks the activity answers (or cancel them all on ``recycled``).

    Touches (first_touch, call, email_sent, meeting_booked) meet the first-touch SLA; a
    decision (accepted, rejected, disqualified) meets accept/reject and any open first touch.
    The activity applies to its assignment's timers, or to all the contact's timers when it
    names none. Deadlines that passed before the activity happened fire first (a backlog after
    a restart must not turn a breach into a meet); a late-delivered activity that happened in
    time still meets its SLA. Unknown or finished timers and other kinds change nothing.
    """
    if activity.kind in FIRST_TOUCH_ACTIVITIES:
        kinds, status = frozenset({"first_touch"}), MET
    elif activity.kind in DECISION_ACTIVITIES:
        kinds, status = frozenset(KINDS), MET
    elif activity.kind in CANCELLING_ACTIVITIES:
        kinds, status = frozenset(KINDS), CANCELLED
    else:
        return state, ()
    state, fired = due(state, min(now_ms, activity.occurred_at))
    matches = [
        timer for timer in state.timers
        if timer.kind in kinds and timer.contact_id == activity.contact_id
        and activity.assignment_id in (None, timer.assignment_id)
    ]
    state, closed = _close(state, matches, status, now_ms)
    return state, fired + closed


def cancel(state: SlaState, assignment_id: str, now_ms: int) -> Result:
    """Cancel the running timers of an assignment (it was reassigned or withdrawn)."""
    matches = [timer for timer in state.timers if timer.assignment_id == assignment_id]
    return _close(state, matches, CANCELLED, now_ms)
