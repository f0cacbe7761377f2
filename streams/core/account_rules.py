"""The account part of the scoring model: rollup weights, caps, buying committee, thresholds."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from streams.core.toml_fields import (
    ModelError,
    Table,
    as_number,
    integer,
    number,
    reject_unknown,
    strings,
)

DAY_MS = 86_400_000
THIRD_PARTY_CATEGORY = "third_party"  # the half-life category of topic surges
TOPIC_CAP = 100.0  # a topic's decayed strength counts up to one full-strength surge

# What a model without an [account] section (or without one of its keys) uses.
DEFAULTS: Mapping[str, object] = MappingProxyType({
    "member_weight": 1.0,
    "third_party_weight": 0.5,
    "third_party_cap": 50.0,
    "score_cap": 100.0,
    "committee_window_days": 30.0,
    "committee_min_engaged": 3,
    "committee_requires": ("decision_maker",),
})
DEFAULT_THRESHOLDS: Mapping[str, tuple[float, float, float]] = MappingProxyType({
    "smb": (20.0, 60.0, 45.0),  # (engaged, qualify, exit)
    "mid_market": (20.0, 55.0, 40.0),
    "enterprise": (15.0, 50.0, 35.0),
})
_KEYS = {*DEFAULTS, "thresholds"}


@dataclass(frozen=True, slots=True)
class AccountThresholds:
    """An account segment's stages: engaged at ``engaged``; qualified at ``qualify`` (with a
    committee), kept until the score falls below ``exit``."""

    engaged: float
    qualify: float
    exit: float


@dataclass(frozen=True, slots=True)
class AccountRules:
    """How member and third-party intent roll up into an account score and stage."""

    member_weight: float  # times the SUM of member intents
    third_party_weight: float  # times the decayed topic strengths (each capped at 100)
    third_party_cap: float  # bound on the weighted third-party part
    score_cap: float
    committee_window_days: float
    committee_min_engaged: int
    committee_requires: tuple[str, ...]  # personas the committee must include (sorted)
    thresholds: Mapping[str, AccountThresholds]  # segment name -> thresholds

    @property
    def committee_window_ms(self) -> int:
        return round(self.committee_window_days * DAY_MS)


def _thresholds(raw: object, segments: Collection[str]) -> dict[str, AccountThresholds]:
    where = "account.thresholds"
    if raw is None:
        raw = {name: dict(zip(("engaged", "qualify", "exit"), band, strict=True))
               for name, band in DEFAULT_THRESHOLDS.items() if name in segments}
    if not isinstance(raw, Mapping):
        raise ModelError(f"{where}: must be a table of segment -> {{engaged, qualify, exit}}")
    unknown = sorted(set(raw) - set(segments))
    missing = sorted(set(segments) - set(raw))
    if unknown or missing:
        raise ModelError(f"{where}: unknown segment(s) {', '.join(unknown) or '-'}; "
                         f"missing segment(s) {', '.join(missing) or '-'}")
    bands = {}
    for name, entry in raw.items():
        at = f"{where}.{name}"
        if not isinstance(entry, Mapping):
            raise ModelError(f"{at}: must be a table {{engaged, qualify, exit}}")
        reject_unknown(entry, {"engaged", "qualify", "exit"}, at)
        engaged, qualify = number(entry, "engaged", at), number(entry, "qualify", at)
        exit_ = number(entry, "exit", at)
        if not 0 <= engaged <= qualify:
            raise ModelError(f"{at}: need 0 <= engaged ({engaged}) <= qualify ({qualify})")
        if not 0 <= exit_ < qualify:
            raise ModelError(f"{at}: need 0 <= exit ({exit_}) < qualify ({qualify})")
        bands[name] = AccountThresholds(engaged, qualify, exit_)
    return bands


def parse_account(
    raw: Table, segments: Collection[str], personas: Collection[str]
) -> AccountRules:
    """Parse the ``[account]`` table (every key optional; see ``DEFAULTS``); raise ModelError."""
    where = "account"
    reject_unknown(raw, _KEYS, where)
    merged = {**DEFAULTS, **raw}

    def non_negative(key: str) -> float:
        value = as_number(merged[key], f"{where}.{key}")
        if value < 0:
            raise ModelError(f"{where}.{key}: must be >= 0, got {value}")
        return value

    member_weight, third_party_weight = non_negative("member_weight"), non_negative(
        "third_party_weight")
    third_party_cap, score_cap = non_negative("third_party_cap"), non_negative("score_cap")
    window_days = non_negative("committee_window_days")
    if score_cap <= 0 or window_days <= 0:
        raise ModelError(f"{where}: score_cap and committee_window_days must be > 0")
    min_engaged = integer(merged, "committee_min_engaged", where)
    if min_engaged < 1:
        raise ModelError(f"{where}.committee_min_engaged: must be >= 1, got {min_engaged}")
    requires = merged["committee_requires"]
    if isinstance(requires, tuple):
        requires = list(requires)
    required = strings({"committee_requires": requires}, "committee_requires", where, lower=True)
    unknown = sorted(set(required) - set(personas))
    if unknown:
        raise ModelError(f"{where}.committee_requires: unknown persona(s) {', '.join(unknown)}")
    thresholds = _thresholds(raw.get("thresholds"), segments)
    if any(band.qualify > score_cap for band in thresholds.values()):
        raise ModelError(f"{where}.thresholds: a qualify threshold above score_cap ({score_cap}) "
                         "can never be reached")
    return AccountRules(
        member_weight=member_weight,
        third_party_weight=third_party_weight,
        third_party_cap=third_party_cap,
        score_cap=score_cap,
        committee_window_days=window_days,
        committee_min_engaged=min_engaged,
        committee_requires=tuple(sorted(set(required))),
        thresholds=MappingProxyType(thresholds),
    )
