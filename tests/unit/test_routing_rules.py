"""The ``[routing]`` section of the scoring model: defaults and invalid values."""

from __future__ import annotations

import re

import pytest

from streams.config import DEFAULT_MODEL_PATH
from streams.core.model import ModelError, parse_model
from streams.core.routing_rules import RoutingRules, parse_routing

DEFAULT_TEXT = DEFAULT_MODEL_PATH.read_text(encoding="utf-8")
MODEL = parse_model(DEFAULT_TEXT)


def test_default_routing_rules() -> None:
    rules = MODEL.routing
    assert rules == RoutingRules()
    assert (rules.fallback_pool, rules.respect_working_hours, rules.default_priority) == (
        "fallback", True, "p3")
    assert dict(rules.priorities) == {"form.demo_request": "p1", "form.contact_sales": "p1",
                                      "sales_ready": "p2", "account_qualified": "p2"}
    assert rules.priority_of("form.contact_sales") == "p1"
    assert rules.priority_of("account_qualified") == "p2"
    assert rules.priority_of("web.pricing") == "p3" and rules.priority_of(None) == "p3"


def test_a_model_without_a_routing_section_uses_the_defaults() -> None:
    without = re.sub(r"\n\[routing\].*", "\n", DEFAULT_TEXT, flags=re.DOTALL)
    assert "[routing" not in without and "[account]" in without
    assert parse_model(without).routing == RoutingRules()
    assert parse_routing({}) == RoutingRules()


def test_a_priorities_table_replaces_the_default_one() -> None:
    rules = parse_routing({"priorities": {"sales_ready": "p1"}, "default_priority": "p2",
                           "fallback_pool": "global", "respect_working_hours": False})
    assert dict(rules.priorities) == {"sales_ready": "p1"}
    assert rules.priority_of("form.demo_request") == "p2"
    assert (rules.fallback_pool, rules.respect_working_hours) == ("global", False)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('fallback_pool = "fallback"', 'fallback_pool = ""', "routing.fallback_pool"),
        ('fallback_pool = "fallback"', "fallback_pool = 3", "routing.fallback_pool"),
        ("respect_working_hours = true", 'respect_working_hours = "yes"',
         "routing.respect_working_hours: must be true or false"),
        ('default_priority = "p3"', 'default_priority = "p4"',
         "routing.default_priority: must be one of p1, p2, p3"),
        ('sales_ready = "p2"', 'sales_ready = "urgent"', "routing.priorities.'sales_ready'"),
        ('sales_ready = "p2"', "sales_ready = 2", "routing.priorities.'sales_ready'"),
        ('default_priority = "p3"', 'default_priority = "p3"\nfalback_pool = "x"',
         "routing: unknown key"),
        ("[routing.priorities]", "[routing.priorities.nested]", "routing.priorities"),
    ],
)
def test_invalid_routing_sections_raise(old: str, new: str, message: str) -> None:
    assert old in DEFAULT_TEXT
    with pytest.raises(ModelError, match=re.escape(message)):
        parse_model(DEFAULT_TEXT.replace(old, new))


def test_priorities_must_be_a_table() -> None:
    with pytest.raises(ModelError, match="routing.priorities: must be a table"):
        parse_routing({"priorities": ["p1"]})
