"""Account rollup: score, buying committee, stage transitions, erasure, snapshot (pure)."""

from __future__ import annotations

import math
from dataclasses import fields, replace

import pytest

from streams.config import DEFAULT_MODEL_PATH
from streams.core.account import (
    AccountContextShared,
    AccountEffect,
    AccountSnapshot,
    AccountStageChanged,
    AccountState,
    account_snapshot,
    apply_account,
    recompute_accounts,
)
from streams.core.account_events import (
    AccountFirmographics,
    AccountInput,
    AccountPayload,
    MemberContributed,
    MemberLeft,
    ThirdPartyIntent,
)
from streams.core.effects import Reason
from streams.core.events import Origin
from streams.core.model import parse_model

MODEL = parse_model(DEFAULT_MODEL_PATH.read_text(encoding="utf-8"))
DAY = 86_400_000
T0 = 1_800_000_000_000
FACTS = AccountFirmographics("f1", T0, "A1", "acme.com", "software", 500, None, "US", "NA",
                             ("salesforce",), "rep-1", False, False)  # mid_market: 20 / 55 / 40


def contributed(contact: str, version: int, at: int, pricing: float, persona: str | None,
                engaged: bool = True) -> MemberContributed:
    """A member whose only signal is ``web.pricing`` (cap 30) worth ``pricing`` at ``at``."""
    return MemberContributed(f"mc-{contact}-{version}", at, contact, version, at,
                             (("web.pricing", pricing),), persona, "vp",
                             at if engaged else None, "nurture")


class Account:
    """Feeds inputs with increasing offsets and keeps every effect."""

    def __init__(self) -> None:
        self.state: AccountState | None = None
        self.offset = 0
        self.effects: list[AccountEffect] = []

    def send(self, payload: AccountPayload) -> list[AccountEffect]:
        self.offset += 1
        inp = AccountInput("acme.com", payload, Origin("qualstream.account-inputs", 0, self.offset))
        self.state, effects = apply_account(self.state, inp, MODEL)
        self.effects.extend(effects)
        return effects

    @property
    def stages(self) -> list[AccountStageChanged]:
        return [e for e in self.effects if isinstance(e, AccountStageChanged)]

    def qualified(self) -> int:
        return sum(1 for e in self.stages if e.to_stage == "qualified")


def named(effects: list[AccountEffect]) -> set[str]:
    """Every contact id an effect names (recipients and explanations)."""
    ids: set[str] = set()
    for effect in effects:
        if isinstance(effect, AccountStageChanged):
            ids |= {r.signal.removeprefix("member:") for r in effect.reasons
                    if r.category == "member"}
        else:
            ids |= set(effect.contact_ids)
    return ids


def committee(account: Account, third_persona: str = "decision_maker") -> None:
    account.send(FACTS)
    account.send(contributed("c1", 1, T0, 30, "champion"))
    account.send(contributed("c2", 1, T0 + 1, 30, "technical_evaluator"))
    account.send(contributed("c3", 1, T0 + 2, 30, third_persona))


def test_three_engaged_contacts_with_a_decision_maker_qualify_the_account_once() -> None:
    account = Account()
    committee(account)
    assert [(e.from_stage, e.to_stage, e.trigger) for e in account.stages] == [
        ("none", "engaged", "threshold"), ("engaged", "qualified", "committee")]
    event = account.stages[-1]
    assert event.account_id == "A1" and event.domain == "acme.com" and event.direction == "up"
    assert event.committee_size == 3 and event.has_decision_maker
    assert event.committee_personas == ("champion", "decision_maker", "technical_evaluator")
    assert event.segment == "mid_market" and event.model_version == MODEL.version
    assert event.score == pytest.approx(90.0) and event.member_intent == pytest.approx(90.0)
    # the latest member decayed least, so it leads the explanation
    assert [(r.signal, r.category, r.count) for r in event.reasons] == [
        (f"member:{c}", "member", 1) for c in ("c3", "c2", "c1")]
    assert [r.points for r in event.reasons] == pytest.approx([30.0] * 3)
    assert event.occurred_at == T0 + 2 and event.caused_by == "mc-c3-1"
    for version in (2, 3):  # more intent from a qualified account: no second event
        account.send(contributed("c1", version, T0 + 3 * version, 30, "champion"))
    assert account.qualified() == 1
    assert account.state is not None and account.state.stage_since == T0 + 2


