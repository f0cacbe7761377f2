"""Account state: firmographics, members and their intent rollup, third-party surges, stage."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from streams.core.account_events import (
    AccountFirmographics,
    AccountInput,
    AccountPayload,
    MemberContributed,
    MemberJoined,
    MemberLeft,
    ThirdPartyIntent,
)
from streams.core.account_scoring import (
    NONE,
    AccountContextShared,
    AccountScore,
    AccountSnapshot,
    AccountStageChanged,
    account_segment,
    decide_account_stage,
    observe_surge,
    score_account,
    stage_changed,
)
from streams.core.events import AccountProfiled
from streams.core.ids import derive_id
from streams.core.model import ScoringModel

__all__ = [
    "AccountContextShared",
    "AccountEffect",
    "AccountSnapshot",
    "AccountStageChanged",
    "AccountState",
    "FirmographicsShared",
    "account_key",
    "account_snapshot",
    "apply_account",
    "evaluate_account",
    "profiled",
    "recompute_accounts",
]


@dataclass(frozen=True, slots=True)
class AccountState:
    """What the account agent keeps per company domain.

    ``contributions`` holds each member's newest ``MemberContributed`` (sorted by contact_id);
    ``third_party_values`` each topic's decayed surge strength as of ``third_party_ref_ms``.
    The score is always read at ``ref_ms``, the latest event time the account has applied.
    """

    domain: str
    firmographics: AccountFirmographics | None = None
    members: tuple[str, ...] = ()
    watermarks: tuple[tuple[str, int], ...] = ()
    intent_signals: int = 0
    updated_at: int = 0
    contributions: tuple[MemberContributed, ...] = ()
    third_party_ref_ms: int = 0
    third_party_values: tuple[tuple[str, float], ...] = ()  # sorted by topic
    third_party_counts: tuple[tuple[str, int], ...] = ()  # surges per topic, sorted by topic
    stage: str = NONE  # none | engaged | qualified
    stage_since: int | None = None
    committee_size: int = 0  # as of the last evaluation (AccountContextShared on change)
    ref_ms: int = 0


@dataclass(frozen=True, slots=True)
class FirmographicsShared:
    """Send these firmographics to each listed member contact."""

    contact_ids: tuple[str, ...]
    facts: AccountProfiled


AccountEffect = FirmographicsShared | AccountStageChanged | AccountContextShared


def _watermark(state: AccountState, stream: str) -> int:
    for name, offset in state.watermarks:
        if name == stream:
            return offset
    return -1


def _with_watermark(state: AccountState, stream: str, offset: int) -> AccountState:
    rest = tuple(w for w in state.watermarks if w[0] != stream)
    return replace(state, watermarks=tuple(sorted((*rest, (stream, offset)))))


def profiled(facts: AccountFirmographics) -> AccountProfiled:
    """The contact-side view of an account's firmographics."""
    return AccountProfiled(
        event_id=facts.event_id,
        occurred_at=facts.occurred_at,
        account_id=facts.account_id,
        domain=facts.domain,
        industry=facts.industry,
        employee_count=facts.employee_count,
        annual_revenue=facts.annual_revenue,
        country=facts.country,
        region=facts.region,
        tech_stack=facts.tech_stack,
        owner_rep_id=facts.owner_rep_id,
        is_customer=facts.is_customer,
        named_account=facts.named_account,
    )


def _newer(new: AccountFirmographics, old: AccountFirmographics | None) -> bool:
    if old is None:
        return True
    return (new.occurred_at, new.event_id) > (old.occurred_at, old.event_id)


def _contribution(state: AccountState, contact_id: str) -> MemberContributed | None:
    return next((c for c in state.contributions if c.contact_id == contact_id), None)


def _supersedes(new: MemberContributed, old: MemberContributed | None) -> bool:
    """The newest version per member wins; equal versions are ordered by event_id."""
    return old is None or (new.version, new.event_id) > (old.version, old.event_id)


def _with_member(state: AccountState, contact_id: str) -> AccountState:
    if contact_id in state.members:
        return state
    return replace(state, members=tuple(sorted((*state.members, contact_id))))


def _fold(
    state: AccountState, payload: AccountPayload
) -> tuple[AccountState, list[AccountEffect]]:
    """Apply one (new, non-stale) payload to the account's facts; no stage logic here."""
    if isinstance(payload, AccountFirmographics):
        if not _newer(payload, state.firmographics):
            return state, []
        state = replace(state, firmographics=payload)
        if not state.members:
            return state, []
        return state, [FirmographicsShared(state.members, profiled(payload))]
    if isinstance(payload, MemberJoined):
        state = _with_member(state, payload.contact_id)
        if state.firmographics is None:
            return state, []
        return state, [FirmographicsShared((payload.contact_id,), profiled(state.firmographics))]
    if isinstance(payload, MemberLeft):
        return replace(
            state,
            members=tuple(m for m in state.members if m != payload.contact_id),
            contributions=tuple(c for c in state.contributions
                                if c.contact_id != payload.contact_id),
        ), []
    if isinstance(payload, MemberContributed):
        rest = (c for c in state.contributions if c.contact_id != payload.contact_id)
        state = replace(state, contributions=tuple(sorted((*rest, payload),
                                                          key=lambda c: c.contact_id)))
        return _with_member(state, payload.contact_id), []
    raise TypeError(f"unknown account payload {type(payload).__name__}")


