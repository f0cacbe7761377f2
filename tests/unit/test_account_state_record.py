"""The account table record round-trips a full account state through JSON."""

from __future__ import annotations

import json

from streams.config import DEFAULT_MODEL_PATH
from streams.core.account import apply_account
from streams.core.account_events import (
    AccountFirmographics,
    AccountInput,
    MemberContributed,
    ThirdPartyIntent,
)
from streams.core.events import Origin
from streams.core.model import parse_model
from streams.shell.account_state import state_from_record, state_to_record

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