def test_no_qualification_without_the_decision_maker() -> None:
    account = Account()
    committee(account, third_persona="procurement")
    assert account.qualified() == 0
    assert account.state is not None and account.state.stage == "engaged"
    snapshot = account_snapshot(account.state, MODEL)
    assert snapshot.committee_size == 3 and not snapshot.has_decision_maker


def test_a_score_already_over_qualify_waits_for_the_committee_then_threshold() -> None:
    account = Account()
    account.send(FACTS)
    account.send(contributed("c1", 1, T0, 30, "decision_maker"))
    account.send(contributed("c2", 1, T0, 30, "champion"))
    assert account.qualified() == 0  # 60 >= 55, but only two engaged members
    account.send(contributed("c3", 1, T0, 0, "end_user"))  # engaged, no intent left
    assert account.stages[-1].trigger == "committee" and account.stages[-1].threshold is None


def test_hysteresis_one_transition_per_real_crossing() -> None:
    account = Account()
    committee(account)
    account.send(contributed("c1", 2, T0 + 10, 0, "champion"))  # 60: above exit 40
    account.send(contributed("c2", 2, T0 + 11, 15, "technical_evaluator"))  # 45: still above
    assert account.qualified() == 1 and account.stages[-1].to_stage == "qualified"
    account.send(contributed("c2", 3, T0 + 12, 5, "technical_evaluator"))  # 35 < 40
    down = account.stages[-1]
    assert (down.from_stage, down.to_stage, down.direction) == ("qualified", "engaged", "down")
    assert down.trigger == "threshold" and down.threshold == 40.0
    account.send(contributed("c2", 4, T0 + 13, 30, "technical_evaluator"))  # 60: back up
    assert account.qualified() == 2 and account.stages[-1].trigger == "threshold"
    assert account.stages[-1].threshold == 55.0
    ids = [e.event_id for e in account.stages]
    assert len(ids) == len(set(ids))


def test_a_dissolving_committee_alone_does_not_demote() -> None:
    account = Account()
    committee(account)
    later = T0 + 40 * DAY  # nobody engaged within 30 days; 90 * 2^(-40/30) ~ 35.7 < 40 though
    account.send(ThirdPartyIntent("s1", later, "crm", 100, "bombora"))  # + 50 third-party
    assert account.state is not None
    snapshot = account_snapshot(account.state, MODEL)
    assert snapshot.committee_size == 0 and snapshot.score >= 40
    assert account.state.stage == "qualified" and account.qualified() == 1
    context = account.effects[-1]
    assert isinstance(context, AccountContextShared) and context.committee_size == 0


def test_member_left_removes_it_from_score_committee_and_every_later_output() -> None:
    account = Account()
    committee(account)
    account.effects.clear()
    account.send(MemberLeft("l3", T0 + 5, "c3"))
    assert account.state is not None and "c3" not in account.state.members
    assert all(c.contact_id != "c3" for c in account.state.contributions)
    snapshot = account_snapshot(account.state, MODEL)
    assert snapshot.committee_size == 2 and snapshot.score == pytest.approx(60.0)
    assert account.state.stage == "qualified"  # 60 >= exit: the committee alone does not demote
    assert named(account.effects) == {"c1", "c2"}  # committee 3 -> 2, shared with who is left
    account.effects.clear()
    account.send(MemberLeft("l2", T0 + 6, "c2"))
    down = account.stages[-1]
    assert (down.to_stage, down.trigger, down.threshold) == ("engaged", "member_left", 40.0)
    account.send(ThirdPartyIntent("s1", T0 + 7, "crm", 20, "bombora"))
    account.send(contributed("c1", 2, T0 + 8, 30, "champion"))
    assert account.effects and named(account.effects) == {"c1"}


def test_stale_versions_and_redeliveries_change_nothing() -> None:
    account = Account()
    account.send(contributed("c1", 2, T0 + 10, 10, "champion"))
    before = account.state
    assert before is not None
    effects = account.send(contributed("c1", 1, T0 + 20, 30, "champion"))  # older version
    assert account.state is not None
    assert effects == [] and replace(account.state, watermarks=()) == replace(before,
                                                                             watermarks=())
    again, effects = apply_account(account.state, AccountInput(
        "acme.com", contributed("c1", 3, T0 + 30, 30, "champion"),
        Origin("qualstream.account-inputs", 0, account.offset)), MODEL)
    assert again is account.state and effects == []
    tie = replace(contributed("c1", 2, T0 + 10, 25, "champion"), event_id="mc-c1-2b")
    account.send(tie)  # same version: the larger event_id wins
    assert account.state is not None and account.state.contributions == (tie,)


