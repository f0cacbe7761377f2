"""Offline replay: fold a history of inputs through the contact core with a given model."""

from __future__ import annotations

from collections.abc import Iterable

from streams.core.contact import apply, fire_decay
from streams.core.contact_state import ContactState
from streams.core.effects import ContactEffect
from streams.core.events import ContactInput, ContactProfiled, TimerTick
from streams.core.lead_routing import apply_activity
from streams.core.model import ScoringModel
from streams.core.sales_events import AssignmentStarted, SalesActivityObserved


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


def recompute_partitions(
    records: Iterable[tuple[int, ContactInput | TimerTick]], model: ScoringModel,
    emitted: list[ContactEffect] | None = None,
) -> dict[str, ContactState]:
    """Replay the contact agent's input topic: records in partition order, ticks included.

    A tick fires the due decay deadlines of every contact of its partition, as the live
    agent does, so the result equals the live state exactly. The effects the live agent
    published are appended to ``emitted`` when given (to check the outputs by id).
    """
    sink: list[ContactEffect] = [] if emitted is None else emitted
    states: dict[str, ContactState] = {}
    partition_of: dict[str, int] = {}
    erased: set[str] = set()
    for partition, record in records:
        if isinstance(record, TimerTick):
            for contact_id in sorted(c for c, p in partition_of.items() if p == partition):
                state = states.get(contact_id)
                if state is not None:
                    states[contact_id], fired = fire_decay(state, record.occurred_at, model)
                    sink.extend(fired)
            continue
        partition_of[record.contact_id] = partition
        payload = record.payload
        if isinstance(payload, AssignmentStarted | SalesActivityObserved):
            # the sales side: an assignment only starts SLA clocks; activity may move the stage
            current = states.get(record.contact_id)
            if current is not None and isinstance(payload, SalesActivityObserved):
                states[record.contact_id], moved = apply_activity(current, payload, model)
                sink.extend(moved)
            continue
        if record.contact_id in erased:
            # as the live agent: an erased contact stays erased until the CRM re-creates it
            if not isinstance(record.payload, ContactProfiled):
                continue
            erased.discard(record.contact_id)
        new, effects = apply(states.get(record.contact_id), record, model)
        sink.extend(effects)
        if new is None:
            states.pop(record.contact_id, None)
            erased.add(record.contact_id)
        else:
            states[record.contact_id] = new
    return states
