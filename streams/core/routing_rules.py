"""The routing part of the scoring model: fallback pool, working hours, priority per trigger."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from streams.core.toml_fields import ModelError, Table, boolean, reject_unknown, string

PRIORITIES = ("p1", "p2", "p3")  # the contract's priority enum, most urgent first

# What a model without a [routing] section (or without one of its keys) uses.
DEFAULT_FALLBACK_POOL = "fallback"
DEFAULT_PRIORITY = "p3"
DEFAULT_PRIORITY_BY_TRIGGER: Mapping[str, str] = MappingProxyType({
    "form.demo_request": "p1",
    "form.contact_sales": "p1",
    "sales_ready": "p2",
    "account_qualified": "p2",
})
_KEYS = {"fallback_pool", "respect_working_hours", "priorities", "default_priority"}


def _default_priorities() -> Mapping[str, str]:
    return DEFAULT_PRIORITY_BY_TRIGGER


@dataclass(frozen=True, slots=True)
class RoutingRules:
    """How leads are routed: the last-resort pool, working hours, and priority per trigger."""

    fallback_pool: str = DEFAULT_FALLBACK_POOL
    respect_working_hours: bool = True
    priorities: Mapping[str, str] = field(default_factory=_default_priorities)
    default_priority: str = DEFAULT_PRIORITY

    def priority_of(self, trigger: str | None) -> str:
        """The priority of a routing trigger (a signal name or a stage/account event)."""
        if trigger is None:
            return self.default_priority
        return self.priorities.get(trigger, self.default_priority)


def _priority(value: object, where: str) -> str:
    if value not in PRIORITIES:
        raise ModelError(f"{where}: must be one of {', '.join(PRIORITIES)}, got {value!r}")
    return str(value)


def parse_routing(raw: Table) -> RoutingRules:
    """Parse the ``[routing]`` table (every key optional; a ``priorities`` table replaces the
    default one as a whole); raise ModelError."""
    where = "routing"
    reject_unknown(raw, _KEYS, where)
    fallback_pool = (string(raw, "fallback_pool", where).strip() if "fallback_pool" in raw
                     else DEFAULT_FALLBACK_POOL)
    respect = (boolean(raw, "respect_working_hours", where) if "respect_working_hours" in raw
               else True)
    default_priority = (_priority(raw["default_priority"], f"{where}.default_priority")
                        if "default_priority" in raw else DEFAULT_PRIORITY)
    priorities: Mapping[str, str] = DEFAULT_PRIORITY_BY_TRIGGER
    if "priorities" in raw:
        table = raw["priorities"]
        if not isinstance(table, Mapping):
            raise ModelError(f"{where}.priorities: must be a table of trigger -> p1|p2|p3")
        parsed = {}
        for trigger, value in table.items():
            if not trigger.strip():
                raise ModelError(f"{where}.priorities: a trigger name must not be empty")
            parsed[trigger] = _priority(value, f"{where}.priorities.{trigger!r}")
        priorities = MappingProxyType(parsed)
    return RoutingRules(
        fallback_pool=fallback_pool,
        respect_working_hours=respect,
        priorities=priorities,
        default_priority=default_priority,
    )
