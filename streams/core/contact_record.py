"""Lossless ContactState <-> JSON-compatible dict (compact keys) for the contact table."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from streams.core.contact_state import ContactState
from streams.core.effects import Touch
from streams.core.events import AccountProfiled, ContactProfiled

RECORD_VERSION = 1


def _touch_out(touch: Touch | None) -> list[Any] | None:
    if touch is None:
        return None
    return [touch.event_id, touch.signal, touch.source, touch.channel, touch.occurred_at]


def _touch_in(raw: list[Any] | None) -> Touch | None:
    if raw is None:
        return None
    event_id, signal, source, channel, occurred_at = raw
    return Touch(event_id, signal, source, channel, int(occurred_at))


def _facts_out(facts: ContactProfiled | AccountProfiled | None) -> dict[str, Any] | None:
    if facts is None:
        return None
    out = {f.name: getattr(facts, f.name) for f in fields(facts)}
    if isinstance(facts, AccountProfiled):
        out["tech_stack"] = list(facts.tech_stack)
    return out


def _profile_in(raw: dict[str, Any] | None) -> ContactProfiled | None:
    return None if raw is None else ContactProfiled(**raw)


def _account_in(raw: dict[str, Any] | None) -> AccountProfiled | None:
    if raw is None:
        return None
    return AccountProfiled(**{**raw, "tech_stack": tuple(raw["tech_stack"])})


def to_record(state: ContactState) -> dict[str, Any]:
    """``state`` as JSON-compatible primitives (dicts, lists, str, int, float, bool, None)."""
    return {
        "v": RECORD_VERSION,
        "id": state.contact_id,
        "st": state.stage,
        "dom": state.email_domain,
        "acc": state.account_id,
        "pf": _facts_out(state.profile),
        "af": _facts_out(state.account),
        "ref": state.ref_ms,
        "sv": [[name, value] for name, value in state.signal_values],
        "sc": [[name, count] for name, count in state.signal_counts],
        "ft": _touch_out(state.first_touch),
        "lt": _touch_out(state.last_touch),
        "rid": list(state.recent_event_ids),
        "wm": [[stream, offset] for stream, offset in state.watermarks],
        "n": state.events_applied,
        "hold": state.hold_until,
        "since": state.stage_since,
        "last": state.last_event_id,
        "upd": state.updated_at,
        "ascore": state.account_score,
        "acomm": state.committee_size,
        "astage": state.account_stage,
    }


def from_record(record: dict[str, Any]) -> ContactState:
    """Rebuild the ContactState that ``to_record`` wrote."""
    version = record.get("v")
    if version != RECORD_VERSION:
        raise ValueError(f"unsupported contact record version {version!r}")
    return ContactState(
        contact_id=record["id"],
        stage=record["st"],
        email_domain=record["dom"],
        account_id=record["acc"],
        profile=_profile_in(record["pf"]),
        account=_account_in(record["af"]),
        ref_ms=int(record["ref"]),
        signal_values=tuple((name, float(value)) for name, value in record["sv"]),
        signal_counts=tuple((name, int(count)) for name, count in record["sc"]),
        first_touch=_touch_in(record["ft"]),
        last_touch=_touch_in(record["lt"]),
        recent_event_ids=tuple(record["rid"]),
        watermarks=tuple((stream, int(offset)) for stream, offset in record["wm"]),
        events_applied=int(record["n"]),
        hold_until=record["hold"],
        stage_since=record["since"],
        last_event_id=record["last"],
        updated_at=int(record["upd"]),
        account_score=record.get("ascore"),
        committee_size=record.get("acomm"),
        account_stage=record.get("astage"),
    )
