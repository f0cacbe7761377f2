"""The contact agent's core: fold one input into a contact's state and say what happened."""

from __future__ import annotations

from dataclasses import dataclass, replace

from streams.core.account_events import MemberContributed
from streams.core.contact_record import from_record, to_record
from streams.core.contact_state import (
    RECENT_EVENT_IDS,
    ContactState,
    Evaluation,
    evaluate,
    half_life_of,
    is_engaged,
    total_at,
)
from streams.core.decay import advance, advance_pairs, observe_pairs
from streams.core.down_crossing import next_down_crossing
from streams.core.effects import (
    AccountLinked,
    ContactEffect,
    ContactForgotten,
    Reason,
    StageChanged,
    Touch,
)
from streams.core.events import (
    AccountContextUpdated,
    AccountProfiled,
    ContactErased,
    ContactInput,
    ContactProfiled,
    SignalObserved,
    is_anonymous,
)
from streams.core.ids import derive_id
from streams.core.model import ScoringModel
from streams.core.scoring import top_reasons
from streams.core.thresholds import decide_stage, direction

__all__ = [
    "ContactSnapshot",
    "ContactState",
    "apply",
    "contribution",
    "decay_timer_id",
    "fire_decay",
    "from_record",
    "next_down_crossing",
    "short_event_id",
    "snapshot",
    "to_record",
]

SHORT_ID_CHARS = 12


@dataclass(frozen=True, slots=True)
class ContactSnapshot:
    """The ``qualification.contacts`` record: a contact's latest qualification."""

    contact_id: str
    account_id: str | None
    domain: str | None
    stage: str
    fit: float
    intent: float
    total: float
    fit_grade: str
    segment: str
    model_version: str
    exclusion: str | None
    review_reasons: tuple[str, ...]
    reasons: tuple[Reason, ...]
    first_touch: Touch | None
    last_touch: Touch | None
    events_applied: int
    last_event_id: str | None
    updated_at: int


def short_event_id(event_id: str) -> str:
    """The dedup key kept in state: a short, fixed-size hash of the input's event_id."""
    return derive_id("event", event_id)[:SHORT_ID_CHARS]


def _company_domain(domain: str | None, model: ScoringModel) -> str | None:
    """A lower-case company domain, or None for no domain or a free-mail one."""
    if not domain or not domain.strip():
        return None
    clean = domain.strip().lower()
    return None if model.is_free_mail(clean) else clean


def _newer(new: ContactProfiled | AccountProfiled,
           old: ContactProfiled | AccountProfiled | None) -> bool:
    """Latest occurred_at wins; a tie keeps the higher event_id (order independent)."""
    return old is None or (new.occurred_at, new.event_id) > (old.occurred_at, old.event_id)


def _moved_to(domain: str | None, email_domain: str | None,
              account: AccountProfiled | None) -> tuple[str | None, AccountProfiled | None]:
    """``(email_domain, account)`` once the contact's company domain is ``domain`` (None: no
    change): the old firmographics no longer apply when the contact moved company."""
    if domain is None or domain == email_domain:
        return email_domain, account
    if account is not None and account.domain.lower() != domain:
        account = None
    return domain, account


Marks = tuple[tuple[str, int], ...]


def _marked(marks: Marks, stream: str, offset: int) -> Marks | None:
    """The stream-sorted watermarks with ``stream`` at ``offset``; None when ``offset`` is at
    or below the stream's watermark (a re-delivery)."""
    for i, (name, mark) in enumerate(marks):
        if name == stream:
            if offset <= mark:
                return None
            return (*marks[:i], (stream, offset), *marks[i + 1:])
        if name > stream:
            return (*marks[:i], (stream, offset), *marks[i:])
    return (*marks, (stream, offset))


def _counted(counts: tuple[tuple[str, int], ...], key: str) -> tuple[tuple[str, int], ...]:
    """Name-sorted (signal, count) pairs with one more ``key``."""
    for i, (name, count) in enumerate(counts):
        if name == key:
            return (*counts[:i], (key, count + 1), *counts[i + 1:])
        if name > key:
            return (*counts[:i], (key, 1), *counts[i:])
    return (*counts, (key, 1))


