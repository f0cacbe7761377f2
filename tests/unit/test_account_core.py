"""Account core: membership, firmographics sharing and re-delivery (pure)."""

from __future__ import annotations

from dataclasses import replace

from streams.config import DEFAULT_MODEL_PATH
from streams.core.account import FirmographicsShared, apply_account
from streams.core.account_events import AccountFirmographics, AccountInput, MemberJoined, MemberLeft
from streams.core.events import Origin
from streams.core.model import parse_model

MODEL = parse_model(DEFAULT_MODEL_PATH.read_text(encoding="utf-8"))

FACTS = AccountFirmographics("a1", 1000, "A1", "acme.com", "software", 500, None, "US", "NA",
                             ("salesforce",), "rep-1", False, False)


def crm(offset: int, facts: AccountFirmographics) -> AccountInput:
    return AccountInput("acme.com", facts, Origin("crm", 0, offset))


def at(offset: int, payload: object) -> AccountInput:
    return AccountInput("acme.com", payload, Origin("qualstream.contact-inputs", 0, offset))  # type: ignore[arg-type]


def test_member_gets_firmographics_when_known_and_on_update() -> None:
    state, effects = apply_account(None, at(1, MemberJoined("j1", 900, "c1")), MODEL)
    assert effects == [] and state.members == ("c1",)
    state, effects = apply_account(state, crm(1, FACTS), MODEL)
    assert len(effects) == 1 and isinstance(effects[0], FirmographicsShared)
    assert effects == [FirmographicsShared(("c1",), effects[0].facts)]
    assert effects[0].facts.employee_count == 500
    state, effects = apply_account(state, at(2, MemberJoined("j2", 1100, "c2")), MODEL)
    assert isinstance(effects[0], FirmographicsShared) and effects[0].contact_ids == ("c2",)
    assert state.members == ("c1", "c2")


def test_redelivery_is_a_no_op_and_older_firmographics_lose() -> None:
    state, _ = apply_account(None, crm(5, FACTS), MODEL)
    again, effects = apply_account(state, crm(5, FACTS), MODEL)
    assert again is state and effects == []
    older = replace(FACTS, occurred_at=10, employee_count=1)
    kept, _ = apply_account(state, crm(6, older), MODEL)
    assert kept.firmographics == FACTS


def test_member_left_is_removed() -> None:
    state, _ = apply_account(None, at(1, MemberJoined("j1", 900, "c1")), MODEL)
    state, _ = apply_account(state, at(2, MemberLeft("l1", 950, "c1")), MODEL)
    assert state.members == ()
