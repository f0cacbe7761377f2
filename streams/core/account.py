"""Account state: firmographics and members, shared with every member contact (a foreign-key join)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from streams.core.account_events import (
    AccountFirmographics,
    AccountInput,
    MemberJoined,
    MemberLeft,
    ThirdPartyIntent,
)
from streams.core.events import AccountProfiled


@dataclass(frozen=True, slots=True)
class AccountState:
    """What the account agent keeps per company domain."""

    domain: str
    firmographics: AccountFirmographics | None = None
    members: tuple[str, ...] = ()
    watermarks: tuple[tuple[str, int], ...] = ()
    intent_signals: int = 0
    updated_at: int = 0


@dataclass(frozen=True, slots=True)
class FirmographicsShared:
    """Send these firmographics to each listed member contact."""

    contact_ids: tuple[str, ...]
    facts: AccountProfiled


AccountEffect = FirmographicsShared


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


def apply_account(
    state: AccountState | None, inp: AccountInput
) -> tuple[AccountState, list[AccountEffect]]:
    """Fold one account input; re-deliveries at or below the origin watermark are no-ops."""
    current = state if state is not None else AccountState(domain=inp.domain)
    if inp.origin is not None:
        if inp.origin.offset <= _watermark(current, inp.origin.stream):
            return current, []
        current = _with_watermark(current, inp.origin.stream, inp.origin.offset)
    payload = inp.payload
    current = replace(current, updated_at=max(current.updated_at, payload.occurred_at))
    if isinstance(payload, AccountFirmographics):
        if not _newer(payload, current.firmographics):
            return current, []
        current = replace(current, firmographics=payload)
        effects: list[AccountEffect] = []
        if current.members:
            effects.append(FirmographicsShared(current.members, profiled(payload)))
        return current, effects
    if isinstance(payload, MemberJoined):
        if payload.contact_id not in current.members:
            current = replace(
                current, members=tuple(sorted((*current.members, payload.contact_id)))
            )
        if current.firmographics is None:
            return current, []
        return current, [FirmographicsShared((payload.contact_id,), profiled(current.firmographics))]
    if isinstance(payload, MemberLeft):
        members = tuple(m for m in current.members if m != payload.contact_id)
        return replace(current, members=members), []
    if isinstance(payload, ThirdPartyIntent):
        return replace(current, intent_signals=current.intent_signals + 1), []
    raise TypeError(f"unknown account payload {type(payload).__name__}")
