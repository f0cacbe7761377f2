"""The ``[account]`` section of the scoring model: defaults and invalid values."""

from __future__ import annotations

import re

import pytest

from streams.config import DEFAULT_MODEL_PATH
from streams.core.account_rules import AccountThresholds
from streams.core.model import ModelError, parse_model

DEFAULT_TEXT = DEFAULT_MODEL_PATH.read_text(encoding="utf-8")
MODEL = parse_model(DEFAULT_TEXT)


def test_default_account_rules() -> None:
    rules = MODEL.account
    assert (rules.member_weight, rules.third_party_weight, rules.third_party_cap) == (1, 0.5, 50)
    assert (rules.score_cap, rules.committee_window_days, rules.committee_min_engaged) == (
        100, 30, 3)
    assert rules.committee_requires == ("decision_maker",)
    assert rules.committee_window_ms == 30 * 86_400_000
    assert dict(rules.thresholds) == {
        "smb": AccountThresholds(20, 60, 45),
        "mid_market": AccountThresholds(20, 55, 40),
        "enterprise": AccountThresholds(15, 50, 35),
    }


def test_a_model_without_an_account_section_uses_the_defaults() -> None:
    without = re.sub(r"\n\[account\].*", "\n", DEFAULT_TEXT, flags=re.DOTALL)
    assert "[account" not in without
    assert parse_model(without).account == MODEL.account


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("member_weight = 1.0", "member_weight = -1", "member_weight: must be >= 0"),
        ("third_party_weight = 0.5", 'third_party_weight = "half"', "must be a number"),
        ("third_party_cap = 50", "third_party_cap = true", "must be a number"),
        ("score_cap = 100", "score_cap = 0", "score_cap"),
        ("score_cap = 100", "score_cap = 40", "never be reached"),
        ("committee_window_days = 30", "committee_window_days = 0", "committee_window_days"),
        ("committee_min_engaged = 3", "committee_min_engaged = 0", ">= 1"),
        ("committee_min_engaged = 3", "committee_min_engaged = 2.5", "must be an integer"),
        ('committee_requires = ["decision_maker"]', 'committee_requires = ["decider"]',
         "unknown persona"),
        ('committee_requires = ["decision_maker"]', 'committee_requires = "decision_maker"',
         "array of non-empty strings"),
        ("[account]\n", "[account]\ncolour = 1\n", "account: unknown key"),
        ("smb = { engaged = 20, qualify = 60, exit = 45 }",
         "smb = { engaged = 20, qualify = 60, exit = 60 }", "exit"),
        ("smb = { engaged = 20, qualify = 60, exit = 45 }",
         "smb = { engaged = 70, qualify = 60, exit = 45 }", "engaged"),
        ("smb = { engaged = 20, qualify = 60, exit = 45 }",
         "smb = { engaged = 20, qualify = 60, exti = 45 }", "unknown key"),
        ("smb = { engaged = 20, qualify = 60, exit = 45 }",
         "smb = { engaged = 20, qualify = 60 }", "exit: missing"),
        ("smb = { engaged = 20, qualify = 60, exit = 45 }\n", "", "missing segment"),
        ("[account.thresholds]\n", "[account.thresholds]\nmega = { engaged = 1, qualify = 2, "
         "exit = 1 }\n", "unknown segment"),
        ("[account.thresholds]\n", "[account.limits]\n", "unknown key"),
        ("third_party = { half_life_days = 7 }", "surges = { half_life_days = 7 }",
         "third_party"),
    ],
)
def test_invalid_account_sections_raise_model_error(old: str, new: str, message: str) -> None:
    assert old in DEFAULT_TEXT, old
    with pytest.raises(ModelError, match=message):
        parse_model(DEFAULT_TEXT.replace(old, new, 1))
