"""Per-contact state (decayed signal sums at one reference time) and its evaluation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from streams.core.decay import advance, advance_pairs
from streams.core.effects import Touch
from streams.core.events import AccountProfiled, ContactProfiled
from streams.core.fit import FitAssessment, assess_fit, profile_fit_facts
from streams.core.model import ScoringModel
from streams.core.scoring import IntentScore, intent_of_pairs, intent_score, total_score
from streams.core.thresholds import NEW

RECENT_EVENT_IDS = 64  # duplicates within the last 64 applied payloads are recognised


@dataclass(frozen=True, slots=True)
class ContactState:
    """What the contact agent keeps per contact_id (a value of the Faust table).

    ``signal_values`` holds each signal's decayed sum as of ``ref_ms``, the latest event time
    applied; pairs are sorted by signal name so equal histories give equal states.
    """

    contact_id: str
    stage: str = NEW
    email_domain: str | None = None  # company domain (never a free-mail one)
    account_id: str | None = None
    profile: ContactProfiled | None = None
    account: AccountProfiled | None = None
    ref_ms: int = 0
    signal_values: tuple[tuple[str, float], ...] = ()
    signal_counts: tuple[tuple[str, int], ...] = ()
    first_touch: Touch | None = None
    last_touch: Touch | None = None
    recent_event_ids: tuple[str, ...] = ()  # short hashes, oldest first
    watermarks: tuple[tuple[str, int], ...] = ()  # (origin stream, last offset applied)
    events_applied: int = 0
    hold_until: int | None = None
    stage_since: int | None = None
    last_event_id: str | None = None
    updated_at: int = 0  # event time of the last payload that changed this state
    account_score: float | None = None  # the account's context, shared by the account agent
    committee_size: int | None = None
    account_stage: str | None = None

    @property
    def values(self) -> dict[str, float]:
        return dict(self.signal_values)

    @property
    def counts(self) -> dict[str, int]:
        return dict(self.signal_counts)

    def watermark(self, stream: str) -> int | None:
        for name, offset in self.watermarks:
            if name == stream:
                return offset
        return None


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Fit, intent and total of a contact at one event time."""

    at_ms: int
    fit: FitAssessment
    intent: IntentScore
    total: float


def half_life_of(model: ScoringModel) -> Callable[[str], float]:
    """Half-life per signal name; a signal the model no longer scores decays at once."""
    half_lives = model.signal_half_lives

    def half_life(name: str) -> float:
        return half_lives.get(name, 1.0)

    return half_life


FIT_MEMO_LIMIT = 100_000  # fit assessments remembered per model (cleared when full)


def fit_of(state: ContactState, model: ScoringModel) -> FitAssessment:
    """The contact's fit, memoised per model on (the profile's fit facts, account, domain): it
    depends on nothing else, and assessing it is a large share of an event's cost. Contacts
    share those facts (persona, seniority, country) far more often than profiles. The same
    account object is found by identity first (hashing it costs more than the rest): an entry
    holds its object, so its id cannot be reused while it is kept."""
    account, domain = state.account, state.email_domain
    facts = profile_fit_facts(state.profile)
    memo = model.fit_memo
    by_id = (facts, id(account), domain)
    known = cast("tuple[object, FitAssessment] | None", memo.get(by_id))
    if known is not None and known[0] is account:
        return known[1]
    if len(memo) >= 2 * FIT_MEMO_LIMIT:  # up to two entries per assessment
        memo.clear()
    key = (facts, account, domain)
    fit = cast("FitAssessment | None", memo.get(key))
    if fit is None:
        fit = memo[key] = assess_fit(state.profile, account, domain, model)
    memo[by_id] = (account, fit)
    return fit


def is_engaged(state: ContactState, model: ScoringModel) -> bool:
    """True once the contact has shown a signal worth positive points (a delivery is not)."""
    engaging = model.engaging_signals
    for name, count in state.signal_counts:
        if count > 0 and name in engaging:
            return True
    return False


def intent_at(state: ContactState, at_ms: int, model: ScoringModel) -> IntentScore:
    """Intent at ``at_ms`` (no earlier than ``ref_ms``), decaying the stored sums lazily."""
    values = advance(state.values, state.ref_ms, at_ms, half_life_of(model))
    return intent_score(values, model)


def intent_value_at(state: ContactState, at_ms: int, model: ScoringModel) -> float:
    """``intent_at(state, at_ms, model).intent`` without the breakdown (the hot path)."""
    if at_ms <= state.ref_ms:
        return intent_of_pairs(state.signal_values, model)
    return intent_of_pairs(advance_pairs(state.signal_values, state.ref_ms, at_ms,
                                         model.signal_half_lives, model.half_life_set), model)


def total_at(state: ContactState, model: ScoringModel) -> tuple[FitAssessment, float]:
    """``(evaluate(state, model).fit, evaluate(state, model).total)`` at the reference time,
    without the intent breakdown (which only an explanation needs)."""
    fit = fit_of(state, model)
    return fit, total_score(fit.score, intent_of_pairs(state.signal_values, model), model)


def evaluate(state: ContactState, model: ScoringModel, at_ms: int | None = None) -> Evaluation:
    """Score ``state`` at ``at_ms`` (default: its reference time)."""
    when = state.ref_ms if at_ms is None else max(at_ms, state.ref_ms)
    fit = fit_of(state, model)
    intent = intent_at(state, when, model)
    return Evaluation(when, fit, intent, total_score(fit.score, intent.intent, model))
