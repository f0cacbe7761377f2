"""JSON-compatible records of the account agent's state, for its Faust table, and the decoded
state of the accounts written here last."""

from __future__ import annotations

from dataclasses import fields
from typing import TYPE_CHECKING, Any

from streams.core.account import AccountState
from streams.core.account_events import AccountFirmographics, MemberContributed
from streams.shell.last_written import LastWritten

if TYPE_CHECKING:
    from collections.abc import Mapping

_STATE_FIELDS = tuple(f.name for f in fields(AccountState))
_FACT_FIELDS = tuple(f.name for f in fields(AccountFirmographics))
_MEMBER_FIELDS = tuple(f.name for f in fields(MemberContributed))
# Decoded states kept (the most recently written): bounded, as a worker may own many accounts.
CACHED_ACCOUNTS = 4096


def _flat(obj: Any, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in names}


def state_to_record(state: AccountState) -> dict[str, Any]:
    """The same dict as ``dataclasses.asdict`` (tuples serialise as JSON lists), built field
    by field: ``asdict`` deep-copies every member's contribution, ~12% of the account agent."""
    record = _flat(state, _STATE_FIELDS)
    facts = state.firmographics
    record["firmographics"] = None if facts is None else _flat(facts, _FACT_FIELDS)
    record["contributions"] = [_flat(c, _MEMBER_FIELDS) for c in state.contributions]
    return record


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



class AccountStates(LastWritten[AccountState]):
    """The decoded state of the accounts this worker wrote last (see ``LastWritten``)."""

    def __init__(self, limit: int = CACHED_ACCOUNTS) -> None:
        super().__init__(limit)

    def read(self, table: Mapping[str, Any], key: str, partition: int) -> AccountState | None:
        """The account's state: as written here last, else decoded from its row."""
        known = self.get(key, partition)
        if known is not None:
            return known
        stored = table.get(key)
        return state_from_record(stored) if stored else None
