"""When a replayed input sends its row's outbox again (streams/shell/flush_marks.py)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from faust.types import TP as TopicPartition

from streams.shell.contact_rows import tick_mark_row
from streams.shell.flush_marks import mark_key, needs_resend, new_mark, wrote_row

TP = TopicPartition("qualstream.contact-inputs", 0)


def pipeline(contacts: dict[str, Any] | None = None,
             accounts: dict[str, Any] | None = None) -> Any:
    return SimpleNamespace(flushed={}, first_written={}, resent=set(), applied={},
                           tables={"contacts": contacts or {}, "accounts": accounts or {}})


def test_a_row_of_an_earlier_owner_without_a_mark_is_sent_again_once() -> None:
    p = pipeline()
    assert needs_resend(p, "contacts", TP, 41)
    assert not needs_resend(p, "contacts", TP, 41)  # the same stale input delivered twice
    assert needs_resend(p, "contacts", TP, 42)


def test_rows_at_or_below_the_stored_flush_mark_are_not_sent_again() -> None:
    p = pipeline(contacts={mark_key(0): tick_mark_row(0, 50)})
    assert not needs_resend(p, "contacts", TP, 50)
    assert not needs_resend(p, "contacts", TP, 12)
    assert needs_resend(p, "contacts", TP, 51)  # applied after the mark: a crash may lose it


def test_account_marks_and_marks_of_other_partitions() -> None:
    tp = TopicPartition("qualstream.account-inputs", 1)
    p = pipeline(accounts={mark_key(0): {"flushed": 99}, mark_key(1): {"flushed": 7}})
    assert not needs_resend(p, "accounts", tp, 7)
    assert needs_resend(p, "accounts", tp, 8)


def test_the_in_memory_mark_counts_as_well() -> None:
    p = pipeline(contacts={mark_key(0): tick_mark_row(0, 10)})
    p.flushed[TP] = 30
    assert not needs_resend(p, "contacts", TP, 30)
    assert needs_resend(p, "contacts", TP, 31)


def test_rows_this_worker_wrote_since_its_assignment_are_not_sent_again() -> None:
    p = pipeline()
    wrote_row(p, TP, 100)
    wrote_row(p, TP, 120)  # the first one written decides
    assert not needs_resend(p, "contacts", TP, 100)
    assert not needs_resend(p, "contacts", TP, 150)
    assert needs_resend(p, "contacts", TP, 99)  # the previous owner's
    assert needs_resend(p, "contacts", TopicPartition("qualstream.contact-inputs", 1), 150)


def test_a_mark_never_goes_back_when_the_last_input_applied_was_a_replay() -> None:
    # chaos join/leave: applied through 1800 and marked, then the partition came back and was
    # read again from a committed offset of 1154; revoked at 1504, the mark must stay 1800
    tp = TopicPartition("qualstream.account-inputs", 1)
    p = pipeline(accounts={mark_key(1): {"flushed": 1800}})
    p.applied[tp] = 1504
    assert new_mark(p, "accounts", tp) == 1800
    p.flushed[tp] = 1900  # a mark this worker wrote, not read back into its store yet
    assert new_mark(p, "accounts", tp) == 1900
    p.applied[tp] = 2000
    assert new_mark(p, "accounts", tp) == 2000
    p.flushed[tp] = 1800
    p.applied[tp] = 1504
    assert not needs_resend(p, "accounts", tp, 1710)  # the replay after the mark was kept