def _absorb_signal(state: ContactState, sig: SignalObserved, model: ScoringModel,
                   watermarks: tuple[tuple[str, int], ...],
                   recent: tuple[str, ...]) -> ContactState:
    """The state after signal ``sig``, built once (the hot path: no chain of copies)."""
    rule = model.signal(sig.signal)
    counts = state.signal_counts
    if rule is not None:
        values, ref = observe_pairs(state.signal_values, state.ref_ms, sig.signal, rule.points,
                                    sig.occurred_at, model.signal_half_lives,
                                    model.half_life_set)
        counts = _counted(counts, sig.signal)
    else:
        ref = max(state.ref_ms, sig.occurred_at)
        values = advance_pairs(state.signal_values, state.ref_ms, ref, model.signal_half_lives,
                               model.half_life_set)
    touch = Touch(sig.event_id, sig.signal, sig.source, sig.channel, sig.occurred_at)
    first, last = state.first_touch, state.last_touch
    at = (sig.occurred_at, sig.event_id)
    email_domain, account = state.email_domain, state.account
    if email_domain is None:  # a signal's domain only fills a missing one
        email_domain, account = _moved_to(_company_domain(sig.email_domain, model), None,
                                          account)
    # every field of ContactState (test_core_contact_build checks none is forgotten)
    return ContactState(
        contact_id=state.contact_id,
        stage=state.stage,
        email_domain=email_domain,
        account_id=state.account_id,
        profile=state.profile,
        account=account,
        ref_ms=ref,
        signal_values=values,
        signal_counts=counts,
        first_touch=touch if first is None or at < (first.occurred_at, first.event_id)
        else first,
        last_touch=touch if last is None or at > (last.occurred_at, last.event_id) else last,
        recent_event_ids=recent,
        watermarks=watermarks,
        events_applied=state.events_applied + 1,
        hold_until=state.hold_until,
        stage_since=state.stage_since,
        last_event_id=sig.event_id,
        updated_at=sig.occurred_at,
        account_score=state.account_score,
        committee_size=state.committee_size,
        account_stage=state.account_stage,
    )


def _absorb(state: ContactState, payload: ContactProfiled | AccountProfiled, model: ScoringModel,
            watermarks: tuple[tuple[str, int], ...], recent: tuple[str, ...]) -> ContactState:
    """The state after firmographics ``payload`` (the latest profile or account wins), built
    once like ``_absorb_signal``."""
    ref = max(state.ref_ms, payload.occurred_at)
    profile, account = state.profile, state.account
    account_id, email_domain = state.account_id, state.email_domain
    if isinstance(payload, ContactProfiled):
        if _newer(payload, profile):
            profile = payload
            account_id = payload.account_id or account_id
            email_domain, account = _moved_to(_company_domain(payload.email_domain, model),
                                              email_domain, account)
    elif _newer(payload, account):
        account, account_id = payload, payload.account_id
    # every field of ContactState (test_core_contact_build checks none is forgotten)
    return ContactState(
        contact_id=state.contact_id,
        stage=state.stage,
        email_domain=email_domain,
        account_id=account_id,
        profile=profile,
        account=account,
        ref_ms=ref,
        signal_values=advance_pairs(state.signal_values, state.ref_ms, ref,
                                    model.signal_half_lives, model.half_life_set),
        signal_counts=state.signal_counts,
        first_touch=state.first_touch,
        last_touch=state.last_touch,
        recent_event_ids=recent,
        watermarks=watermarks,
        events_applied=state.events_applied + 1,
        hold_until=state.hold_until,
        stage_since=state.stage_since,
        last_event_id=payload.event_id,
        updated_at=payload.occurred_at,
        account_score=state.account_score,
        committee_size=state.committee_size,
        account_stage=state.account_stage,
    )


def _reasons(ev: Evaluation, state: ContactState, model: ScoringModel) -> tuple[Reason, ...]:
    """Intent reasons first (the signals that moved it), then the fit traits."""
    return top_reasons(state.values, state.counts, model) + ev.fit.reasons


def apply(
    state: ContactState | None, inp: ContactInput, model: ScoringModel
) -> tuple[ContactState | None, list[ContactEffect]]:
    """Fold one input into a contact's state; return the new state and the effects to send.

    Idempotent: an input at or below the watermark of its origin stream, or whose event_id is
    among the recent ones, changes no score and emits nothing.
    """
    payload = inp.payload
    base = state if state is not None else ContactState(contact_id=inp.contact_id)
    marks = base.watermarks
    origin = inp.origin
    if origin is not None:
        marked = _marked(marks, origin.stream, origin.offset)
        if marked is None:
            return state, []
        marks = marked
    if isinstance(payload, ContactErased):
        domain = state.email_domain if state is not None else None
        return None, [ContactForgotten(inp.contact_id, domain, payload.event_id)]
    if isinstance(payload, AccountContextUpdated):
        return replace(base, watermarks=marks, account_score=payload.account_score,
                       committee_size=payload.committee_size,
                       account_stage=payload.account_stage), []
    short = short_event_id(payload.event_id)
    if short in base.recent_event_ids:
        return (base if inp.origin is None else replace(base, watermarks=marks)), []

    recent = (*base.recent_event_ids, short)[-RECENT_EVENT_IDS:]
    if isinstance(payload, SignalObserved):
        new = _absorb_signal(base, payload, model, marks, recent)
    else:
        new = _absorb(base, payload, model, marks, recent)
    effects: list[ContactEffect] = []
    if new.email_domain is not None and new.email_domain != base.email_domain:
        effects.append(AccountLinked(new.contact_id, new.email_domain, base.email_domain,
                                     payload.event_id))

    signal = payload if isinstance(payload, SignalObserved) else None
    after, changes = _staged(new, model, signal=signal, caused_by=payload.event_id)
    return after, [*effects, *changes]


