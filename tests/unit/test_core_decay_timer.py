"""The decay deadline: a sales-ready lead falls back at the computed moment, once."""

from __future__ import annotations

from streams.core.contact import apply, decay_timer_id, fire_decay, next_down_crossing
from streams.core.effects import StageChanged
from streams.core.events import AccountProfiled, ContactInput, ContactProfiled, SignalObserved
from streams.core.model import parse_model
from tests.support.models import fast_decay_model_text

MODEL = parse_model(fast_decay_model_text(half_life_s=2.0))
T0 = 1_780_000_000_000
PROFILE = ContactProfiled("p", T0 - 10_000, "acme.com", None, "VP", "vp", "engineering",
                          "decision_maker", "US")
ACCOUNT = AccountProfiled("a", T0 - 10_000, "A1", "acme.com", "software", 500, None, "US", "NA",
                          ("salesforce",), None, False, False)


def sales_ready() -> object:
    state = None
    for payload in (PROFILE, ACCOUNT, SignalObserved("pv", T0, "web.pricing", "web"),
                    SignalObserved("demo", T0 + 10, "form.demo_request", "web")):
        state, _ = apply(state, ContactInput("c-1", payload), MODEL)
    assert state is not None and state.stage == "sales_ready"
    return state


def test_nothing_fires_before_the_deadline_and_the_crossing_fires_at_it() -> None:
    state = sales_ready()
    deadline = next_down_crossing(state, MODEL)  # type: ignore[arg-type]
    assert deadline is not None and T0 < deadline < T0 + 60_000
    early, effects = fire_decay(state, deadline - 1, MODEL)  # type: ignore[arg-type]
    assert early is state and effects == []
    after, effects = fire_decay(state, deadline + 500, MODEL)  # type: ignore[arg-type]
    [change] = effects
    assert isinstance(change, StageChanged)
    assert (change.from_stage, change.to_stage, change.trigger) == ("sales_ready", "nurture",
                                                                     "decay")
    assert change.occurred_at == deadline  # the computed moment, not the tick's time
    assert change.caused_by == decay_timer_id("c-1", deadline)
    assert change.total < 45.0 and change.threshold == 45.0
    assert after.stage == "nurture" and next_down_crossing(after, MODEL) is None
    again, more = fire_decay(after, deadline + 5_000, MODEL)
    assert again is after and more == []


def test_firing_is_deterministic() -> None:
    state = sales_ready()
    deadline = next_down_crossing(state, MODEL)  # type: ignore[arg-type]
    assert deadline is not None
    _, first = fire_decay(state, deadline + 100, MODEL)  # type: ignore[arg-type]
    _, second = fire_decay(state, deadline + 900, MODEL)  # type: ignore[arg-type]
    assert first == second
