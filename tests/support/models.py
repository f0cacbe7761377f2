"""Test scoring models derived from the shipped default."""

from __future__ import annotations

import re

from streams.config import DEFAULT_MODEL_PATH

DAY_S = 86_400


def fast_decay_model_text(half_life_s: float, hold_s: float = 0.0) -> str:
    """The default model with every half-life (and the instant hold) shortened to seconds."""
    text = DEFAULT_MODEL_PATH.read_text(encoding="utf-8")
    text = re.sub(r"half_life_days = [0-9.]+", f"half_life_days = {half_life_s / DAY_S!r}", text)
    text = re.sub(r"instant_hold_days = [0-9.]+", f"instant_hold_days = {hold_s / DAY_S!r}", text)
    return text.replace('version = "', 'version = "fast-decay-', 1)


def sla_model_text(first_touch_s: float, escalation: str = "reassign") -> str:
    """The default model with a first-touch SLA of ``first_touch_s`` for every priority."""
    text = DEFAULT_MODEL_PATH.read_text(encoding="utf-8")
    text, n = re.subn(r"minutes = \{ p1 = 5, p2 = 60, p3 = 240 \}",
                      f"seconds = {first_touch_s!r}", text)
    assert n == 1, "the default [sla.first_touch] section changed"
    text = text.replace('escalation = "reassign"', f'escalation = "{escalation}"', 1)
    return text.replace('version = "', 'version = "sla-test-', 1)