def _staged(new: ContactState, model: ScoringModel, *, signal: SignalObserved | None,
            caused_by: str, trigger: str | None = None) -> tuple[ContactState, list[ContactEffect]]:
    """Decide the stage of ``new`` at its reference time and describe any change."""
    fit, total = total_at(new, model)  # the full evaluation only when the stage changes
    decision = decide_stage(
        new.stage,
        fit,
        total,
        has_signals=is_engaged(new, model) and not is_anonymous(new.contact_id),
        signal=signal.signal if signal is not None else None,
        signal_at=signal.occurred_at if signal is not None else None,
        enrichment=signal is None and trigger is None,
        now_ms=new.ref_ms,
        hold_until=new.hold_until,
        model=model,
    )
    if decision.trigger is None:
        if decision.hold_until == new.hold_until:
            return new, []  # nothing changed: spare the copy (hot path)
        return replace(new, hold_until=decision.hold_until), []

    after = replace(new, stage=decision.stage, hold_until=decision.hold_until,
                    stage_since=new.ref_ms)
    ev = evaluate(new, model)
    return after, [StageChanged(
        event_id=derive_id("stage", new.contact_id, caused_by, new.stage, decision.stage),
        contact_id=new.contact_id,
        account_id=new.account_id,
        from_stage=new.stage,
        to_stage=decision.stage,
        direction=direction(new.stage, decision.stage),
        trigger=trigger or decision.trigger,
        threshold=decision.threshold,
        fit=ev.fit.score,
        intent=ev.intent.intent,
        total=ev.total,
        fit_grade=ev.fit.grade,
        segment=ev.fit.segment,
        model_version=model.version,
        reasons=_reasons(ev, new, model),
        first_touch=new.first_touch,
        last_touch=new.last_touch,
        exclusion=ev.fit.exclusion,
        caused_by=caused_by,
        occurred_at=new.ref_ms,
        account_score=new.account_score,
        committee_size=new.committee_size,
    )]


def decay_timer_id(contact_id: str, deadline_ms: int) -> str:
    """The deterministic id of the decay timer due at ``deadline_ms``: fires once by id."""
    return derive_id("timer", contact_id, "decay", str(deadline_ms))


def fire_decay(state: ContactState, now_ms: int,
               model: ScoringModel) -> tuple[ContactState, list[ContactEffect]]:
    """Deliver the decay deadline if it is due at ``now_ms``: the down-crossing the decaying
    score makes with no new event, stamped with the computed crossing time (not ``now``)."""
    deadline = next_down_crossing(state, model)
    if deadline is None or deadline > now_ms:
        return state, []
    advanced = replace(
        state,
        ref_ms=max(state.ref_ms, deadline),
        updated_at=max(state.updated_at, deadline),
        signal_values=tuple(sorted(advance(
            state.values, state.ref_ms, max(state.ref_ms, deadline), half_life_of(model)
        ).items())),
    )
    return _staged(advanced, model, signal=None, caused_by=decay_timer_id(state.contact_id,
                                                                         deadline),
                   trigger="decay")


def snapshot(state: ContactState, model: ScoringModel) -> ContactSnapshot:
    """The compacted ``qualification.contacts`` view of ``state`` at its reference time."""
    ev = evaluate(state, model)
    return ContactSnapshot(
        contact_id=state.contact_id,
        account_id=state.account_id,
        domain=state.email_domain,
        stage=state.stage,
        fit=ev.fit.score,
        intent=ev.intent.intent,
        total=ev.total,
        fit_grade=ev.fit.grade,
        segment=ev.fit.segment,
        model_version=model.version,
        exclusion=ev.fit.exclusion,
        review_reasons=ev.fit.review_reasons,
        reasons=_reasons(ev, state, model),
        first_touch=state.first_touch,
        last_touch=state.last_touch,
        events_applied=state.events_applied,
        last_event_id=state.last_event_id,
        updated_at=state.updated_at,
    )


def contribution(state: ContactState) -> MemberContributed | None:
    """What the contact's account needs of it for the rollup; None without a company domain."""
    if state.email_domain is None:
        return None
    profile = state.profile
    return MemberContributed(
        event_id=derive_id("contribution", state.contact_id, str(state.events_applied)),
        occurred_at=state.ref_ms,
        contact_id=state.contact_id,
        version=state.events_applied,
        ref_ms=state.ref_ms,
        signal_values=state.signal_values,
        persona=profile.persona if profile else None,
        seniority=profile.seniority if profile else None,
        engaged_at=state.last_touch.occurred_at if state.last_touch else None,
        stage=state.stage,
    )
