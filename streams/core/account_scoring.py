"""Account score, buying committee and stage, evaluated at the account's event time."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from streams.core.account_events import AccountFirmographics, MemberContributed
from streams.core.account_rules import THIRD_PARTY_CATEGORY, TOPIC_CAP, AccountThresholds
from streams.core.contact_state import half_life_of
from streams.core.decay import advance, observe
from streams.core.effects import Reason
from streams.core.ids import derive_id
from streams.core.model import ScoringModel
from streams.core.scoring import NEGLIGIBLE, TOP_REASONS, intent_score

NONE, ENGAGED, QUALIFIED = "none", "engaged", "qualified"
_RANK = {NONE: 0, ENGAGED: 1, QUALIFIED: 2}
DECISION_MAKER = "decision_maker"

# Triggers of an ``AccountStageChanged``:
# - ``threshold``: the score crossed ``engaged``/``qualify`` (up) or fell below
#   ``exit``/``engaged`` (down);
# - ``committee``: the buying committee formed while the score was already over ``qualify``, or a
#   member engaged while the score was below ``engaged``;
# - ``member_left``: a member's departure took the score down.
THRESHOLD, COMMITTEE, MEMBER_LEFT = "threshold", "committee", "member_left"


@dataclass(frozen=True, slots=True)
class AccountScore:
    """An account's score, its parts and its buying committee at ``at_ms``."""

    at_ms: int
    segment: str
    thresholds: AccountThresholds
    member_points: tuple[tuple[str, float], ...]  # weighted intent per member, by contact_id
    member_intent: float  # member_weight * sum of member intents
    topic_points: tuple[tuple[str, float], ...]  # weighted, capped strength per topic
    third_party_intent: float  # weighted and capped at third_party_cap
    score: float  # capped at score_cap
    committee: tuple[str, ...]  # contact ids of the engaged members
    committee_personas: tuple[str, ...]  # sorted, distinct
    committee_formed: bool

    @property
    def committee_size(self) -> int:
        return len(self.committee)

    @property
    def has_decision_maker(self) -> bool:
        return DECISION_MAKER in self.committee_personas


@dataclass(frozen=True, slots=True)
class AccountStageDecision:
    """A stage move; ``threshold`` is the value crossed (None for a committee move)."""

    to_stage: str
    trigger: str
    threshold: float | None


@dataclass(frozen=True, slots=True)
class AccountStageChanged:
    """The account moved between none / engaged / qualified (``qualification.events``)."""

    event_id: str  # deterministic: hash of ("account-stage", domain, caused_by, from, to)
    account_id: str | None
    domain: str
    from_stage: str
    to_stage: str
    direction: str  # up | down
    trigger: str  # threshold | committee | member_left
    threshold: float | None
    score: float
    member_intent: float
    third_party_intent: float
    committee_size: int
    committee_personas: tuple[str, ...]
    has_decision_maker: bool
    segment: str
    model_version: str
    reasons: tuple[Reason, ...]
    caused_by: str
    occurred_at: int


@dataclass(frozen=True, slots=True)
class AccountContextShared:
    """Tell every member the account's stage and committee (on a change of either)."""

    event_id: str  # deterministic: hash of ("account-context", domain, caused_by)
    contact_ids: tuple[str, ...]
    account_score: float
    committee_size: int
    account_stage: str
    domain: str
    caused_by: str
    occurred_at: int


@dataclass(frozen=True, slots=True)
class AccountSnapshot:
    """The ``qualification.accounts`` record: an account's latest qualification."""

    account_id: str  # the CRM id, else the domain
    domain: str
    stage: str
    score: float
    member_intent: float
    third_party_intent: float
    committee_size: int
    committee_personas: tuple[str, ...]
    has_decision_maker: bool
    segment: str
    owner_rep_id: str | None
    model_version: str
    updated_at: int


def third_party_half_life(model: ScoringModel) -> Callable[[str], float]:
    """Every topic decays with the ``third_party`` category's half-life."""
    half_life = model.half_life_ms(THIRD_PARTY_CATEGORY)
    return lambda _topic: half_life


def observe_surge(
    values: Mapping[str, float], ref_ms: int, topic: str, strength: float, at_ms: int,
    model: ScoringModel,
) -> tuple[dict[str, float], int]:
    """Add a topic surge of ``strength`` observed at ``at_ms`` (lazy decay, order-free)."""
    return observe(values, ref_ms, topic, strength, at_ms, third_party_half_life(model))


def member_intent(contribution: MemberContributed, at_ms: int, model: ScoringModel) -> float:
    """The member's contact intent at ``at_ms``: the contact's own math (decay, caps, clamp)."""
    values = advance(dict(contribution.signal_values), contribution.ref_ms, at_ms,
                     half_life_of(model))
    return intent_score(values, model).intent


def topic_strengths(
    values: Mapping[str, float], ref_ms: int, at_ms: int, model: ScoringModel
) -> dict[str, float]:
    """Each topic's decayed strength at ``at_ms``, capped at ``TOPIC_CAP`` when read."""
    moved = advance(values, ref_ms, at_ms, third_party_half_life(model))
    return {topic: min(TOPIC_CAP, max(0.0, value)) for topic, value in moved.items()}


def is_engaged_member(contribution: MemberContributed, at_ms: int, window_ms: int) -> bool:
    """A member whose last positive signal is within the committee window of ``at_ms``."""
    engaged_at = contribution.engaged_at
    return engaged_at is not None and at_ms - engaged_at <= window_ms