def _surge(state: AccountState, surge: ThirdPartyIntent, model: ScoringModel) -> AccountState:
    strength = float(min(100, max(0, surge.strength)))
    values, ref_ms = observe_surge(dict(state.third_party_values), state.third_party_ref_ms,
                                   surge.topic, strength, surge.occurred_at, model)
    counts = dict(state.third_party_counts)
    counts[surge.topic] = counts.get(surge.topic, 0) + 1
    return replace(
        state,
        third_party_values=tuple(sorted(values.items())),
        third_party_counts=tuple(sorted(counts.items())),
        third_party_ref_ms=ref_ms,
        intent_signals=state.intent_signals + 1,
    )


def evaluate_account(state: AccountState, model: ScoringModel) -> AccountScore:
    """The account's score, parts and committee at its reference time ``ref_ms``."""
    return score_account(state.contributions, dict(state.third_party_values),
                         state.third_party_ref_ms, account_segment(state.firmographics, model),
                         state.ref_ms, model)


def _event_time(payload: AccountPayload) -> int:
    if isinstance(payload, MemberContributed):  # its values are as of ref_ms
        return max(payload.occurred_at, payload.ref_ms)
    return payload.occurred_at


def apply_account(
    state: AccountState | None, inp: AccountInput, model: ScoringModel
) -> tuple[AccountState, list[AccountEffect]]:
    """Fold one account input and re-evaluate the account's stage at its event time.

    Re-deliveries at or below the origin watermark and contributions older than the member's
    current one (lower version) change nothing but the watermark.
    """
    current = state if state is not None else AccountState(domain=inp.domain)
    if inp.origin is not None:
        if inp.origin.offset <= _watermark(current, inp.origin.stream):
            return current, []
        current = _with_watermark(current, inp.origin.stream, inp.origin.offset)
    payload = inp.payload
    if isinstance(payload, MemberContributed) and not _supersedes(
            payload, _contribution(current, payload.contact_id)):
        return current, []
    before = evaluate_account(current, model)
    when = _event_time(payload)
    current = replace(current, updated_at=max(current.updated_at, payload.occurred_at),
                      ref_ms=max(current.ref_ms, when))
    effects: list[AccountEffect] = []
    if isinstance(payload, ThirdPartyIntent):
        current = _surge(current, payload, model)
    else:
        current, effects = _fold(current, payload)
    return _restage(current, before, payload.event_id, isinstance(payload, MemberLeft),
                    model, effects)


def _restage(
    state: AccountState, before: AccountScore, caused_by: str, member_left: bool,
    model: ScoringModel, effects: list[AccountEffect],
) -> tuple[AccountState, list[AccountEffect]]:
    after = evaluate_account(state, model)
    decision = decide_account_stage(state.stage, before, after, member_left=member_left)
    previous_size = state.committee_size
    if decision is not None:
        effects.append(stage_changed(
            state.domain, state.firmographics.account_id if state.firmographics else None,
            state.stage, decision, after, dict(state.third_party_counts), caused_by,
            state.ref_ms, model))
        state = replace(state, stage=decision.to_stage, stage_since=state.ref_ms)
    state = replace(state, committee_size=after.committee_size)
    if state.members and (decision is not None or after.committee_size != previous_size):
        effects.append(AccountContextShared(
            derive_id("account-context", state.domain, caused_by), state.members, after.score,
            after.committee_size, state.stage, state.domain, caused_by, state.ref_ms))
    return state, effects


def account_key(state: AccountState) -> str:
    """The account's id in outputs: the CRM's account id, else (not named yet) its domain."""
    facts = state.firmographics
    return facts.account_id if facts else state.domain


def account_snapshot(state: AccountState, model: ScoringModel) -> AccountSnapshot:
    """The ``qualification.accounts`` record of ``state`` (scored at its ``ref_ms``)."""
    score = evaluate_account(state, model)
    facts = state.firmographics
    return AccountSnapshot(
        account_id=account_key(state),
        domain=state.domain,
        stage=state.stage,
        score=score.score,
        member_intent=score.member_intent,
        third_party_intent=score.third_party_intent,
        committee_size=score.committee_size,
        committee_personas=score.committee_personas,
        has_decision_maker=score.has_decision_maker,
        segment=score.segment,
        owner_rep_id=facts.owner_rep_id if facts else None,
        model_version=model.version,
        updated_at=state.updated_at,
    )


def recompute_accounts(
    inputs: Iterable[AccountInput], model: ScoringModel,
    emitted: list[AccountEffect] | None = None,
) -> dict[str, AccountState]:
    """Fold ``inputs`` from scratch, per company domain (replay); the effects are appended to
    ``emitted`` when given."""
    states: dict[str, AccountState] = {}
    for inp in inputs:
        states[inp.domain], effects = apply_account(states.get(inp.domain), inp, model)
        if emitted is not None:
            emitted.extend(effects)
    return states
