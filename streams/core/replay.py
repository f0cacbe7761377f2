"""Offline replay: fold a history of inputs through the contact core with a given model."""

from __future__ import annotations

from collections.abc import Iterable

from streams.core.contact import apply
from streams.core.contact_state import ContactState
from streams.core.events import ContactInput
from streams.core.model import ScoringModel


def recompute(inputs: Iterable[ContactInput], model: ScoringModel) -> dict[str, ContactState]:
    """Apply ``inputs`` in the given order, per contact; erased contacts are left out."""
    states: dict[str, ContactState] = {}
    for inp in inputs:
        new, _ = apply(states.get(inp.contact_id), inp, model)
        if new is None:
            states.pop(inp.contact_id, None)
        else:
            states[inp.contact_id] = new
    return states