def account_segment(firmographics: AccountFirmographics | None, model: ScoringModel) -> str:
    """smb / mid_market / enterprise from the account's size (``unknown`` without it)."""
    if firmographics is None:
        return model.segment_of(None)
    return model.segment_of(firmographics.employee_count, firmographics.named_account)


def account_thresholds(segment: str, model: ScoringModel) -> AccountThresholds:
    """The thresholds of ``segment``; an unknown segment uses the model's ``unknown_uses``."""
    bands = model.account.thresholds
    return bands.get(segment) or bands[model.unknown_segment_uses]


def score_account(
    contributions: tuple[MemberContributed, ...],
    third_party: Mapping[str, float],
    third_party_ref_ms: int,
    segment: str,
    at_ms: int,
    model: ScoringModel,
) -> AccountScore:
    """Score the account at ``at_ms``; summation runs in a fixed order (by id, by topic)."""
    rules = model.account
    member_points = tuple(
        (c.contact_id, rules.member_weight * member_intent(c, at_ms, model))
        for c in sorted(contributions, key=lambda c: c.contact_id)
    )
    member_part = sum(points for _, points in member_points)
    strengths = topic_strengths(third_party, third_party_ref_ms, at_ms, model)
    topic_points = tuple(
        (topic, rules.third_party_weight * strengths[topic]) for topic in sorted(strengths)
    )
    third_party_part = min(rules.third_party_cap, sum(points for _, points in topic_points))
    engaged = [c for c in contributions
               if is_engaged_member(c, at_ms, rules.committee_window_ms)]
    personas = tuple(sorted({c.persona.lower() for c in engaged if c.persona}))
    formed = (len(engaged) >= rules.committee_min_engaged
              and set(rules.committee_requires) <= set(personas))
    return AccountScore(
        at_ms=at_ms,
        segment=segment,
        thresholds=account_thresholds(segment, model),
        member_points=member_points,
        member_intent=member_part,
        topic_points=topic_points,
        third_party_intent=third_party_part,
        score=min(rules.score_cap, max(0.0, member_part + third_party_part)),
        committee=tuple(sorted(c.contact_id for c in engaged)),
        committee_personas=personas,
        committee_formed=formed,
    )


def decide_account_stage(
    current: str, before: AccountScore, after: AccountScore, *, member_left: bool
) -> AccountStageDecision | None:
    """The stage move after one input (None: stay); hysteresis keeps ``qualified`` until
    the score falls below ``exit``; a dissolving committee alone does not demote."""
    band = after.thresholds
    engaged_by_score = after.score >= band.engaged
    engaged = engaged_by_score or bool(after.committee)
    down = MEMBER_LEFT if member_left else THRESHOLD
    if current == QUALIFIED:
        if after.score >= band.exit:
            return None
        return AccountStageDecision(ENGAGED if engaged else NONE, down, band.exit)
    if after.score >= band.qualify and after.committee_formed:
        waited_for_committee = before.score >= band.qualify and not before.committee_formed
        trigger = COMMITTEE if waited_for_committee else THRESHOLD
        return AccountStageDecision(QUALIFIED, trigger, None if waited_for_committee
                                    else band.qualify)
    if current == NONE and engaged:
        if engaged_by_score:
            return AccountStageDecision(ENGAGED, THRESHOLD, band.engaged)
        return AccountStageDecision(ENGAGED, COMMITTEE, None)
    if current == ENGAGED and not engaged:
        return AccountStageDecision(NONE, down, band.engaged)
    return None


def stage_direction(from_stage: str, to_stage: str) -> str:
    return "up" if _RANK[to_stage] > _RANK[from_stage] else "down"


def account_reasons(score: AccountScore, counts: Mapping[str, int]) -> tuple[Reason, ...]:
    """The top members (weighted intent), then the top third-party topics (``counts``: surges)."""
    members = sorted((p for p in score.member_points if p[1] > NEGLIGIBLE),
                     key=lambda p: (-p[1], p[0]))[:TOP_REASONS]
    topics = sorted((p for p in score.topic_points if p[1] > NEGLIGIBLE),
                    key=lambda p: (-p[1], p[0]))[:TOP_REASONS]
    return (
        tuple(Reason(f"member:{cid}", "member", points, 1) for cid, points in members)
        + tuple(Reason(f"intent:{topic}", THIRD_PARTY_CATEGORY, points, counts.get(topic, 0))
                for topic, points in topics)
    )


def stage_changed(
    domain: str, account_id: str | None, from_stage: str, decision: AccountStageDecision,
    after: AccountScore, counts: Mapping[str, int], caused_by: str, at_ms: int,
    model: ScoringModel,
) -> AccountStageChanged:
    """The ``qualification.events`` record of an account's stage move."""
    return AccountStageChanged(
        event_id=derive_id("account-stage", domain, caused_by, from_stage, decision.to_stage),
        account_id=account_id,
        domain=domain,
        from_stage=from_stage,
        to_stage=decision.to_stage,
        direction=stage_direction(from_stage, decision.to_stage),
        trigger=decision.trigger,
        threshold=decision.threshold,
        score=after.score,
        member_intent=after.member_intent,
        third_party_intent=after.third_party_intent,
        committee_size=after.committee_size,
        committee_personas=after.committee_personas,
        has_decision_maker=after.has_decision_maker,
        segment=after.segment,
        model_version=model.version,
        reasons=account_reasons(after, counts),
        caused_by=caused_by,
        occurred_at=at_ms,
    )
