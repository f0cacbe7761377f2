"""JSON-compatible records of the account agent's state, for its Faust table."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from streams.core.account import AccountState
from streams.core.account_events import AccountFirmographics, MemberContributed


def state_to_record(state: AccountState) -> dict[str, Any]:
    return asdict(state)  # nested dataclasses become dicts; tuples serialise as JSON lists


def state_from_record(raw: dict[str, Any]) -> AccountState:
    firmo = raw.get("firmographics")
    facts = None
    if firmo is not None:
        facts = AccountFirmographics(**{**firmo, "tech_stack": tuple(firmo["tech_stack"])})
    contributions = tuple(
        MemberContributed(**{**c, "signal_values": tuple((str(n), float(v))
                                                         for n, v in c["signal_values"])})
        for c in raw.get("contributions", ()))
    return AccountState(
        domain=raw["domain"],
        firmographics=facts,
        members=tuple(raw.get("members", ())),
        watermarks=tuple((str(s), int(o)) for s, o in raw.get("watermarks", ())),
        intent_signals=int(raw.get("intent_signals", 0)),
        updated_at=int(raw.get("updated_at", 0)),
        contributions=contributions,
        third_party_ref_ms=int(raw.get("third_party_ref_ms", 0)),
        third_party_values=tuple((str(n), float(v)) for n, v in raw.get("third_party_values", ())),
        third_party_counts=tuple((str(n), int(c)) for n, c in raw.get("third_party_counts", ())),
        stage=raw.get("stage", "none"),
        stage_since=raw.get("stage_since"),
        committee_size=int(raw.get("committee_size", 0)),
        ref_ms=int(raw.get("ref_ms", 0)),
    )
