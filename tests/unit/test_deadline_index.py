"""The deadline index returns each due key once per tick and forgets cleared ones."""

from __future__ import annotations

from streams.shell.deadline_index import DeadlineIndex


def test_due_keys_in_deadline_order_and_rescheduling() -> None:
    index = DeadlineIndex()
    index.schedule("a", 300)
    index.schedule("b", 100)
    index.schedule("c", 900)
    assert index.due(50) == []
    assert index.due(300) == ["b", "a"]
    assert index.due(300) == ["b", "a"]  # still scheduled until the caller reschedules
    index.schedule("b", None)
    index.schedule("a", 1000)
    assert index.due(950) == ["c"]
    assert len(index) == 2 and index.next_deadline() == 900


def test_a_moved_deadline_replaces_the_old_one() -> None:
    index = DeadlineIndex()
    index.schedule("a", 100)
    index.schedule("a", 500)
    assert index.due(200) == []
    assert index.due(500) == ["a"]


def test_open_sla_clocks_are_counted_by_kind_as_keys_change() -> None:
    index = DeadlineIndex()
    index.schedule("a", 100, ("first_touch", "accept_reject"))
    index.schedule("b", 200, ("accept_reject",))
    assert index.open_slas() == {"first_touch": 1, "accept_reject": 2}
    index.schedule("a", 150, ("accept_reject",))  # first touch met
    index.schedule("b", 200, ("accept_reject",))  # same again: counted once
    assert index.open_slas() == {"accept_reject": 2}
    index.schedule("b", 900)  # clocks finished, a decay deadline remains
    index.schedule("a", None)  # erased
    assert index.open_slas() == {}