def test_context_is_shared_only_when_stage_or_committee_changes() -> None:
    account = Account()
    account.send(contributed("c1", 1, T0, 30, "champion"))
    context = account.effects[-1]
    assert isinstance(context, AccountContextShared)
    assert (context.contact_ids, context.committee_size, context.account_stage) == (
        ("c1",), 1, "engaged")
    assert account.send(contributed("c1", 2, T0 + 1, 25, "champion")) == []  # a score wiggle
    assert account.send(ThirdPartyIntent("s1", T0 + 2, "crm", 10, "bombora")) == []


def test_third_party_intent_decays_caps_per_topic_and_in_total() -> None:
    surges = [ThirdPartyIntent(f"s{i}", T0, "crm", 80, "bombora") for i in range(2)]
    inputs = [AccountInput("acme.com", s) for s in surges]
    state = recompute_accounts(inputs, MODEL)["acme.com"]
    assert math.isclose(account_snapshot(state, MODEL).third_party_intent, 50.0)  # 160 -> 100
    one = recompute_accounts(inputs[:1], MODEL)["acme.com"]
    assert math.isclose(account_snapshot(one, MODEL).third_party_intent, 40.0)
    week = recompute_accounts([*inputs[:1], AccountInput(
        "acme.com", ThirdPartyIntent("s9", T0 + 7 * DAY, "ai", 0, "g2"))], MODEL)["acme.com"]
    assert math.isclose(account_snapshot(week, MODEL).third_party_intent, 20.0)  # half-life 7d
    topics = [ThirdPartyIntent(f"t{i}", T0, topic, 70, "g2") for i, topic in enumerate("abc")]
    many = recompute_accounts([AccountInput("acme.com", t) for t in topics], MODEL)["acme.com"]
    assert math.isclose(account_snapshot(many, MODEL).third_party_intent, 50.0)  # 105 -> 50


def test_third_party_alone_engages_and_reasons_name_topics() -> None:
    account = Account()
    account.send(ThirdPartyIntent("s1", T0, "crm", 60, "bombora"))
    account.send(ThirdPartyIntent("s2", T0, "crm", 10, "bombora"))
    (event,) = account.stages
    assert (event.to_stage, event.account_id, event.segment) == ("engaged", None, "unknown")
    assert event.threshold == 20.0  # unknown segment uses mid_market's thresholds
    assert event.reasons == (Reason("intent:crm", "third_party", 30.0, 1),)


def test_snapshot_has_the_contract_fields() -> None:
    assert [f.name for f in fields(AccountSnapshot)] == [
        "account_id", "domain", "stage", "score", "member_intent", "third_party_intent",
        "committee_size", "committee_personas", "has_decision_maker", "segment",
        "owner_rep_id", "model_version", "updated_at"]
    account = Account()
    committee(account)
    assert account.state is not None
    snapshot = account_snapshot(account.state, MODEL)
    assert snapshot == AccountSnapshot(
        "A1", "acme.com", "qualified", snapshot.score, snapshot.member_intent, 0.0, 3,
        ("champion", "decision_maker", "technical_evaluator"), True, "mid_market", "rep-1",
        MODEL.version, T0 + 2)
    assert snapshot.score == pytest.approx(90.0)
    bare = account_snapshot(AccountState(domain="new.io"), MODEL)
    assert (bare.account_id, bare.stage, bare.score, bare.owner_rep_id) == (
        "new.io", "none", 0.0, None)


@pytest.mark.parametrize(
    ("employees", "named", "segment", "qualify"),
    [(50, False, "smb", 60.0), (500, False, "mid_market", 55.0),
     (5000, False, "enterprise", 50.0), (50, True, "enterprise", 50.0)],
)
def test_account_thresholds_follow_the_segment(employees: int, named: bool, segment: str,
                                               qualify: float) -> None:
    account = Account()
    account.send(replace(FACTS, employee_count=employees, named_account=named))
    account.send(contributed("c1", 1, T0, 30, "decision_maker"))
    account.send(contributed("c2", 1, T0, 30, "champion"))
    account.send(contributed("c3", 1, T0, 30, "champion"))
    event = account.stages[-1]
    assert (event.segment, event.to_stage) == (segment, "qualified")
    assert event.trigger == "committee"
    assert MODEL.account.thresholds[segment].qualify == qualify
