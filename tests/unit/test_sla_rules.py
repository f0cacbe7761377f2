"""SLA rules: the [sla] model section, its defaults, per-priority durations and validation."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from streams.core.model import ModelError, parse_model
from streams.core.sla_rules import DEFAULT_SLA, SlaRules, parse_sla

DEFAULT_TEXT = (Path(__file__).parents[2] / "streams" / "models" / "default.toml").read_text()
MINUTE, HOUR = 60_000, 3_600_000


def _durations(rules: SlaRules, kind: str) -> dict[str, int]:
    return dict(rules.of(kind).durations_ms)


def test_defaults() -> None:
    assert DEFAULT_SLA.warning_fraction == 0.75
    assert _durations(DEFAULT_SLA, "first_touch") == {"p1": 5 * MINUTE, "p2": 60 * MINUTE,
                                                      "p3": 240 * MINUTE}
    assert _durations(DEFAULT_SLA, "accept_reject") == {p: 48 * HOUR for p in ("p1", "p2", "p3")}
    first, decision = DEFAULT_SLA.of("first_touch"), DEFAULT_SLA.of("accept_reject")
    assert (first.business_hours, first.escalation) == (False, "reassign")
    assert (decision.business_hours, decision.escalation) == (True, "manager")
    assert DEFAULT_SLA.of("accept_reject").duration_ms("p1") == 48 * HOUR


def test_default_model_file_states_the_defaults() -> None:
    assert parse_model(DEFAULT_TEXT).sla == DEFAULT_SLA


def test_a_model_without_sla_section_uses_the_defaults() -> None:
    # drop the [sla] table and its sub-tables, up to the next other table header
    without = re.sub(r"(?ms)^\[sla(\.[a-z_]+)?\]$.*?(?=^\[(?!sla[.\]])|\Z)", "", DEFAULT_TEXT)
    assert "[sla" not in without
    assert parse_model(without).sla == DEFAULT_SLA


def test_unknown_sla_key_in_the_model_is_refused() -> None:
    text = DEFAULT_TEXT.replace("warning_fraction = 0.75", "warning_fraction = 0.75\nwarn = 1")
    with pytest.raises(ModelError, match=r"sla: unknown key\(s\) warn"):
        parse_model(text)


def test_overrides_per_priority_and_units() -> None:
    rules = parse_sla({
        "warning_fraction": 0.5,
        "first_touch": {"seconds": 2},
        "accept_reject": {"hours": {"p1": 24, "p2": 48, "p3": 72}, "business_hours": False},
    })
    assert rules.warning_fraction == 0.5
    assert _durations(rules, "first_touch") == {"p1": 2000, "p2": 2000, "p3": 2000}
    assert _durations(rules, "accept_reject") == {"p1": 24 * HOUR, "p2": 48 * HOUR,
                                                  "p3": 72 * HOUR}
    # keys a kind table leaves out keep their defaults
    assert rules.of("first_touch").escalation == "reassign"
    assert rules.of("accept_reject").escalation == "manager"
    assert rules.of("accept_reject").business_hours is False


def test_a_kind_table_without_duration_keeps_the_default_duration() -> None:
    rules = parse_sla({"accept_reject": {"escalation": "reassign"}})
    assert _durations(rules, "accept_reject")["p2"] == 48 * HOUR
    assert rules.of("accept_reject").escalation == "reassign"


def test_unknown_kind_or_priority_lookup_raises() -> None:
    with pytest.raises(ValueError, match="unknown kind"):
        DEFAULT_SLA.of("callback")
    with pytest.raises(ValueError, match="unknown priority"):
        DEFAULT_SLA.of("first_touch").duration_ms("p9")


@pytest.mark.parametrize(("raw", "message"), [
    ({"warning_fraction": 1}, r"sla\.warning_fraction: must be > 0 and < 1"),
    ({"warning_fraction": 0}, r"sla\.warning_fraction: must be > 0 and < 1"),
    ({"warning_fraction": "0.5"}, r"sla\.warning_fraction: must be a number"),
    ({"callback": {}}, r"sla: unknown key\(s\) callback"),
    ({"first_touch": 5}, r"sla\.first_touch: must be a table"),
    ({"first_touch": {"minutes": 5, "hours": 1}}, r"exactly one of seconds, minutes, hours"),
    ({"first_touch": {"minutes": {"p1": 5, "p2": 60}}}, r"missing priority\(s\) p3"),
    ({"first_touch": {"minutes": {"p1": 5, "p2": 6, "p3": 7, "p4": 8}}},
     r"sla\.first_touch\.minutes: unknown key\(s\) p4"),
    ({"first_touch": {"minutes": 0}}, r"every duration must be > 0"),
    ({"first_touch": {"minutes": -5}}, r"every duration must be > 0"),
    ({"first_touch": {"minutes": True}}, r"must be a number"),
    ({"first_touch": {"business_hours": "yes"}}, r"business_hours: must be true or false"),
    ({"first_touch": {"escalation": "page"}}, r"escalation: must be one of reassign, manager"),
    ({"accept_reject": {"hours": 48, "grace": 1}}, r"unknown key\(s\) grace"),
])
def test_invalid_sections_are_refused(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ModelError, match=message):
        parse_sla(raw)
