"""JSON-compatible records of the account agent's state, for its Faust table."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from streams.core.account import AccountState
from streams.core.account_events import AccountFirmographics


def state_to_record(state: AccountState) -> dict[str, Any]:
    firmo = asdict(state.firmographics) if state.firmographics else None
    if firmo is not None:
        firmo["tech_stack"] = list(firmo["tech_stack"])
    return {
        "domain": state.domain,
        "firmographics": firmo,
        "members": list(state.members),
        "watermarks": [[s, o] for s, o in state.watermarks],
        "intent_signals": state.intent_signals,
        "updated_at": state.updated_at,
    }


def state_from_record(raw: dict[str, Any]) -> AccountState:
    firmo = raw.get("firmographics")
    facts = None
    if firmo is not None:
        facts = AccountFirmographics(**{**firmo, "tech_stack": tuple(firmo["tech_stack"])})
    return AccountState(
        domain=raw["domain"],
        firmographics=facts,
        members=tuple(raw.get("members", ())),
        watermarks=tuple((str(s), int(o)) for s, o in raw.get("watermarks", ())),
        intent_signals=int(raw.get("intent_signals", 0)),
        updated_at=int(raw.get("updated_at", 0)),
    )
