"""The offset guard notices a hole in an agent's input and rewinds exactly once."""

from __future__ import annotations

from streams.shell.offset_guard import OffsetGuard, Verdict


def test_contiguous_offsets_are_processed() -> None:
    guard: OffsetGuard[str] = OffsetGuard()
    for offset in (15, 16, 17):
        assert guard.check("p1", offset) is Verdict.PROCESS
        guard.processed("p1", offset)


def test_a_hole_rewinds_skips_stale_messages_then_processes_the_refetch() -> None:
    guard: OffsetGuard[str] = OffsetGuard()
    for offset in range(15, 26):
        guard.check("p1", offset)
        guard.processed("p1", offset)
    assert guard.check("p1", 30) is Verdict.REWIND  # 26..29 never arrived
    assert guard.expected("p1") == 26
    assert guard.check("p1", 31) is Verdict.SKIP  # queued before the seek
    assert guard.check("p1", 32) is Verdict.SKIP
    assert guard.check("p1", 26) is Verdict.PROCESS  # the re-fetch
    guard.processed("p1", 26)
    for offset in range(27, 33):
        assert guard.check("p1", offset) is Verdict.PROCESS
        guard.processed("p1", offset)


def test_a_rewind_ends_only_with_the_offset_sought_back_to() -> None:
    guard: OffsetGuard[str] = OffsetGuard()
    guard.check("p1", 5)
    guard.processed("p1", 5)
    assert guard.check("p1", 9) is Verdict.REWIND
    # the re-fetch from 6 lost its start again: processing 8 would apply it before 6 and 7
    assert guard.check("p1", 8) is Verdict.SKIP
    assert guard.check("p1", 6) is Verdict.PROCESS


def test_redelivery_below_expected_is_processed_and_partitions_are_independent() -> None:
    guard: OffsetGuard[str] = OffsetGuard()
    guard.check("p0", 10)
    guard.processed("p0", 10)
    assert guard.check("p0", 3) is Verdict.PROCESS  # a replay; the core's watermark skips it
    assert guard.check("p1", 99) is Verdict.PROCESS  # first message of another partition
    guard.forget({"p0"})
    assert guard.check("p0", 50) is Verdict.PROCESS


def test_a_partition_just_assigned_expects_its_committed_offset_first() -> None:
    guard: OffsetGuard[str] = OffsetGuard()
    guard.starts_at("p1", 733)
    assert guard.check("p1", 749) is Verdict.REWIND  # 733..748 dropped after the assignment
    assert guard.expected("p1") == 733
    assert guard.check("p1", 750) is Verdict.SKIP
    assert guard.check("p1", 733) is Verdict.PROCESS
    guard.processed("p1", 733)
    assert guard.expected("p1") == 734


def test_a_message_finished_after_its_partition_was_revoked_sets_no_expectation() -> None:
    guard: OffsetGuard[str] = OffsetGuard()
    guard.check("p1", 10)
    guard.forget({"p1"})
    guard.processed("p1", 10)  # was in flight during the rebalance
    assert not guard.live("p1")
    assert guard.expected("p1") is None
    guard.starts_at("p1", 8)  # the next assignment starts at the committed offset
    assert guard.check("p1", 8) is Verdict.PROCESS


def test_a_stalled_commit_rewinds_to_the_committed_offset() -> None:
    guard: OffsetGuard[str] = OffsetGuard()
    for offset in range(20, 30):
        guard.check("p1", offset)
        guard.processed("p1", offset)
    guard.rewind_to("p1", 12)
    assert guard.rewinding("p1")
    assert guard.expected("p1") == 12
    assert guard.check("p1", 31) is Verdict.SKIP  # newer than anything processed: stale
    assert guard.check("p1", 12) is Verdict.PROCESS  # the re-fetch
    assert not guard.rewinding("p1")
