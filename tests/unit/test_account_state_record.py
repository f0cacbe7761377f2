"""The account table record round-trips a full account state through JSON."""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from typing import Any

from streams.config import DEFAULT_MODEL_PATH
from streams.core.account import AccountState, apply_account
from streams.core.account_events import (
    AccountFirmographics,
    AccountInput,
    MemberContributed,
    ThirdPartyIntent,
)
from streams.core.events import Origin
from streams.core.model import parse_model
from streams.shell.account_state import AccountStates, state_from_record, state_to_record

MODEL = parse_model(DEFAULT_MODEL_PATH.read_text())
T0 = 1_780_000_000_000


def test_round_trip_through_json() -> None:
    state = None
    inputs = [
        AccountFirmographics("a1", T0, "A1", "acme.com", "software", 500, None, "US", "NA",
                             ("salesforce",), "rep-1", False, False),
        ThirdPartyIntent("i1", T0 + 1, "lead scoring", 80, "bombora"),
        MemberContributed("m1", T0 + 2, "c-1", 3, T0 + 2, (("web.pricing", 15.0),),
                          "decision_maker", "vp", T0 + 2, "nurture"),
    ]
    for i, payload in enumerate(inputs):
        state, _ = apply_account(state, AccountInput("acme.com", payload, Origin("x", 0, i)),
                                 MODEL)
    assert state is not None
    assert state_from_record(json.loads(json.dumps(state_to_record(state)))) == state


def _full_state() -> AccountState:
    state = None
    inputs = [
        AccountFirmographics("a1", T0, "A1", "acme.com", "software", 500, None, "US", "NA",
                             ("salesforce", "hubspot"), "rep-1", False, True),
        ThirdPartyIntent("i1", T0 + 1, "lead scoring", 80, "bombora"),
        MemberContributed("m1", T0 + 2, "c-1", 3, T0 + 2, (("web.pricing", 15.0),),
                          "decision_maker", "vp", T0 + 2, "nurture"),
        MemberContributed("m2", T0 + 3, "c-2", 1, T0 + 3, (("email.click", 2.5),
                                                            ("web.visit", 1.0)),
                          None, None, None, "none"),
    ]
    for i, payload in enumerate(inputs):
        state, _ = apply_account(state, AccountInput("acme.com", payload, Origin("x", 0, i)),
                                 MODEL)
    assert state is not None
    return state


def test_record_is_what_asdict_gave() -> None:
    """Rows written before the hand-built record are read the same, and new rows are the same
    bytes as the old ``asdict`` ones."""
    state = _full_state()
    assert json.dumps(state_to_record(state)) == json.dumps(asdict(state))
    assert json.dumps(state_to_record(AccountState("empty.com"))) == \
        json.dumps(asdict(AccountState("empty.com")))


def test_account_states_cache_reads_the_table_only_for_keys_not_written_here() -> None:
    state = _full_state()
    table: dict[str, Any] = {"acme.com": json.loads(json.dumps(state_to_record(state)))}
    states = AccountStates(limit=2)
    assert states.read(table, "acme.com", 0) == state  # decoded from the row
    assert states.read(table, "nobody.com", 0) is None
    newer = replace(state, intent_signals=state.intent_signals + 1)
    states.remember("acme.com", 0, newer)
    assert states.read(table, "acme.com", 0) is newer  # the row is not read again
    assert states.read(table, "acme.com", 1) == state  # another partition: the row says
    # bounded: the least recently written key goes first
    states.remember("b.com", 0, AccountState("b.com"))
    states.remember("acme.com", 0, newer)  # written again: now the most recent
    states.remember("c.com", 0, AccountState("c.com"))
    assert len(states) == 2
    assert states.read(table, "acme.com", 0) is newer
    assert states.read({}, "b.com", 0) is None
    states.forget()
    assert len(states) == 0
    assert states.read(table, "acme.com", 0) == state
