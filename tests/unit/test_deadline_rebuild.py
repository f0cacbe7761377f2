"""After a restart the deadline indexes of every assigned partition come from one table scan."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any, NamedTuple, cast

from streams.config import from_env
from streams.core.contact_state import ContactState
from streams.core.sla import SlaState, SlaTimer
from streams.shell.app import Pipeline
from streams.shell.contact_rows import contact_row, erased_row, tick_mark_row

SETTINGS = from_env({})


class TP(NamedTuple):
    topic: str
    partition: int


class CountingTable(dict[str, bytes]):
    """The contacts table as the agent sees it; counts the full scans."""

    scans = 0

    def items(self) -> Iterator[tuple[str, bytes]]:  # type: ignore[override]
        self.scans += 1
        yield from super().items()


def pipeline(table: CountingTable, assigned: set[int]) -> Pipeline:
    name = SETTINGS.topics.contact_inputs
    consumer = SimpleNamespace(assignment=lambda: {TP(name, n) for n in assigned}
                               | {TP("other", 0)})
    return Pipeline(settings=SETTINGS, model=cast(Any, None), app=cast(Any, SimpleNamespace(
        consumer=consumer)), codec=cast(Any, None), metrics=cast(Any, None),
        policy=cast(Any, None), tables={"contacts": table})


def row(cid: str, partition: int, deadline: int | None, clocks: int = 0) -> bytes:
    timers = tuple(SlaTimer(f"sla-{cid}-{i}", "first_touch", "asg", cid, "rep", "p1", 0, 75,
                            100, "open", "reassign", None) for i in range(clocks))
    return contact_row(ContactState(cid), SlaState(timers=timers), partition, 1, deadline)


def test_one_scan_indexes_every_assigned_partition_and_counts_its_keys() -> None:
    table = CountingTable({
        "a": row("a", 0, 500), "b": row("b", 0, None), "c": row("c", 1, 200, clocks=1),
        "gone": erased_row(1, 9), "__tick__:1": tick_mark_row(1, 4), "d": row("d", 2, 100)})
    p = pipeline(table, assigned={0, 1})
    assert p.deadlines(0).due(1_000) == ["a"]
    assert p.deadlines(1).due(1_000) == ["c"]  # built by the same scan
    assert table.scans == 1 and p.indexed_partitions() == {0, 1}  # 2 is not ours
    assert (p.deadlines(0).keys, p.deadlines(1).keys) == (2, 3)
    assert p.contact_keys() == 5 and p.open_sla_timers() == {"first_touch": 1}


def test_a_partition_assigned_later_is_scanned_for_alone() -> None:
    table = CountingTable({"a": row("a", 0, 500), "d": row("d", 2, 100)})
    p = pipeline(table, assigned={0})
    assert p.deadlines(0).keys == 1
    p.forget_deadlines({0})
    assert p.deadlines(2).due(100) == ["d"]  # e.g. a rebalance: not assigned, still asked for
    assert table.scans == 2 and p.indexed_partitions() == {0, 2}
