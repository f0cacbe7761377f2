"""Fold history records through ingest and the pure core under one model (no I/O, no clock).

The offline twin of the live pipeline, in the order the records are given: the same
normalisation as the ingest agent, ``contact.apply`` per contact, the account's firmographics
joined to its members (as the account agent shares them), decay down-crossings at their
computed event time, and the router core over the roster of ``sales.reps`` with event time
as its clock. Left out on purpose: the account rollup (account score, committee,
``account_qualified`` routes) and SLA clocks; a contact keeps one open assignment until a
closing sales activity frees it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from streams.core.account import profiled
from streams.core.account_events import AccountFirmographics, AccountInput
from streams.core.contact import apply, fire_decay
from streams.core.contact_state import ContactState
from streams.core.down_crossing import may_cross_by
from streams.core.effects import AccountLinked, ContactEffect, StageChanged
from streams.core.events import AccountProfiled, ContactInput, ContactProfiled, Origin
from streams.core.ids import derive_id
from streams.core.lead_routing import CLOSING_ACTIVITIES, apply_activity, route_request
from streams.core.model import ScoringModel
from streams.core.routing import (
    AssignmentClosed,
    LeadRouted,
    RouterState,
    apply_roster,
    close,
    route,
)
from streams.core.sales_events import SalesActivityObserved
from streams.core.thresholds import SALES_READY
from streams.ingest.errors import InvalidRecord
from streams.ingest.normalise import Dropped, IngestPolicy, normalise
from streams.ingest.sales import normalise_activity, normalise_rep
from streams.replay.outcome import Outcome, SalesReadyEntry

# History is in the past: nothing is "in the future" of a replay.
NO_FUTURE_MS = 1 << 62


def replay_policy(model: ScoringModel) -> IngestPolicy:
    """The ingest policy of ``model`` (as live ingest), without a wall-clock skew limit."""
    return IngestPolicy(
        free_mail_domains=frozenset(model.free_mail_domains),
        internal_domains=frozenset(model.internal_domains),
        internal_ip_prefixes=tuple(model.internal_ip_prefixes),
        bot_user_agent_patterns=tuple(model.bot_user_agent_patterns),
        future_skew_ms=0,
    )


class ModelFold:
    """One model's replay state; ``feed`` one decoded history record at a time."""

    def __init__(self, model: ScoringModel) -> None:
        self.model = model
        self.policy = replay_policy(model)
        self.outcome = Outcome(model.version)
        self.contacts: dict[str, ContactState] = {}
        self.erased: set[str] = set()
        self.firmographics: dict[str, AccountProfiled] = {}  # by company domain
        self.members: dict[str, set[str]] = {}  # company domain -> contact ids
        self.router = RouterState()
        self.open_assignment: dict[str, tuple[str, str]] = {}  # contact -> (assignment, rep)
        self._origins: dict[tuple[str, int], Origin] = {}

    # -- input -----------------------------------------------------------------------------

    def feed(self, topic: str, key: str | None, value: Mapping[str, Any] | None,
             partition: int = 0, offset: int = 0, timestamp_ms: int = 0) -> None:
        """Fold one record of input topic ``topic`` (base name, e.g. ``events.web``)."""
        out = self.outcome
        out.events += 1
        if isinstance(value, (bytes, bytearray)):  # noqa: UP038 - a constant, not a new union
            out.skipped["undecodable"] += 1
            return
        try:
            if topic == "sales.reps" or topic == "sales.activity":
                self._sales(topic, value)
                return
            normalised = normalise(topic, key, value,  # type: ignore[arg-type]
                                   Origin(topic, partition, offset), NO_FUTURE_MS,
                                   self.policy, timestamp_ms=timestamp_ms)
        except InvalidRecord as exc:
            out.skipped[f"invalid:{exc.reason}"] += 1
            return
        if isinstance(normalised, ContactInput):
            self._contact(normalised.contact_id, normalised.payload)
        elif isinstance(normalised, AccountInput):
            if isinstance(normalised.payload, AccountFirmographics):
                self._account(normalised.domain, normalised.payload)
            else:
                out.skipped["account_intent"] += 1
        elif isinstance(normalised, Dropped):
            out.skipped[normalised.reason] += 1

    def _sales(self, topic: str, value: Mapping[str, Any] | None) -> None:
        if value is None:
            raise InvalidRecord("unexpected_tombstone", f"null value on {topic}")
        record = dict(value)
        if topic == "sales.reps":
            self.router = apply_roster(self.router,
                                       normalise_rep(record, NO_FUTURE_MS, 0))
            return
        activity = normalise_activity(record, NO_FUTURE_MS, 0)
        self._seen(activity.occurred_at)
        state = self.contacts.get(activity.contact_id)
        if state is None:
            self.outcome.skipped["unknown_contact"] += 1
            return
        state = self._decayed(state, activity.occurred_at)
        new, effects = apply_activity(state, activity, self.model)
        self.contacts[activity.contact_id] = new
        self.outcome.applied += 1
        self._effects(new, effects)
        self._close(activity)

    def _close(self, activity: SalesActivityObserved) -> None:
        if activity.kind not in CLOSING_ACTIVITIES:
            return
        held = self.open_assignment.pop(activity.contact_id, None)
        if held is not None:
            assignment_id, rep_id = held
            self.router = self._closed(assignment_id, rep_id, activity.occurred_at)

    def _closed(self, assignment_id: str, rep_id: str, at_ms: int) -> RouterState:
        return close(self.router, AssignmentClosed(derive_id("closed", assignment_id), at_ms,
                                                   assignment_id, rep_id))

    # -- contacts --------------------------------------------------------------------------

    def _contact(self, contact_id: str, payload: Any) -> None:
        self._seen(payload.occurred_at)
        if contact_id in self.erased:
            # as the live agent: an erased contact stays erased until the CRM re-creates it
            if not isinstance(payload, ContactProfiled):
                self.outcome.skipped["erased"] += 1
                return
            self.erased.discard(contact_id)
        self._apply(contact_id, payload)

    def _apply(self, contact_id: str, payload: Any) -> None:
        state = self.contacts.get(contact_id)
        if state is not None and state.stage == SALES_READY:
            state = self._decayed(state, payload.occurred_at)
        new, effects = apply(state, ContactInput(contact_id, payload), self.model)
        if new is None:
            self.contacts.pop(contact_id, None)
            self.erased.add(contact_id)
            self.open_assignment.pop(contact_id, None)
            for ids in self.members.values():
                ids.discard(contact_id)
            return
        self.contacts[contact_id] = new
        if new is state:
            self.outcome.skipped["duplicate"] += 1
            return
        self.outcome.applied += 1
        if effects:
            self._effects(new, effects)
            self._route(new, payload, effects)
            for effect in effects:
                if isinstance(effect, AccountLinked):
                    self._join(effect)
        elif self.model.is_instant(getattr(payload, "signal", None)):
            self._route(new, payload, effects)

    def _decayed(self, state: ContactState, now_ms: int) -> ContactState:
        """Fire the decay down-crossing a sales_ready contact made before ``now_ms``."""
        if not may_cross_by(state, now_ms, self.model):
            return state  # the search for the crossing is costly: skip it when none can be due
        fired, effects = fire_decay(state, now_ms, self.model)
        if fired is not state:
            self.contacts[state.contact_id] = fired
            self._effects(fired, effects)
        return fired

    def _effects(self, state: ContactState, effects: Iterable[ContactEffect]) -> None:
        out = self.outcome
        for effect in effects:
            if not isinstance(effect, StageChanged) or effect.to_stage != SALES_READY:
                continue
            out.entries.append(SalesReadyEntry(effect.contact_id, effect.occurred_at,
                                               effect.trigger))
            if effect.contact_id not in out.first_sales_ready:
                out.first_sales_ready[effect.contact_id] = effect.occurred_at
                touch = state.first_touch
                if touch is not None:
                    out.time_to_qualify_ms[effect.contact_id] = max(
                        0, effect.occurred_at - touch.occurred_at)

    def _route(self, state: ContactState, payload: Any, effects: list[ContactEffect]) -> None:
        request = route_request(state, payload, effects, self.model)
        if request is None or state.contact_id in self.open_assignment:
            return  # one open assignment at a time (the live agent's SLA clocks)
        self.router, routed = route(self.router, request, request.occurred_at,
                                    self.model.routing)
        for effect in routed:
            if not isinstance(effect, LeadRouted):
                continue
            self.outcome.rules[effect.rule] += 1
            if effect.rep_id is None:
                self.outcome.unassigned += 1
                continue
            self.outcome.rep_load[effect.rep_id] += 1
            self.outcome.pool_load[effect.pool] += 1
            self.open_assignment[state.contact_id] = (effect.assignment_id, effect.rep_id)

    # -- accounts --------------------------------------------------------------------------

    def _join(self, linked: AccountLinked) -> None:
        if linked.previous_domain is not None:
            self.members.get(linked.previous_domain, set()).discard(linked.contact_id)
        self.members.setdefault(linked.domain, set()).add(linked.contact_id)
        facts = self.firmographics.get(linked.domain)
        if facts is not None:
            self._apply(linked.contact_id, facts)

    def _account(self, domain: str, facts: AccountFirmographics) -> None:
        self._seen(facts.occurred_at)
        known = self.firmographics.get(domain)
        if known is not None and (known.occurred_at, known.event_id) >= (facts.occurred_at,
                                                                         facts.event_id):
            self.outcome.skipped["stale_account"] += 1
            return
        shared = profiled(facts)
        self.firmographics[domain] = shared
        self.outcome.applied += 1
        for contact_id in sorted(self.members.get(domain, ())):
            self._apply(contact_id, shared)

    # -- end -------------------------------------------------------------------------------

    def _seen(self, at_ms: int) -> None:
        out = self.outcome
        if out.first_ms is None or at_ms < out.first_ms:
            out.first_ms = at_ms
        if out.last_ms is None or at_ms > out.last_ms:
            out.last_ms = at_ms

    def finish(self) -> Outcome:
        """Fire the down-crossings due by the end of the history; count the final stages."""
        end = self.outcome.last_ms or 0
        for contact_id in sorted(self.contacts):
            state = self._decayed(self.contacts[contact_id], end)
            self.outcome.final_stages[state.stage] += 1
        self.outcome.contacts = len(self.contacts)
        return self.outcome

