"""Consumer lag at scrape time: end offset minus committed offset per assigned partition."""

from __future__ import annotations

from collections import defaultdict
from typing import NamedTuple

from streams.shell.scrape_gauges import consumer_lag


class TP(NamedTuple):
    topic: str
    partition: int


class FakeConsumer:
    """What the scrape reads of Faust's consumer: assignment, highwater and its offsets."""

    def __init__(self, ends: dict[TP, int | None], committed: dict[TP, int],
                 read: dict[TP, int]) -> None:
        self.ends = ends
        self._committed_offset: defaultdict[TP, int | None] = defaultdict(lambda: None,
                                                                          committed)
        self._read_offset: defaultdict[TP, int | None] = defaultdict(lambda: None, read)

    def assignment(self) -> set[TP]:
        return set(self.ends)

    def highwater(self, tp: TP) -> int | None:
        if tp.partition == 9:
            raise AssertionError("Partition is not assigned")  # revoked meanwhile
        return self.ends[tp]


def test_lag_sums_partitions_per_topic_and_skips_unknown_ends() -> None:
    web0, web1, web9 = TP("events.web", 0), TP("events.web", 1), TP("events.web", 9)
    inputs0, inputs1 = TP("contact-inputs", 0), TP("contact-inputs", 1)
    changelog = TP("qualstream-contacts-changelog", 0)
    consumer = FakeConsumer(
        ends={web0: 120, web1: 50, web9: 10, inputs0: None, inputs1: 30, changelog: 999},
        committed={web0: 100, web1: 50},
        read={inputs1: 9})
    lag, assigned = consumer_lag(consumer, ["events.web", "contact-inputs", "events.email"])
    # web: 20 + 0; contact-inputs: partition 0's end unknown, partition 1 read up to 9 -> 20
    assert lag == {"events.web": 20, "contact-inputs": 20}
    assert assigned == {"events.web": 3, "contact-inputs": 2}


def test_nothing_committed_or_read_counts_from_the_start_and_never_negative() -> None:
    a, b = TP("events.email", 0), TP("events.email", 1)
    consumer = FakeConsumer(ends={a: 7, b: 3}, committed={b: 5}, read={})
    lag, _ = consumer_lag(consumer, ["events.email"])
    assert lag == {"events.email": 7}
