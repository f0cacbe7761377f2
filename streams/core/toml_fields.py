"""Typed readers for TOML tables: every wrong type becomes a ModelError naming its key."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class ModelError(ValueError):
    """The scoring model is invalid; the message names the offending key."""


Table = Mapping[str, Any]


def table(parent: Table, key: str, where: str) -> Table:
    """Return the sub-table ``key`` of ``parent`` (required)."""
    value = parent.get(key)
    if not isinstance(value, Mapping):
        raise ModelError(f"{where}.{key}: missing or not a table")
    return value


def optional_table(parent: Table, key: str, where: str) -> Table:
    """Return the sub-table ``key`` of ``parent``, or an empty table when it is absent."""
    if key not in parent:
        return {}
    return table(parent, key, where)


def number(parent: Table, key: str, where: str) -> float:
    """Return a required int or float (booleans are not numbers here)."""
    if key not in parent:
        raise ModelError(f"{where}.{key}: missing")
    return as_number(parent[key], f"{where}.{key}")


def as_number(value: object, where: str) -> float:
    """Return ``value`` as a float or raise: must be an int or a float, not a boolean."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ModelError(f"{where}: must be a number, got {value!r}")
    return float(value)


def integer(parent: Table, key: str, where: str) -> int:
    """Return a required integer."""
    value = parent.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ModelError(f"{where}.{key}: must be an integer, got {value!r}")
    return value


def string(parent: Table, key: str, where: str) -> str:
    """Return a required, non-empty string."""
    value = parent.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ModelError(f"{where}.{key}: missing or not a non-empty string")
    return value


def boolean(parent: Table, key: str, where: str) -> bool:
    """Return a required boolean."""
    value = parent.get(key)
    if not isinstance(value, bool):
        raise ModelError(f"{where}.{key}: must be true or false, got {value!r}")
    return value


def strings(parent: Table, key: str, where: str, *, lower: bool = False) -> tuple[str, ...]:
    """Return a required array of non-empty strings (optionally lower-cased)."""
    value = parent.get(key)
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ModelError(f"{where}.{key}: must be an array of non-empty strings")
    return tuple(v.lower() for v in value) if lower else tuple(value)


def points_table(parent: Table, key: str, where: str) -> dict[str, float]:
    """Return a table of name -> points (numbers)."""
    raw = table(parent, key, where)
    return {name: as_number(value, f"{where}.{key}.{name}") for name, value in raw.items()}


def reject_unknown(parent: Table, allowed: set[str], where: str) -> None:
    """Raise on keys that the model does not know (typos must not pass silently)."""
    unknown = sorted(set(parent) - allowed)
    if unknown:
        raise ModelError(f"{where}: unknown key(s) {', '.join(unknown)}")
