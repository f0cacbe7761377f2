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


def test_a_legitimate_gap_is_accepted_after_one_rewind() -> None:
    guard: OffsetGuard[str] = OffsetGuard()
    guard.check("p1", 5)
    guard.processed("p1", 5)
    assert guard.check("p1", 8) is Verdict.REWIND
    assert guard.check("p1", 8) is Verdict.PROCESS  # re-fetched from 6: 6 and 7 do not exist


def test_redelivery_below_expected_is_processed_and_partitions_are_independent() -> None:
    guard: OffsetGuard[str] = OffsetGuard()
    guard.check("p0", 10)
    guard.processed("p0", 10)
    assert guard.check("p0", 3) is Verdict.PROCESS  # a replay; the core's watermark skips it
    assert guard.check("p1", 99) is Verdict.PROCESS  # first message of another partition
    guard.forget({"p0"})
    assert guard.check("p0", 50) is Verdict.PROCESS
