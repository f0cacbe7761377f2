"""The strict commit rule: a gapless topic's commit never passes an unprocessed offset."""

from __future__ import annotations

import asyncio

import faust
from faust.types import TP

from streams.shell.strict_commits import commit_stalled, install_strict_commits, next_commit


def test_the_run_must_start_at_the_committed_offset() -> None:
    assert next_commit([32, 33, 34], 31) == (None, [32, 33, 34])  # 31 never processed
    assert next_commit([34, 31, 32, 33], 31) == (35, [])
    assert next_commit([31, 32, 40, 41], 31) == (33, [40, 41])  # 33..39 still due


def test_offsets_below_the_committed_one_and_repeats_are_dropped() -> None:
    assert next_commit([5, 9, 10, 10, 11], 10) == (12, [])
    assert next_commit([3, 4], 10) == (None, [])
    assert next_commit([], 0) == (None, [])
    assert next_commit([0, 1], 0) == (2, [])


def test_a_stall_is_a_hole_at_the_committed_offset_or_nothing_acked_behind_the_end() -> None:
    assert commit_stalled(31, [32, 33], highwater=40)  # 31 was dropped, later ones acked
    assert not commit_stalled(31, [31, 33], highwater=40)  # a commit to 32 is due
    assert commit_stalled(31, [], highwater=40)  # 31..39 exist and none came (yet)
    assert not commit_stalled(40, [], highwater=40)  # all committed
    assert not commit_stalled(40, [12], highwater=40)  # a stale ack below the committed one


def _consumer(gapless: frozenset[str]) -> object:
    app = faust.App("strict-commits-test", broker="kafka://127.0.0.1:1")
    install_strict_commits(app, gapless)
    return app.consumer


def test_faust_consumer_commits_no_dropped_offset_on_a_gapless_topic() -> None:
    consumer = _consumer(frozenset({"inputs"}))
    tp = TP("inputs", 0)
    consumer._committed_offset[tp] = 31  # type: ignore[attr-defined]
    consumer._acked[tp].extend([32, 33])  # type: ignore[attr-defined]
    consumer._acked_index[tp].update([32, 33])  # type: ignore[attr-defined]
    assert consumer._new_offset(tp) is None  # type: ignore[attr-defined]  # Faust: 34
    consumer._acked[tp].append(31)  # type: ignore[attr-defined]
    assert consumer._new_offset(tp) == 34  # type: ignore[attr-defined]
    asyncio.run(consumer._add_gap(tp, 34, 40))  # type: ignore[attr-defined]
    consumer._acked[tp].append(41)  # type: ignore[attr-defined]
    assert consumer._new_offset(tp) is None  # type: ignore[attr-defined]  # no gap counts


def test_other_topics_keep_fausts_rule() -> None:
    consumer = _consumer(frozenset({"inputs"}))
    tp = TP("crm.contacts", 0)  # compacted: a jump in offsets is a legitimate gap
    consumer._committed_offset[tp] = 31  # type: ignore[attr-defined]
    consumer._acked[tp].extend([32, 33])  # type: ignore[attr-defined]
    assert consumer._new_offset(tp) == 34  # type: ignore[attr-defined]
