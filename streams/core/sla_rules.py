"""The SLA part of the scoring model: timer durations per kind and priority, warning, escalation."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from streams.core.toml_fields import ModelError, Table, as_number, boolean, reject_unknown, string

PRIORITIES = ("p1", "p2", "p3")
KINDS = ("first_touch", "accept_reject")
ESCALATIONS = ("reassign", "manager")
_UNIT_MS = (("seconds", 1_000), ("minutes", 60_000), ("hours", 3_600_000))
_KIND_KEYS = {*(unit for unit, _ in _UNIT_MS), "business_hours", "escalation"}

# What a model without an [sla] section (or without one of its keys) uses.
DEFAULT_WARNING_FRACTION = 0.75
_DEFAULT_KINDS: Mapping[str, Mapping[str, object]] = {
    "first_touch": {"minutes": {"p1": 5, "p2": 60, "p3": 240}, "business_hours": False,
                    "escalation": "reassign"},
    "accept_reject": {"hours": 48, "business_hours": True, "escalation": "manager"},
}


@dataclass(frozen=True, slots=True)
class SlaKindRules:
    """One kind of SLA: how long the rep has per priority, and what happens on a breach."""

    kind: str
    durations_ms: tuple[tuple[str, int], ...]  # (priority, duration), in PRIORITIES order
    business_hours: bool  # count only the rep's working hours (when the rep is known)
    escalation: str  # reassign | manager

    def duration_ms(self, priority: str) -> int:
        for name, duration in self.durations_ms:
            if name == priority:
                return duration
        raise ValueError(f"sla.{self.kind}: unknown priority {priority!r}")


@dataclass(frozen=True, slots=True)
class SlaRules:
    """Every SLA kind's rules and the fraction of the duration at which a warning fires."""

    warning_fraction: float
    kinds: tuple[SlaKindRules, ...]  # in KINDS order

    def of(self, kind: str) -> SlaKindRules:
        for rules in self.kinds:
            if rules.kind == kind:
                return rules
        raise ValueError(f"sla: unknown kind {kind!r}")


def _durations(raw: Table, where: str) -> tuple[tuple[str, int], ...]:
    """Read the one duration key (seconds, minutes or hours): a number or a table per priority."""
    given = [(unit, ms) for unit, ms in _UNIT_MS if unit in raw]
    if len(given) != 1:
        raise ModelError(f"{where}: give exactly one of seconds, minutes, hours")
    unit, unit_ms = given[0]
    value = raw[unit]
    if isinstance(value, Mapping):
        reject_unknown(value, set(PRIORITIES), f"{where}.{unit}")
        missing = [p for p in PRIORITIES if p not in value]
        if missing:
            raise ModelError(f"{where}.{unit}: missing priority(s) {', '.join(missing)}")
        amounts = [as_number(value[p], f"{where}.{unit}.{p}") for p in PRIORITIES]
    else:
        amounts = [as_number(value, f"{where}.{unit}")] * len(PRIORITIES)
    durations = tuple((p, round(amount * unit_ms)) for p, amount in zip(PRIORITIES, amounts,
                                                                         strict=True))
    if any(duration <= 0 for _, duration in durations):
        raise ModelError(f"{where}.{unit}: every duration must be > 0")
    return durations


def _kind(raw: object, kind: str) -> SlaKindRules:
    where = f"sla.{kind}"
    if not isinstance(raw, Mapping):
        raise ModelError(f"{where}: must be a table")
    reject_unknown(raw, _KIND_KEYS, where)
    defaults = dict(_DEFAULT_KINDS[kind])
    units = {unit for unit, _ in _UNIT_MS}
    if units & set(raw):  # a duration in the file replaces the default one, whatever its unit
        defaults = {key: value for key, value in defaults.items() if key not in units}
    merged = {**defaults, **raw}
    escalation = string(merged, "escalation", where)
    if escalation not in ESCALATIONS:
        raise ModelError(f"{where}.escalation: must be one of {', '.join(ESCALATIONS)}")
    return SlaKindRules(kind, _durations(merged, where), boolean(merged, "business_hours", where),
                        escalation)


def parse_sla(raw: Table) -> SlaRules:
    """Parse the ``[sla]`` table (every key optional; defaults above); raise ModelError."""
    reject_unknown(raw, {"warning_fraction", *KINDS}, "sla")
    fraction = as_number(raw.get("warning_fraction", DEFAULT_WARNING_FRACTION),
                         "sla.warning_fraction")
    if not 0 < fraction < 1:
        raise ModelError(f"sla.warning_fraction: must be > 0 and < 1, got {fraction}")
    return SlaRules(fraction, tuple(_kind(raw.get(kind, {}), kind) for kind in KINDS))


DEFAULT_SLA = parse_sla({})
